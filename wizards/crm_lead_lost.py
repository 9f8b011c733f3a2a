# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class CrmLeadLost(models.TransientModel):
    _inherit = "crm.lead.lost"

    # leads lost already stay in the selection (an x2many hides archived
    # records): they get the new reason, their open loss is updated (also
    # when another user lost them since the dialog was opened)
    lead_ids = fields.Many2many(context={"active_test": False})

    lost_feedback = fields.Html(sanitize_style=True)
    lost_competitor_id = fields.Many2one(
        "crm.lost.competitor",
        string="Competitor",
        compute="_compute_lost_competitor_id",
        store=True,
        readonly=False,
        help="The competitor the deals were lost to. Proposed when every deal of "
        "the selection faces the same single competitor (Competition tab): clear "
        "it if they were not lost to it.",
    )
    proposed_competitor_ids = fields.Many2many(
        "crm.lost.competitor",
        string="Competitors Faced",
        compute="_compute_proposed_competitor_ids",
        help="The competitors on the Competition tab of these deals.",
    )
    lost_revisit_date = fields.Date(
        "Revisit On",
        compute="_compute_lost_revisit_date",
        store=True,
        readonly=False,
        help="When to look at these leads again. Defaults from the lost reason.",
    )
    reason_required = fields.Boolean(compute="_compute_reason_required")
    note_required = fields.Boolean(related="lost_reason_id.note_required")
    competitor_required = fields.Boolean(related="lost_reason_id.competitor_required")
    reason_description = fields.Text(related="lost_reason_id.description")
    available_reason_ids = fields.Many2many(
        "crm.lost.reason", compute="_compute_available_reason_ids"
    )

    @api.depends("lead_ids")
    def _compute_lost_competitor_id(self):
        for wizard in self:
            # the same single competitor on every deal of the selection
            faced = {lead.competitor_line_ids.competitor_id for lead in wizard.lead_ids}
            only = faced.pop() if len(faced) == 1 else None
            wizard.lost_competitor_id = only if only and len(only) == 1 else False

    @api.depends("lead_ids")
    def _compute_proposed_competitor_ids(self):
        for wizard in self:
            wizard.proposed_competitor_ids = (
                wizard.lead_ids.competitor_line_ids.competitor_id
            )

    @api.depends("lost_reason_id")
    def _compute_lost_revisit_date(self):
        today = fields.Date.context_today(self)
        for wizard in self:
            days = wizard.lost_reason_id.revisit_after_days
            wizard.lost_revisit_date = today + timedelta(days=days) if days else False

    @api.depends("lead_ids")
    def _compute_reason_required(self):
        for wizard in self:
            wizard.reason_required = wizard.lead_ids._crm_lost_reason_required()

    @api.depends("lead_ids")
    def _compute_available_reason_ids(self):
        Reason = self.env["crm.lost.reason"]
        for wizard in self:
            wizard.available_reason_ids = Reason.search(
                Reason._get_usable_domain(wizard.lead_ids)
            )

    @api.model_create_multi
    def create(self, vals_list):
        self.env["crm.lead"]._crm_lost_check_references(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        self.env["crm.lead"]._crm_lost_check_references([vals])
        return super().write(vals)

    @api.readonly
    def onchange(self, values, field_names, fields_spec):
        """The dialog's defaults and dependent fields (usable reasons, revisit
        date, required flags) only read: with a read replica
        (``--db_replica_host``), opening the dialog and picking a reason are
        served by it. The dialog writes nothing before *Mark as Lost*, which
        runs on the primary."""
        return super().onchange(values, field_names, fields_spec)

    def _get_lost_errors(self):
        self.ensure_one()
        if not self.lead_ids:
            return [_("Select at least one lead or opportunity to mark as lost.")]
        errors = self.lead_ids._crm_lost_get_competitor_errors(self.lost_competitor_id)
        if errors:
            return errors
        if not self.lost_reason_id:
            if self.reason_required:
                return [
                    _(
                        "A lost reason is required to mark %(leads)s as lost. "
                        "Pick the reason why it was lost.",
                        leads=self.lead_ids._crm_lost_names(),
                    )
                ]
            return []
        return self.lost_reason_id._get_usage_errors(
            self.lead_ids,
            note=self.lost_feedback or "",
            competitor=self.lost_competitor_id,
        )

    def action_lost_reason_apply(self):
        """Validate the whole batch before anything is written."""
        self.ensure_one()
        # leads the user may not change would silently drop out of lead_ids
        # (record rules filter x2many reads): refuse the whole batch instead
        self.sudo().lead_ids.with_env(self.env).check_access("write")
        errors = self._get_lost_errors()
        if errors:
            raise UserError("\n".join(errors))
        if self.env["crm.lost.reason"]._is_note_empty(self.lost_feedback):
            # neither kept on the leads nor logged as a "Lost Comment"
            self.lost_feedback = False
        values = {
            "lost_feedback": self.lost_feedback,
            "lost_competitor_id": self.lost_competitor_id.id,
            "lost_revisit_date": self.lost_revisit_date,
        }
        return super(
            CrmLeadLost, self.with_context(crm_lost_values=values)
        ).action_lost_reason_apply()
