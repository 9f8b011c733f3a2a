/** @odoo-module **/
// Mark as won with a reason: the Won button of the form and the pipeline's
// drag and drop into the won stage open the Mark as Won dialog when the
// company requires a won reason; without the setting, Won is stock's and the
// reason is given later on the form. The records are created by
// tests/test_ui_won.py, which also checks the database afterwards.
import {registry} from "@web/core/registry";
import {stepUtils} from "@web_tour/tour_service/tour_utils";

const tours = registry.category("web_tour.tours");

const WON_COLUMN =
    ".o_opportunity_kanban .o_kanban_group:has(.o_column_title:contains(/^Won$/))";

function openPipeline() {
    return [
        ...stepUtils.goToAppSteps("crm.crm_menu_root", "Open the CRM app"),
        {
            content: "The pipeline is shown",
            trigger: ".o_opportunity_kanban .o_kanban_record",
        },
    ];
}

function openOpportunity(name) {
    return [
        ...openPipeline(),
        {
            content: `Open ${name}`,
            trigger: `.o_kanban_record:contains("${name}")`,
            run: "click",
        },
        {
            content: "The form is shown",
            trigger: `.o_form_view .o_field_widget[name=name] :value("${name}")`,
        },
    ];
}

function pickMany2one(field, text) {
    return [
        {
            content: `Type ${text} in ${field}`,
            trigger: `.modal .o_field_widget[name=${field}] input`,
            run: `edit ${text}`,
        },
        {
            content: `Pick ${text}`,
            trigger: `.modal .o-autocomplete--dropdown-menu .ui-menu-item a:contains("${text}")`,
            run: "click",
        },
    ];
}

function markAsWonDialog({reason, competitor, note}) {
    const steps = [
        {
            content: "The Mark as Won dialog asks for a won reason",
            trigger:
                ".modal .o_field_widget[name=won_reason_id].o_required_modifier input",
        },
        ...pickMany2one("won_reason_id", reason),
        {
            content: "The reason is set",
            trigger: `.modal .o_field_widget[name=won_reason_id] input:value("${reason}")`,
        },
    ];
    if (competitor) {
        steps.push(...pickMany2one("won_competitor_ids", competitor), {
            content: "The competitor beaten is listed",
            trigger: `.modal .o_field_widget[name=won_competitor_ids] .o_tag:contains("${competitor}")`,
        });
    }
    if (note) {
        steps.push(
            {
                content: "Focus the win note",
                trigger: ".modal .o_field_html[name=won_note] .odoo-editor-editable",
                run: "click",
            },
            {
                content: "Type the win note",
                trigger: ".modal .o_field_html[name=won_note] .odoo-editor-editable",
                run: `editor ${note}`,
            }
        );
    }
    steps.push(
        {
            content: "Mark as Won",
            trigger: ".modal button[name=action_won_reason_apply]",
            run: "click",
        },
        {
            content: "The dialog is closed",
            trigger: "body:not(:has(.modal))",
        }
    );
    return steps;
}

// 1. Won Reason Required: opportunity > Won > reason, competitor, note > Mark
// as Won; the rainbow man, the Won ribbon and the reason on the form.
tours.add("crm_lost_management_form_mark_won", {
    url: "/odoo",
    steps: () => [
        ...openOpportunity("CLM Tour Won Form Opp"),
        {
            content: "Click Won in the form header",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_crm_won]",
            run: "click",
        },
        ...markAsWonDialog({
            reason: "CLM Better price",
            competitor: "CLM Rival Inc",
            note: "CLM tour: they matched our delivery date",
        }),
        {
            content: "The rainbow man celebrates the win",
            trigger: ".o_reward_rainbow",
        },
        {
            content: "The opportunity wears the Won ribbon",
            trigger: ".o_form_view .ribbon:contains(Won)",
        },
        {
            content: "The Won block shows the reason",
            trigger:
                '.o_form_view .o_field_widget[name=won_reason_id] input:value("CLM Better price")',
        },
        {
            content: "and the competitor beaten",
            trigger:
                '.o_form_view .o_field_widget[name=won_competitor_ids] .o_tag:contains("CLM Rival Inc")',
        },
    ],
});

function dragToWon(name) {
    return [
        ...openPipeline(),
        {
            content: `${name} is in the CLM Qualified column`,
            trigger: `.o_kanban_group:has(.o_column_title:contains(/^CLM Qualified$/)) .o_kanban_record:contains("${name}")`,
        },
        {
            content: `Drag ${name} into the Won column`,
            trigger: `.o_kanban_record:contains("${name}")`,
            run: `drag_and_drop (${WON_COLUMN})`,
        },
        {
            content: "The Mark as Won dialog opens",
            trigger: ".modal .o_field_widget[name=won_reason_id] input",
        },
        {
            content: "It moves the opportunity to the Won stage",
            trigger: '.modal .o_field_widget[name=stage_id]:contains("Won")',
        },
    ];
}

