# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class CrmLeadRestore(models.TransientModel):
    _name = "crm.lead.restore"
    _description = "Restore Lost Leads"

    lead_ids = fields.Many2many(
        "crm.lead", string="Leads", context={"active_test": False}
    )
    restore_note = fields.Text(
        "Note", help="Why these leads come back; kept on their loss records."
    )
    stage_id = fields.Many2one(
        "crm.stage",
        string="Stage",
        help="Stage to restore the opportunities to. Empty: the stage they were "
        "lost in.",
    )

    @api.readonly
    def onchange(self, values, field_names, fields_spec):
        """Defaults only: with a read replica (``--db_replica_host``), opening
        the dialog is served by it; *Restore* runs on the primary."""
        return super().onchange(values, field_names, fields_spec)

    def action_restore(self):
        self.ensure_one()
        # the whole selection, also leads the user may not read: restoring
        # them must fail on their access rights, not skip them silently
        leads = self.sudo().lead_ids.with_env(self.env)
        if not leads:
            raise UserError(
                _("Select at least one lost lead or opportunity to restore.")
            )
        # a user interface: a restore that wins leads (into a won stage) needs
        # a won reason when their company requires one
        leads.with_context(crm_won_check_reason=True)._action_restore(
            restore_note=self.restore_note, stage=self.stage_id
        )
        return {"type": "ir.actions.act_window_close"}
