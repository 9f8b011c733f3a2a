# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import http
from odoo.http import request

from odoo.addons.crm.controllers.main import CrmController
from odoo.addons.mail.controllers.mail import MailController


class CrmLostController(CrmController):
    @http.route()
    def crm_lead_case_mark_lost(self, res_id, token):
        """The "Mark Lost" link of notification emails: when a lost reason is
        required, open the Mark as Lost wizard instead of archiving silently."""
        comparison, record, redirect = (
            MailController._check_token_and_record_or_redirect(
                "crm.lead", int(res_id), token
            )
        )
        if (
            comparison
            and record
            and record.active
            and record._crm_lost_reason_required()
        ):
            action = request.env.ref(
                "crm_lost_management.crm_lead_action_client_mark_lost_from_link"
            )
            return request.redirect(f"/odoo/crm.lead/{record.id}/action-{action.id}")
        return super().crm_lead_case_mark_lost(res_id, token)
