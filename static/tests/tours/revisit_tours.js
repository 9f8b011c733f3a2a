/** @odoo-module **/
// Re-engaging lost deals: a due revisit reaches its salesperson through the
// activity menu, and a manager brings a lost opportunity back with Revisit
// Now. The records are prepared by tests/test_revisit_ui.py, which also
// checks the database afterwards.
import {registry} from "@web/core/registry";

const tours = registry.category("web_tour.tours");

// 1. Activity menu (clock icon) > Other activities > the revisit activity.
tours.add("crm_lost_management_revisit_systray", {
    url: "/odoo",
    steps: () => [
        {
            content: "The activity menu counts the due revisit",
            trigger: ".o_menu_systray .o-mail-ActivityMenu-counter:contains(/^1$/)",
        },
        {
            content: "Open the activity menu",
            trigger: ".o_menu_systray button:has(i.fa-clock-o)",
            run: "click",
        },
        {
            content: "The revisit is not counted under Lead/Opportunity",
            trigger:
                ".o-mail-ActivityMenu:has(.o-mail-ActivityGroup):not(:has(.o-mail-ActivityGroup[data-model_name='crm.lead']))",
        },
        {
            content: "Open Other activities",
            trigger:
                ".o-mail-ActivityMenu .o-mail-ActivityGroup[data-model_name='mail.activity']:contains(Other activities)",
            run: "click",
        },
        {
            content: "The revisit activity of the lost opportunity is listed",
            trigger:
                '.o_list_view .o_data_row:contains("CLM Tour Revisit Opp"):contains("Revisit lost deal")',
        },
    ],
});

// 2. Lost opportunity form > Revisit Now.
tours.add("crm_lost_management_revisit_now", {
    steps: () => [
        {
            content: "The opportunity wears the Lost ribbon",
            trigger:
                '.o_form_view:has(.o_field_widget[name=name] :value("CLM Tour Revisit Now Opp")) .ribbon:contains(Lost)',
        },
        {
            content: "Click Revisit Now",
            trigger:
                ".o_form_view .o_statusbar_buttons button[name=action_revisit_now]",
            run: "click",
        },
        {
            content: "The opportunity is active again: no ribbon, Lost button back",
            trigger:
                ".o_form_view:not(:has(.ribbon)) .o_statusbar_buttons button:contains(/^Lost$/)",
        },
        {
            content: "The revisit activity is planned",
            trigger: '.o-mail-Chatter .o-mail-Activity:contains("Revisit lost deal")',
        },
    ],
});
