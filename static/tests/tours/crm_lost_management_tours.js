/** @odoo-module **/
// What a salesperson or a sales manager clicks to lose, restore and configure,
// following the paths of the CRM documentation. The records are created by
// tests/test_ui.py, which also checks the database afterwards.
import {registry} from "@web/core/registry";
import {stepUtils} from "@web_tour/tour_service/tour_utils";

const tours = registry.category("web_tour.tours");

function openPipeline() {
    return [
        ...stepUtils.goToAppSteps("crm.crm_menu_root", "Open the CRM app"),
        {
            content: "The pipeline is shown",
            trigger: ".o_opportunity_kanban .o_kanban_record",
        },
    ];
}

function switchToList() {
    return [
        {
            content: "Switch to the list view",
            trigger: ".o_control_panel .o_switch_view.o_list",
            run: "click",
        },
        {
            content: "The list view is shown",
            trigger: ".o_list_view .o_data_row",
        },
    ];
}

function filterLost() {
    return [
        {
            content: "Open the search options",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
        {
            content: "Filters > Lost",
            trigger: ".o_filter_menu .o_menu_item:contains(/^Lost$/)",
            run: "click",
        },
        {
            content: "The Lost filter is applied",
            trigger: ".o_searchview_facet:contains(/^Lost$/)",
        },
        {
            content: "Close the search options",
            trigger: ".o_searchview_dropdown_toggler",
            run: "click",
        },
    ];
}

function selectRows(names) {
    return names.flatMap((name) => [
        {
            content: `Select ${name}`,
            trigger: `.o_data_row:contains("${name}") .o_list_record_selector input`,
            run: "check",
        },
        {
            content: `${name} is selected`,
            trigger: `.o_data_row.o_data_row_selected:contains("${name}")`,
        },
    ]);
}

function listAction(itemTrigger, content) {
    return [
        {
            content: "Open the Actions menu of the selection",
            trigger:
                ".o_list_selection_container .o_cp_action_menus button:contains(Actions)",
            run: "click",
        },
        {
            content,
            trigger: `.o-dropdown--menu .o_menu_item${itemTrigger}`,
            run: "click",
        },
    ];
}

function markAsLostDialog(reason, note) {
    const steps = [
        {
            content: "The Mark as Lost dialog asks for a lost reason",
            trigger: ".modal .o_field_widget[name=lost_reason_id] input",
            run: `edit ${reason}`,
        },
        {
            content: `Pick the lost reason ${reason}`,
            trigger: `.modal .o-autocomplete--dropdown-menu .ui-menu-item a:contains("${reason}")`,
            run: "click",
        },
        {
            content: "The reason is set",
            trigger: `.modal .o_field_widget[name=lost_reason_id] input:value("${reason}")`,
        },
    ];
    if (note) {
        steps.push(
            {
                content: "Focus the closing note",
                trigger:
                    ".modal .o_field_html[name=lost_feedback] .odoo-editor-editable",
                run: "click",
            },
            {
                content: "Type the closing note",
                trigger:
                    ".modal .o_field_html[name=lost_feedback] .odoo-editor-editable",
                run: `editor ${note}`,
            }
        );
    }
    steps.push(
        {
            content: "Mark as Lost",
            trigger: ".modal button[name=action_lost_reason_apply]",
            run: "click",
        },
        {
            content: "The dialog is closed",
            trigger: "body:not(:has(.modal))",
        }
    );
    return steps;
}

// 1. Pipeline > opportunity > Lost > reason + closing note > Mark as Lost.
tours.add("crm_lost_management_form_mark_lost", {
    url: "/odoo",
    steps: () => [
        ...openPipeline(),
        {
            content: "Open the opportunity",
            trigger: '.o_kanban_record:contains("CLM Tour Form Opp")',
            run: "click",
        },
        {
            content: "Click Lost in the form header",
            trigger: ".o_form_view .o_statusbar_buttons button:contains(/^Lost$/)",
            run: "click",
        },
        ...markAsLostDialog(
            "CLM Other (explain)",
            "CLM tour: the customer went silent"
        ),
        {
            content: "The red Lost ribbon shows",
            trigger:
                '.o_form_view:has(.o_field_widget[name=name] :value("CLM Tour Form Opp")) .ribbon:contains(Lost)',
        },
        {
            content: "The lost block shows the reason",
            trigger:
                '.o_form_view .o_field_widget[name=lost_reason_id] input:value("CLM Other (explain)")',
        },
        {
            content: "The Losses smart button counts the loss",
            trigger:
                ".o_form_view .oe_stat_button:contains(Losses) .o_stat_value:contains(1)",
        },
        {
            content: "The Restore button replaces Lost",
            trigger:
                ".o_form_view .o_statusbar_buttons button[name=action_open_restore_wizard]",
        },
    ],
});

// 2. Pipeline list > select opportunities > Actions > Mark Lost.
tours.add("crm_lost_management_list_mark_lost", {
    url: "/odoo",
    steps: () => [
        ...openPipeline(),
        ...switchToList(),
        ...selectRows(["CLM Tour Batch Opp A", "CLM Tour Batch Opp B"]),
        ...listAction(":contains(/^Mark Lost$/)", "Actions > Mark Lost"),
        ...markAsLostDialog("CLM Too expensive"),
        {
            content: "The lost opportunities left the pipeline list",
            trigger:
                '.o_list_view:not(:has(.o_data_row:contains("CLM Tour Batch Opp"))):not(:has(.o_data_row_selected))',
        },
        {
            content: "The other opportunity is still there",
            trigger: '.o_list_view .o_data_row:contains("CLM Tour Batch Kept")',
        },
    ],
});

// 3. Pipeline > Filters > Lost > lost opportunity > Restore.
tours.add("crm_lost_management_form_restore", {
    url: "/odoo",
    steps: () => [
        ...openPipeline(),
        ...filterLost(),
        {
            content: "Open the lost opportunity",
            trigger: '.o_kanban_record:contains("CLM Tour Lost Opp")',
            run: "click",
        },
        {
            content: "It wears the Lost ribbon",
            trigger: ".o_form_view .ribbon:contains(Lost)",
        },
        {
            content: "Click Restore in the form header",
            trigger:
                ".o_form_view .o_statusbar_buttons button[name=action_open_restore_wizard]",
            run: "click",
        },
        {
            content: "Say why it comes back",
            trigger: ".modal .o_field_widget[name=restore_note] textarea",
            run: "edit CLM tour: budget approved after all",
        },
        {
            content: "Confirm Restore",
            trigger: ".modal button[name=action_restore]",
            run: "click",
        },
        {
            content: "The dialog is closed",
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "The opportunity is active again: no ribbon, Lost button back",
            trigger:
                ".o_form_view:not(:has(.ribbon)) .o_statusbar_buttons button:contains(/^Lost$/)",
        },
    ],
});

// 4. Configuration > Lost Reasons > New > name > Save.
tours.add("crm_lost_management_create_reason", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("crm.crm_menu_root", "Open the CRM app"),
        {
            content: "Open Configuration",
            trigger: 'button[data-menu-xmlid="crm.crm_menu_config"]',
            run: "click",
        },
        {
            content: "Configuration > Lost Reasons",
            trigger: 'a[data-menu-xmlid="crm.menu_crm_lost_reason"]',
            run: "click",
        },
        {
            content: "The lost reasons are listed",
            trigger: '.o_list_view .o_data_row:contains("CLM Too expensive")',
        },
        {
            content: "Click New",
            trigger: ".o_control_panel .o_list_button_add",
            run: "click",
        },
        {
            content: "Type the new lost reason",
            trigger: ".o_data_row.o_selected_row .o_field_widget[name=name] input",
            run: "edit CLM Tour Created Reason",
        },
        {
            content: "Save",
            trigger: ".o_control_panel .o_list_button_save",
            run: "click",
        },
        {
            content: "The new lost reason is saved in the list",
            trigger:
                '.o_list_view:not(:has(.o_selected_row)) .o_data_row:contains("CLM Tour Created Reason")',
        },
    ],
});

