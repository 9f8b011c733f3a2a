/** @odoo-module **/
// A lead moved to a won stage from the pipeline (drag and drop, crm_kanban)
// or from the stage bar of its form: when the company requires a won reason,
// the server answers with the Mark as Won dialog (reason, note, competitors
// beaten), which makes the move itself; otherwise stock's move runs unchanged.
import {CrmKanbanDynamicGroupList} from "@crm/views/crm_kanban/crm_kanban_model";
import {registry} from "@web/core/registry";
import {useService} from "@web/core/utils/hooks";
import {patch} from "@web/core/utils/patch";
import {
    StatusBarDurationField,
    statusBarDurationField,
} from "@mail/views/fields/statusbar_duration/statusbar_duration_field";

/**
 * @param {Object} orm
 * @param {number} leadId
 * @param {number} stageId
 * @param {Object} context
 * @returns {Promise<Object|false>} the Mark as Won dialog action, or false
 */
function getWonStageDialog(orm, leadId, stageId, context) {
    return orm.call("crm.lead", "crm_won_stage_dialog", [[leadId], stageId], {
        context,
    });
}

patch(CrmKanbanDynamicGroupList.prototype, {
    /**
     * A card dropped into a won stage stays where it was while the dialog is
     * open; the pipeline is reloaded once it is closed (moved and the rainbow
     * man when applied, unchanged when discarded).
     *
     * @override
     */
    async moveRecord(dataRecordId, dataGroupId, refId, targetGroupId) {
        const sourceGroup = this.groups.find((g) => g.id === dataGroupId);
        const targetGroup = this.groups.find((g) => g.id === targetGroupId);
        const record = sourceGroup?.list.records.find((r) => r.id === dataRecordId);
        if (
            this.resModel === "crm.lead" &&
            record &&
            targetGroup &&
            dataGroupId !== targetGroupId &&
            targetGroup.groupByField.name === "stage_id" &&
            targetGroup.value
        ) {
            const action = await getWonStageDialog(
                this.model.orm,
                record.resId,
                targetGroup.value,
                this.context
            );
            if (action) {
                const model = this.model;
                return model.env.services.action.doAction(action, {
                    onClose: async () => {
                        await model.load();
                        model.notify();
                    },
                });
            }
        }
        return super.moveRecord(...arguments);
    },
});

/**
 * Stage bar of the lead form (crm.crm_lead_view_form): pending changes are
 * saved first, as the Won button does, then the dialog opens; the lead is
 * reloaded once it is closed.
 */
export class CrmLostStatusBarDurationField extends StatusBarDurationField {
    setup() {
        super.setup();
        this.action = useService("action");
        this.orm = useService("orm");
    }

    /**
     * @override
     */
    async selectItem(item) {
        const {name, record} = this.props;
        if (record.resModel !== "crm.lead" || name !== "stage_id") {
            return super.selectItem(...arguments);
        }
        if (record.isNew && !(await record.save())) {
            return;
        }
        const action = await getWonStageDialog(
            this.orm,
            record.resId,
            item.value,
            record.context
        );
        if (!action) {
            return super.selectItem(...arguments);
        }
        if (!(await record.save())) {
            return;
        }
        return this.action.doAction(action, {onClose: () => record.load()});
    }
}

registry.category("fields").add("crm_lost_statusbar_duration", {
    ...statusBarDurationField,
    component: CrmLostStatusBarDurationField,
});
