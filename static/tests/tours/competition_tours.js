/** @odoo-module **/
// Competitors on open deals and the Competitive Analysis. The records are
// created by tests/test_competition_ui.py, which also checks the database
// afterwards.
import {registry} from "@web/core/registry";
import {stepUtils} from "@web_tour/tour_service/tour_utils";

const tours = registry.category("web_tour.tours");

function addCompetitor(name, strengths) {
    return [
        {
            content: "Add a line to the Competition tab",
            trigger:
                ".o_field_widget[name=competitor_line_ids] .o_field_x2many_list_row_add a",
            run: "click",
        },
        {
            content: `Type the competitor ${name}`,
            trigger:
                ".o_field_widget[name=competitor_line_ids] .o_selected_row .o_field_widget[name=competitor_id] input",
            run: `edit ${name}`,
        },
        {
            content: `Pick ${name}`,
            trigger: `.o-autocomplete--dropdown-menu .ui-menu-item a:contains("${name}")`,
            run: "click",
        },
        {
            content: "Note where they are stronger",
            trigger:
                ".o_field_widget[name=competitor_line_ids] .o_selected_row .o_field_widget[name=strengths] textarea",
            run: `edit ${strengths}`,
        },
    ];
}

// Pipeline > opportunity > Competition tab > two competitors > Lost > the
// dialog shows them > lost to one of them.
tours.add("crm_lost_management_competition_lose", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("crm.crm_menu_root", "Open the CRM app"),
        {
            content: "The pipeline is shown",
            trigger: ".o_opportunity_kanban .o_kanban_record",
            // the first page of a run also builds the assets: give it time
            timeout: 30000,
        },
        {
            content: "Open the opportunity",
            trigger: '.o_kanban_record:contains("CLM Tour Competition Opp")',
            run: "click",
        },
        {
            content: "Open the Competition tab",
            trigger: ".o_form_view .o_notebook .nav-link:contains(/^Competition$/)",
            run: "click",
        },
        ...addCompetitor("CLM Rival Inc", "Cheaper by 10%"),
        ...addCompetitor("CLM Tour Bravo", "Local installers"),
        {
            content: "Save the opportunity",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            content: "Saved: two competitors on the tab",
            trigger:
                ".o_form_view .o_form_saved .o_field_widget[name=competitor_line_ids] .o_data_row:contains('CLM Tour Bravo')",
        },
        {
            content: "Both competitors are listed",
            trigger:
                ".o_field_widget[name=competitor_line_ids] .o_data_row:contains('CLM Rival Inc')",
        },
        {
            content: "Click Lost in the form header",
            trigger: ".o_form_view .o_statusbar_buttons button:contains(/^Lost$/)",
            run: "click",
        },
        {
            content: "The dialog shows the competitors faced",
            trigger:
                ".modal div[name=proposed_competitors_hint]:has(.o_tag:contains('CLM Rival Inc')):has(.o_tag:contains('CLM Tour Bravo'))",
        },
        {
            content: "Pick the lost reason",
            trigger: ".modal .o_field_widget[name=lost_reason_id] input",
            run: "edit CLM Chose a competitor",
        },
        {
            content: "Pick CLM Chose a competitor",
            trigger:
                '.modal .o-autocomplete--dropdown-menu .ui-menu-item a:contains("CLM Chose a competitor")',
            run: "click",
        },
        {
            content: "The competitor lost to: one of those faced",
            trigger: ".modal .o_field_widget[name=lost_competitor_id] input",
            run: "edit CLM Tour Bravo",
        },
        {
            content: "Pick CLM Tour Bravo",
            trigger:
                '.modal .o-autocomplete--dropdown-menu .ui-menu-item a:contains("CLM Tour Bravo")',
            run: "click",
        },
        {
            content: "The competitor is set",
            trigger:
                '.modal .o_field_widget[name=lost_competitor_id] input:value("CLM Tour Bravo")',
        },
        {
            content: "Mark as Lost",
            trigger: ".modal button[name=action_lost_reason_apply]",
            run: "click",
        },
        {
            content: "The dialog is closed",
            trigger: "body:not(:has(.modal))",
        },
        {
            content: "The red Lost ribbon shows",
            trigger: ".o_form_view .ribbon:contains(Lost)",
        },
        {
            content: "The lost block names the competitor",
            trigger:
                '.o_form_view .o_field_widget[name=lost_competitor_id] :contains("CLM Tour Bravo"), .o_form_view .o_field_widget[name=lost_competitor_id] input:value("CLM Tour Bravo")',
        },
        {
            content: "The Competition tab is read-only once lost",
            trigger:
                ".o_field_widget[name=competitor_line_ids]:not(:has(.o_field_x2many_list_row_add))",
        },
    ],
});

// CRM > Reporting > Competitive Analysis > Group By > Salesperson.
tours.add("crm_lost_management_competitive_analysis", {
    url: "/odoo",
    steps: () => [
        stepUtils.showAppsMenuItem(),
        {
            trigger: ".o_app[data-menu-xmlid='crm.crm_menu_root']",
            content: "Open CRM",
            run: "click",
        },
        {
            trigger: ".o_main_navbar [data-menu-xmlid='crm.crm_menu_report']",
            content: "Open Reporting",
            run: "click",
        },
        {
            trigger:
                ".dropdown-menu [data-menu-xmlid='crm_lost_management.crm_lost_management_menu_competitive_analysis']",
            content: "Open Competitive Analysis",
            run: "click",
        },
        {
            trigger: ".o_breadcrumb:contains('Competitive Analysis')",
            content: "The Competitive Analysis is open",
        },
        {
            trigger: ".o_graph_view:not(.o_view_sample_data) .o_graph_renderer canvas",
            content: "A bar chart of real data is drawn",
        },
        {
            trigger: ".o_control_panel .o_searchview_dropdown_toggler",
            content: "Open the search options",
            run: "click",
        },
        {
            trigger: ".o_group_by_menu .o_menu_item:contains(/^Salesperson$/)",
            content: "Group By > Salesperson",
            run: "click",
        },
        {
            trigger: ".o_control_panel .o_searchview_dropdown_toggler",
            content: "Close the search options",
            run: "click",
        },
        {
            trigger: ".o_searchview_facet:contains(/^Salesperson$/)",
            content: "Grouped by salesperson",
        },
        {
            trigger: ".o_switch_view.o_pivot",
            content: "Switch to the pivot",
            run: "click",
        },
        {
            trigger: ".o_pivot tbody th:contains('Sally Own')",
            content: "A salesperson is a row",
        },
        {
            trigger: ".o_pivot tbody th:contains('Sam All')",
            content: "The other salesperson too",
        },
        {
            trigger: ".o_pivot thead th:contains('Win Rate (%)')",
            content: "The win rate is a measure",
        },
        {
            trigger:
                ".o_pivot tbody tr:has(th:contains('Sally Own')) td:contains('50.0')",
            content: "Sally won one of the two deals closed against competitors",
        },
    ],
});