// 5. List with the Lost filter > select > Actions > Unarchive.
tours.add("crm_lost_management_list_unarchive", {
    url: "/odoo",
    steps: () => [
        ...openPipeline(),
        ...switchToList(),
        ...filterLost(),
        ...selectRows(["CLM Tour Unarchive Opp A", "CLM Tour Unarchive Opp B"]),
        ...listAction(":has(i.oi-unarchive)", "Actions > Unarchive"),
        {
            content: "The restored opportunities left the list of lost ones",
            trigger:
                '.o_list_view:not(:has(.o_data_row:contains("CLM Tour Unarchive Opp")))',
        },
        {
            content: "Remove the Lost filter",
            trigger: ".o_searchview_facet:contains(/^Lost$/) .o_facet_remove",
            run: "click",
        },
        {
            content: "The Lost filter is removed",
            trigger:
                ".o_control_panel:not(:has(.o_searchview_facet:contains(/^Lost$/)))",
        },
        {
            content: "The first one is back in the pipeline",
            trigger: '.o_list_view .o_data_row:contains("CLM Tour Unarchive Opp A")',
        },
        {
            content: "The second one is back in the pipeline",
            trigger: '.o_list_view .o_data_row:contains("CLM Tour Unarchive Opp B")',
        },
    ],
});

