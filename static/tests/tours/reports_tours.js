/** @odoo-module **/

import {registry} from "@web/core/registry";
import {stepUtils} from "@web_tour/tour_service/tour_utils";

// Data: tests/test_reports_ui.py (lost leads of this year with the reasons
// "CLM Tour Budget Freeze" / "CLM Tour Picked Rival", salespeople Sally Own
// and Sam All, and one open lead "CLM Tour Open Deal").

function openCrmReport(menuXmlid) {
    return [
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
            trigger: `.dropdown-menu [data-menu-xmlid='${menuXmlid}']`,
            content: "Open the report",
            run: "click",
        },
    ];
}

function toggleSearchMenu() {
    return {
        trigger: ".o_control_panel .o_searchview_dropdown_toggler",
        content: "Toggle the search panel menu",
        run: "click",
    };
}

registry.category("web_tour.tours").add("crm_lost_analysis_tour", {
    url: "/odoo",
    steps: () => [
        ...openCrmReport("crm_lost_management.crm_lost_management_menu_lost_analysis"),
        {
            trigger: ".o_breadcrumb:contains('Lost Analysis')",
            content: "The Lost Analysis is open",
        },
        {
            trigger: ".o_searchview_facet:contains('Lost On')",
            content: "Losses of this year are shown by default",
        },
        {
            trigger: ".o_graph_view:not(.o_view_sample_data) .o_graph_renderer canvas",
            content: "A bar chart of real data is drawn",
        },
        {
            trigger: ".o_switch_view.o_pivot",
            content: "Switch to the pivot",
            run: "click",
        },
        {
            trigger: ".o_pivot tbody th:contains('CLM Tour Budget Freeze')",
            content: "Rows are the lost reasons",
        },
        {
            trigger: ".o_pivot thead th.o_pivot_header_cell_opened:contains('Total')",
            content: "Collapse the columns (sales teams)",
            run: "click",
        },
        {
            trigger: ".o_pivot thead th.o_pivot_header_cell_closed:contains('Total')",
            content: "Open the group by menu of the columns",
            run: "click",
        },
        {
            trigger: ".dropdown-menu .o_menu_item:contains('Salesperson')",
            content: "Group the columns by salesperson",
            run: "click",
        },
        {
            trigger: ".o_pivot thead th:contains('Sally Own')",
            content: "A salesperson of the losses is a column",
        },
        {
            trigger: ".o_pivot thead th:contains('Sam All')",
            content: "The other salesperson too",
        },
        {
            trigger:
                ".o_pivot tbody tr:has(th:contains('CLM Tour Picked Rival')) td.o_pivot_cell_value:not(.o_empty):last",
            content: "Open the losses of a reason",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('CLM Tour Lost Deal 3')",
            content: "The loss of that reason is listed",
        },
        {
            trigger:
                ".o_list_view:not(:has(.o_data_row:contains('CLM Tour Lost Deal 1')))",
            content: "Losses of other reasons are not",
        },
        {
            trigger:
                ".o_list_view .o_data_row:contains('CLM Tour Lost Deal 3') td.o_data_cell",
            content: "Open the loss",
            run: "click",
        },
        {
            trigger: ".o_form_view button[name='action_open_lead']",
            content: "Open the lost opportunity",
            run: "click",
        },
        {
            trigger: ".o_breadcrumb .active:contains('CLM Tour Lost Deal 3')",
            content: "The archived opportunity is open",
        },
        {
            trigger: ".o_form_view .ribbon:contains('Lost')",
            content: "It is shown as lost",
        },
    ],
});

registry.category("web_tour.tours").add("crm_lost_seed_report_tour", {
    url: "/odoo",
    steps: () => [
        ...openCrmReport("crm.crm_opportunity_report_menu_lead"),
        {
            trigger: ".o_breadcrumb:contains('Leads Analysis')",
            content: "The Leads Analysis is open",
        },
        {
            trigger: ".o_graph_renderer canvas",
            content: "The graph is drawn",
        },
        toggleSearchMenu(),
        {
            trigger: ".o_filter_menu .o_menu_item:contains(/^Lost$/)",
            content: "Filters > Lost",
            run: "click",
        },
        {
            // Active, Inactive, Won and Lost are one group of the search view
            // (OR-ed): keep Lost only
            trigger: ".o_filter_menu .o_menu_item.selected:contains(/^Active$/)",
            content: "Untick Active",
            run: "click",
        },
        {
            trigger: ".o_filter_menu .o_menu_item.selected:contains(/^Inactive$/)",
            content: "Untick Inactive",
            run: "click",
        },
        {
            trigger: ".o_group_by_menu .o_menu_item:contains(/^Lost Reason$/)",
            content: "Group By > Lost Reason",
            run: "click",
        },
        {
            trigger: ".o_group_by_menu .o_menu_item:contains(/^Salesperson$/)",
            content: "Group By > Salesperson",
            run: "click",
        },
        toggleSearchMenu(),
        {
            trigger:
                ".o_searchview_facet:has(.o_facet_value:contains(/^Lost$/)):not(:has(.o_facet_value:contains(/^Active$/))):not(:has(.o_facet_value:contains(/^Inactive$/)))",
            content: "Only the Lost filter is applied",
        },
        {
            trigger:
                ".o_searchview_facet:has(.o_facet_value:contains(/^Lost Reason$/)):has(.o_facet_value:contains(/^Salesperson$/))",
            content: "Grouped by lost reason, then salesperson",
        },
        {
            trigger: ".o_graph_view:not(.o_view_sample_data) .o_graph_renderer canvas",
            content: "The graph is drawn",
        },
        {
            trigger: ".o_switch_view.o_pivot",
            content: "Switch to the pivot",
            run: "click",
        },
        {
            trigger: ".o_pivot tbody th:contains('CLM Tour Budget Freeze')",
            content: "A lost reason is a row",
        },
        {
            trigger: ".o_pivot tbody th:contains('CLM Tour Picked Rival')",
            content: "The other lost reason too",
        },
        {
            trigger: ".o_switch_view.o_list",
            content: "Switch to the list",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_group_header:contains('CLM Tour Budget Freeze')",
            content: "Open the group of a reason",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_group_header:contains('Sally Own')",
            content: "Open the group of a salesperson",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row:contains('CLM Tour Lost Deal 1')",
            content: "Her lost opportunity is listed",
        },
        {
            trigger:
                ".o_list_view:not(:has(.o_data_row:contains('CLM Tour Open Deal')))",
            content: "Her open opportunity is not",
        },
    ],
});
