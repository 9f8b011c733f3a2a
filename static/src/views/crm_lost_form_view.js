/** @odoo-module **/
// Lead form (crm.crm_lead_view_form, js_class crm_form in stock): crm's form
// view with a controller whose Archive asks for a lost reason when one is
// required. The form saves pending changes before running the entry.
import "@crm/views/crm_form/crm_form";
import {registry} from "@web/core/registry";
import {useCrmLostArchive} from "./crm_lost_archive_hook";

const crmFormView = registry.category("views").get("crm_form");

export class CrmLostFormController extends crmFormView.Controller {
    setup() {
        super.setup();
        this.crmLostArchive = useCrmLostArchive();
    }

    getStaticActionMenuItems() {
        const items = super.getStaticActionMenuItems(...arguments);
        items.archive = this.crmLostArchive(items.archive, async () => [
            this.model.root.resId,
        ]);
        return items;
    }
}

export const crmLostFormView = {
    ...crmFormView,
    Controller: CrmLostFormController,
};

registry.category("views").add("crm_lost_form", crmLostFormView);
