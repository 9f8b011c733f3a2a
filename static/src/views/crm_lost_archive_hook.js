/** @odoo-module **/
// Archive entry of the action menus of leads (views crm_lost_list,
// crm_lost_forecast_list and crm_lost_form): when the company requires a lost
// reason, the Mark as Lost dialog replaces stock's archive confirmation (the
// dialog is the confirmation); otherwise stock's entry runs unchanged
// (confirmation dialog, then archive).
import {useComponent} from "@odoo/owl";
import {useService} from "@web/core/utils/hooks";

export function useCrmLostArchive() {
    const component = useComponent();
    const actionService = useService("action");
    const orm = useService("orm");
    /**
     * @param {Object} archiveItem stock's "archive" action menu item
     * @param {() => Promise<number[]>} getResIds ids of the leads to archive
     * @returns {Object} the item to show instead
     */
    return (archiveItem, getResIds) => ({
        ...archiveItem,
        callback: async () => {
            const resIds = await getResIds();
            const context = component.props.context;
            const needsReason = await orm.call(
                "crm.lead",
                "crm_lost_archive_needs_reason",
                [resIds],
                {context}
            );
            if (!needsReason) {
                return archiveItem.callback();
            }
            // the server builds the wizard action (open leads of the selection)
            const action = await orm.call(
                "crm.lead",
                "action_archive_or_mark_lost",
                [resIds],
                {context}
            );
            const reload = () => component.model.load();
            if (action && Object.keys(action).length) {
                return actionService.doAction(action, {onClose: reload});
            }
            return reload();
        },
    });
}