// 6. Archive (list, form and forecast list action menus) asks for a lost
// reason when the company requires one.
const markAsLostInsteadOfConfirmation = {
    content: "The Mark as Lost dialog opens, not the archive confirmation",
    trigger:
        "body:not(:has(.modal:contains(Are you sure that you want to archive))) .modal button[name=action_lost_reason_apply]",
};

function formAction(itemTrigger, content) {
    return [
        {
            content: "Open the gear menu of the form",
            trigger: ".o_form_view .o_cp_action_menus button:has(i.fa-cog)",
            run: "click",
        },
        {
            content,
            trigger: `.o-dropdown--menu .o_menu_item${itemTrigger}`,
            run: "click",
        },
    ];
}

function confirmationDialog(body, button) {
    return [
        {
            content: "Stock's archive confirmation opens, not the Mark as Lost dialog",
            trigger: `.modal:not(:has(button[name=action_lost_reason_apply])) .modal-body:contains(${body})`,
        },
        {
            content: button,
            trigger: `.modal .modal-footer button:contains(/^${button}$/)`,
            run: "click",
        },
        {
            content: "The confirmation is closed",
            trigger: "body:not(:has(.modal))",
        },
    ];
}

tours.add("crm_lost_management_archive_asks_reason", {
    url: "/odoo",
    steps: () => [
        ...openPipeline(),
        ...switchToList(),
        ...selectRows(["CLM Tour Archive List Opp"]),
        ...listAction(":has(i.oi-archive)", "Actions > Archive"),
        markAsLostInsteadOfConfirmation,
        ...markAsLostDialog("CLM Too expensive"),
        {
            content: "The opportunity left the list",
            trigger:
                '.o_list_view:not(:has(.o_data_row:contains("CLM Tour Archive List Opp")))',
        },
        {
            content: "Open the other opportunity",
            trigger:
                '.o_data_row:contains("CLM Tour Archive Form Opp") .o_data_cell[name=name]',
            run: "click",
        },
        ...formAction(":has(i.oi-archive)", "Archive"),
        markAsLostInsteadOfConfirmation,
        ...markAsLostDialog("CLM Too expensive"),
        {
            content: "The red Lost ribbon shows",
            trigger: ".o_form_view .ribbon:contains(Lost)",
        },
        // crm's forecast list keeps its search model (forecast filter)
        {
            content: "Open Reporting",
            trigger: 'button[data-menu-xmlid="crm.crm_menu_report"]',
            run: "click",
        },
        {
            content: "Reporting > Forecast",
            trigger: 'a[data-menu-xmlid="crm.crm_menu_forecast"]',
            run: "click",
        },
        {
            content: "The forecast is shown",
            trigger:
                '.o_kanban_view .o_kanban_record:contains("CLM Tour Archive Forecast Opp")',
        },
        {
            content: "Switch to the list view",
            trigger: ".o_control_panel .o_switch_view.o_list",
            run: "click",
        },
        {
            content: "The forecast list is shown, grouped by expected closing",
            trigger: ".o_list_view .o_group_header",
        },
        {
            content: "Remove the grouping by expected closing",
            trigger: ".o_searchview_facet:has(.oi-group) .o_facet_remove",
            run: "click",
        },
        {
            content: "The forecast list is no longer grouped",
            trigger: ".o_list_view:not(:has(.o_group_header)) .o_data_row",
        },
        {
            content: "The forecast list shows upcoming closings only",
            trigger:
                '.o_list_view:not(:has(.o_data_row:contains("CLM Tour Forecast Past Opp"))) .o_data_row:contains("CLM Tour Archive Forecast Opp")',
        },
        ...selectRows(["CLM Tour Archive Forecast Opp"]),
        ...listAction(":has(i.oi-archive)", "Actions > Archive"),
        markAsLostInsteadOfConfirmation,
        ...markAsLostDialog("CLM Too expensive"),
        {
            content: "The opportunity left the forecast list",
            trigger:
                '.o_list_view:not(:has(.o_data_row:contains("CLM Tour Archive Forecast Opp")))',
        },
    ],
});

