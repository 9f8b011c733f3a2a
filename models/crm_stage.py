# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import models


class CrmStage(models.Model):
    _inherit = "crm.stage"

    def write(self, vals):
        """A stage that becomes, or stops being, a won stage wins or reopens
        its active leads: their win records follow."""
        changed = self
        if "is_won" in vals:
            changed = self.filtered(lambda stage: stage.is_won != bool(vals["is_won"]))
        result = super().write(vals)
        if "is_won" in vals and changed:
            self.env["crm.lead.win"]._on_stages_changed(changed)
        return result
