# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    def unlink(self):
        """Stock's mail.activity.mixin deletes the planned activities of the
        records it archives (its ``write`` and ``toggle_active``). Archiving
        leads loses them: crm.lead names them in the context
        (``_crm_lost_sparing_activities``), and the activities they keep when
        lost (``crm.lead._crm_lost_kept_activities``) are spared."""
        lead_ids = self.env.context.get("crm_lost_archived_lead_ids")
        if not lead_ids or not self:
            return super().unlink()
        leads = self.env["crm.lead"].browse(lead_ids)
        kept = leads._crm_lost_kept_activities(self)
        return super(MailActivity, self - kept).unlink()
