/** @odoo-module **/
// Archive in the action menu of leads: ask for a lost reason (Mark as Lost
// wizard) when the company requires one, instead of archiving silently.
import {patch} from "@web/core/utils/patch";
import {FormController} from "@web/views/form/form_controller";
import {ListController} from "@web/views/list/list_controller";

async function archiveOrMarkLost(controller, resIds, reload) {
    const action = await controller.model.orm.call(
        "crm.lead",
        "action_archive_or_mark_lost",
        [resIds],
        {context: controller.props.context}
    );
    if (action && Object.keys(action).length) {
        return controller.model.action.doAction(action, {onClose: reload});
    }
    return reload();
}

patch(ListController.prototype, {
    getStaticActionMenuItems() {
        const items = super.getStaticActionMenuItems(...arguments);
        if (this.props.resModel === "crm.lead" && items.archive) {
            items.archive = {
                ...items.archive,
                callback: async () => {
                    const resIds = await this.model.root.getResIds(true);
                    return archiveOrMarkLost(this, resIds, () => this.model.load());
                },
            };
        }
        return items;
    },
});

patch(FormController.prototype, {
    getStaticActionMenuItems() {
        const items = super.getStaticActionMenuItems(...arguments);
        if (this.props.resModel === "crm.lead" && items.archive) {
            items.archive = {
                ...items.archive,
                callback: async () => {
                    const record = this.model.root;
                    if (!(await record.save())) {
                        return;
                    }
                    return archiveOrMarkLost(this, [record.resId], () => record.load());
                },
            };
        }
        return items;
    },
});
