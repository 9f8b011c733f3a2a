/** @odoo-module **/
// Lists of leads (crm.crm_case_tree_view_oppor, crm.crm_case_tree_view_leads
// and the forecast list): Archive asks for a lost reason when one is required.
import {forecastListView} from "@crm/views/forecast_list/forecast_list_view";
import {registry} from "@web/core/registry";
import {ListController} from "@web/views/list/list_controller";
import {listView} from "@web/views/list/list_view";
import {useCrmLostArchive} from "./crm_lost_archive_hook";

export class CrmLostListController extends ListController {
    setup() {
        super.setup();
        this.crmLostArchive = useCrmLostArchive();
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
