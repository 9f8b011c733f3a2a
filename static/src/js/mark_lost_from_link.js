/** @odoo-module **/
// Target of the "Mark Lost" link of notification emails when a lost reason is
// required (see controllers/main.py): show the lead, then the Mark as Lost
// dialog over it; closing the dialog leaves the user on the (reloaded) lead.
import {registry} from "@web/core/registry";

async function markLostFromLink(env, action) {
    const leadId = action.context?.active_id || action.params?.lead_id;
    const openLead = (options = {}) =>
        env.services.action.doAction(
            {
                type: "ir.actions.act_window",
                res_model: "crm.lead",
                res_id: leadId,
                views: [[false, "form"]],
                target: "current",
            },
            options
        );
    await openLead({clearBreadcrumbs: true});
    await env.services.action.doAction("crm.crm_lead_lost_action", {
        additionalContext: {
            active_id: leadId,
            active_ids: [leadId],
            active_model: "crm.lead",
        },
        onClose: () => openLead({stackPosition: "replaceCurrentAction"}),
    });
}

registry.category("actions").add("crm_lost_mark_lost_from_link", markLostFromLink);