// 6b. Without a required lost reason, Archive asks stock's confirmation.
tours.add("crm_lost_management_archive_confirms", {
    url: "/odoo",
    steps: () => [
        ...openPipeline(),
        ...switchToList(),
        ...selectRows(["CLM Tour Confirm List Opp"]),
        ...listAction(":has(i.oi-archive)", "Actions > Archive"),
        ...confirmationDialog(
            "Are you sure that you want to archive all the selected records?",
            "Cancel"
        ),
        {
            content: "Cancelled: the opportunity is still listed",
            trigger: '.o_list_view .o_data_row:contains("CLM Tour Confirm List Opp")',
        },
        ...listAction(":has(i.oi-archive)", "Actions > Archive, again"),
        ...confirmationDialog(
            "Are you sure that you want to archive all the selected records?",
            "Archive"
        ),
        {
            content: "The opportunity left the list",
            trigger:
                '.o_list_view:not(:has(.o_data_row:contains("CLM Tour Confirm List Opp")))',
        },
        {
            content: "Open the other opportunity",
            trigger:
                '.o_data_row:contains("CLM Tour Confirm Form Opp") .o_data_cell[name=name]',
            run: "click",
        },
        ...formAction(":has(i.oi-archive)", "Archive"),
        ...confirmationDialog(
            "Are you sure that you want to archive this record?",
            "Archive"
        ),
        {
            content: "The red Lost ribbon shows",
            trigger: ".o_form_view .ribbon:contains(Lost)",
        },
    ],
});

// 7. The "Mark Lost" link of notification emails opens the Mark as Lost dialog
// over the opportunity, which stays shown once the dialog is closed. No url:
// the tests start these tours on the link (a tour url would redirect).
const linkDialog = {
    content: "The Mark as Lost dialog is open",
    trigger: ".modal:has(button[name=action_lost_reason_apply])",
};

tours.add("crm_lost_management_mark_lost_link", {
    steps: () => [
        linkDialog,
        ...markAsLostDialog("CLM Too expensive", "CLM tour: lost from the email link"),
        {
            content: "The opportunity is shown with the red Lost ribbon",
            trigger:
                '.o_form_view:has(.o_field_widget[name=name] :value("CLM Tour Link Opp")) .ribbon:contains(Lost)',
        },
    ],
});

tours.add("crm_lost_management_mark_lost_link_cancel", {
    steps: () => [
        linkDialog,
        {
            content: "Cancel",
            trigger: ".modal .modal-footer button:contains(Cancel)",
            run: "click",
        },
        {
            content: "The dialog is closed",
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "The opportunity is shown, still open",
            trigger:
                '.o_form_view:has(.o_field_widget[name=name] :value("CLM Tour Link Opp")):not(:has(.ribbon)) .o_statusbar_buttons button:contains(/^Lost$/)',
        },
    ],
});
