/** @odoo-module **/
// Lists of leads (crm.crm_case_tree_view_oppor, crm.crm_case_tree_view_leads
// and the forecast list): Archive asks for a lost reason when one is required;
// a won stage given in the list (one row, or several with multi-edit) opens the
// Mark as Won dialog when a won reason is required.
import {forecastListView} from "@crm/views/forecast_list/forecast_list_view";
import {registry} from "@web/core/registry";
import {ListController} from "@web/views/list/list_controller";
import {listView} from "@web/views/list/list_view";
import {useCrmLostArchive} from "./crm_lost_archive_hook";
import {useService} from "@web/core/utils/hooks";

export class CrmLostListController extends ListController {
    setup() {
        super.setup();
        this.crmLostArchive = useCrmLostArchive();
        this.orm = useService("orm");
    }

    /**
     * When the stage given to ``resIds`` wins some of them and a won reason is
     * required, the Mark as Won dialog makes the move instead of the save; the
     * list is reloaded once it is closed (the edit is dropped).
     *
     * @returns {Promise<boolean>} whether the dialog replaces the save
     */
    async crmWonStageDialog(resIds, changes) {
        resIds = resIds.filter(Boolean);
        if (this.props.resModel !== "crm.lead" || !changes.stage_id || !resIds.length) {
            return false;
        }
        const action = await this.orm.call(
            "crm.lead",
            "crm_won_stage_dialog",
            [resIds, changes.stage_id],
            {context: this.props.context}
        );
        if (!action) {
            return false;
        }
        this.actionService.doAction(action, {onClose: () => this.model.load()});
        return true;
    }

    async onWillSaveRecord(record, changes) {
        if (await this.crmWonStageDialog([record.resId], changes)) {
            return false;
        }
        return super.onWillSaveRecord(...arguments);
    }

    async onWillSaveMulti(editedRecord, changes, validSelectedRecords) {
        const resIds = validSelectedRecords.map((record) => record.resId);
        if (await this.crmWonStageDialog(resIds, changes)) {
            return false;
        }
        return super.onWillSaveMulti(...arguments);
    }

    getStaticActionMenuItems() {
        const items = super.getStaticActionMenuItems(...arguments);
        items.archive = this.crmLostArchive(items.archive, () =>
            this.model.root.getResIds(true)
        );
        return items;
    }
}

export const crmLostListView = {
    ...listView,
    Controller: CrmLostListController,
};

export const crmLostForecastListView = {
    ...forecastListView,
    Controller: CrmLostListController,
};

registry.category("views").add("crm_lost_list", crmLostListView);
registry.category("views").add("crm_lost_forecast_list", crmLostForecastListView);