// 2. Won Reason Required: pipeline > drag a card into the Won column > the
// dialog > reason > Mark as Won; the card is in the Won column.
tours.add("crm_lost_management_kanban_drag_won", {
    url: "/odoo",
    steps: () => [
        ...dragToWon("CLM Tour Won Drag Opp"),
        ...markAsWonDialog({reason: "CLM Better price"}),
        {
            content: "The rainbow man celebrates the win",
            trigger: ".o_reward_rainbow",
        },
        {
            content: "The card is in the Won column",
            trigger: `${WON_COLUMN} .o_kanban_record:contains("CLM Tour Won Drag Opp")`,
        },
    ],
});

// 3. Won Reason Required: pipeline > drag a card into the Won column > the
// dialog > Cancel; the card is back in its column.
tours.add("crm_lost_management_kanban_drag_won_cancel", {
    url: "/odoo",
    steps: () => [
        ...dragToWon("CLM Tour Won Drag Opp"),
        {
            content: "Cancel the dialog",
            trigger: ".modal .modal-footer button:contains(Cancel)",
            run: "click",
        },
        {
            content: "The dialog is closed",
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "The card is still in the CLM Qualified column",
            trigger:
                '.o_kanban_group:has(.o_column_title:contains(/^CLM Qualified$/)) .o_kanban_record:contains("CLM Tour Won Drag Opp")',
        },
        {
            content: "and not in the Won column",
            trigger: `${WON_COLUMN}:not(:has(.o_kanban_record:contains("CLM Tour Won Drag Opp")))`,
        },
    ],
});

// 4. No Won Reason Required: opportunity > Won is stock's (rainbow man, no
// dialog); the reason is given afterwards in the Won block of the form.
tours.add("crm_lost_management_form_won_then_reason", {
    url: "/odoo",
    steps: () => [
        ...openOpportunity("CLM Tour Won Later Opp"),
        {
            content: "Click Won in the form header",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_crm_won]",
            run: "click",
        },
        {
            content: "The rainbow man celebrates the win, no dialog",
            trigger: "body:not(:has(.modal)) .o_reward_rainbow",
        },
        {
            content: "The opportunity wears the Won ribbon",
            trigger: ".o_form_view .ribbon:contains(Won)",
        },
        {
            content: "Type the won reason in the Won block",
            trigger: ".o_form_view .o_field_widget[name=won_reason_id] input",
            run: "edit CLM Better price",
        },
        {
            content: "Pick the won reason",
            trigger:
                '.o-autocomplete--dropdown-menu .ui-menu-item a:contains("CLM Better price")',
            run: "click",
        },
        {
            content: "Save",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Saved",
            trigger: ".o_form_view .o_form_saved",
        },
    ],
});

// 5. Won Reason Required: pipeline list > select two > give them the Won stage
// (multi-edit) > the dialog > reason > Mark as Won; both are won.
tours.add("crm_lost_management_list_stage_won", {
    url: "/odoo",
    steps: () => [
        ...openPipeline(),
        {
            content: "Switch to the list view",
            trigger: ".o_control_panel .o_switch_view.o_list",
            run: "click",
        },
        ...["CLM Tour Won List Opp A", "CLM Tour Won List Opp B"].flatMap((name) => [
            {
                content: `Select ${name}`,
                trigger: `.o_data_row:contains("${name}") .o_list_record_selector input`,
                run: "check",
            },
            {
                content: `${name} is selected`,
                trigger: `.o_data_row.o_data_row_selected:contains("${name}")`,
            },
        ]),
        {
            content: "Edit the stage of the selection",
            trigger:
                '.o_data_row:contains("CLM Tour Won List Opp A") .o_data_cell[name=stage_id]',
            run: "click",
        },
        {
            content: "Type Won",
            trigger:
                '.o_data_row:contains("CLM Tour Won List Opp A") .o_field_widget[name=stage_id] input',
            run: "edit Won",
        },
        {
            content: "Pick the Won stage",
            trigger: ".o-autocomplete--dropdown-menu .ui-menu-item a:contains(/^Won$/)",
            run: "click",
        },
        ...markAsWonDialog({reason: "CLM Better price"}),
        ...["CLM Tour Won List Opp A", "CLM Tour Won List Opp B"].map((name) => ({
            content: `${name} is in the Won stage`,
            trigger: `.o_data_row:contains("${name}") .o_data_cell[name=stage_id]:contains(/^Won$/)`,
        })),
    ],
});
