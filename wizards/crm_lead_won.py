# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class CrmLeadWon(models.TransientModel):
    """Mark as Won: why the selected leads were won, and against whom."""

    _name = "crm.lead.won"
    _description = "Mark as Won"

    lead_ids = fields.Many2many(
        "crm.lead", string="Leads", context={"active_test": False}
    )
    won_reason_id = fields.Many2one(
        "crm.won.reason",
        string="Won Reason",
        domain="[('id', 'in', available_reason_ids)]",
    )
    won_note = fields.Html("Win Note", sanitize=True, sanitize_style=True)
    won_competitor_ids = fields.Many2many(
        "crm.lost.competitor",
        string="Won Against",
        compute="_compute_won_competitor_ids",
        store=True,
        readonly=False,
        help="The competitors these deals were won against. Proposed: the "
        "competitors on the Competition tab of every deal of the selection.",
    )
    stage_id = fields.Many2one(
        "crm.stage",
        string="Won Stage",
        domain="[('is_won', '=', True)]",
        help="Won stage to move the leads to (the pipeline's drag and drop). "
        "Empty: the won stage of their team, as the Won button does.",
    )
    reason_required = fields.Boolean(compute="_compute_reason_required")
    reason_description = fields.Text(related="won_reason_id.description")
    available_reason_ids = fields.Many2many(
        "crm.won.reason", compute="_compute_available_reason_ids"
    )

    @api.depends("lead_ids")
    def _compute_won_competitor_ids(self):
        for wizard in self:
            # faced by every deal of the selection (all of them for one deal)
            faced = None
            for lead in wizard.lead_ids:
                competitors = lead.competitor_line_ids.competitor_id
                faced = competitors if faced is None else faced & competitors
            wizard.won_competitor_ids = faced or False

    @api.depends("lead_ids")
    def _compute_reason_required(self):
        for wizard in self:
            wizard.reason_required = wizard.lead_ids._crm_won_reason_required()

    @api.depends("lead_ids")
    def _compute_available_reason_ids(self):
        Reason = self.env["crm.won.reason"]
        for wizard in self:
            companies = wizard.lead_ids.company_id
            wizard.available_reason_ids = Reason.search(
                [("company_id", "in", [False, *companies.ids])]
                if len(companies) <= 1
                else [("company_id", "=", False)]
            )

    @api.readonly
    def onchange(self, values, field_names, fields_spec):
        """Defaults and usable reasons only read: with a read replica
        (``--db_replica_host``), opening the dialog is served by it; *Mark as
        Won* runs on the primary."""
        return super().onchange(values, field_names, fields_spec)

    def _get_won_errors(self):
        self.ensure_one()
        leads = self.lead_ids
        if not leads:
            return [_("Select at least one lead or opportunity to mark as won.")]
        if self.stage_id and not self.stage_id.is_won:
            return [
                _(
                    "The stage %(stage)s is not a won stage. Pick a won stage, or "
                    "none.",
                    stage=self.stage_id.name,
                )
            ]
        errors = []
        if self.won_reason_id:
            errors += self.won_reason_id._get_usage_errors(leads)
        elif self.reason_required:
            errors.append(
                _(
                    "A won reason is required to mark %(leads)s as won. Pick "
                    "the reason why it was won.",
                    leads=leads._crm_lost_names(),
                )
            )
        # archived ones included: refused, not dropped silently
        for competitor in self.with_context(active_test=False).won_competitor_ids:
            errors += leads._crm_lost_get_competitor_errors(competitor)
        return errors

    def action_won_reason_apply(self):
        """Check the whole selection, then win every lead at once (stock's
        Won, or a move to ``stage_id``) with the reason, note and
        competitors; the rainbow man for a single lead."""
        self.ensure_one()
        # the whole selection, also leads the user may not read: they must
        # fail on their access rights, not drop out silently
        leads = self.sudo().lead_ids.with_env(self.env)
        leads.check_access("write")
        errors = self._get_won_errors()
        if errors:
            raise UserError("\n".join(errors))
        note = self.won_note
        if self.env["crm.lost.reason"]._is_note_empty(note):
            note = False
        values = {
            "won_reason_id": self.won_reason_id.id,
            "won_note": note,
            "won_competitor_ids": [fields.Command.set(self.won_competitor_ids.ids)],
        }
        # leads won already get the reason on their open win
        already_won = leads.filtered(lambda lead: lead._crm_lost_is_won())
        if already_won:
            already_won.write(values)
        leads = leads.with_context(crm_won_values=values)
        if self.stage_id:
            leads.filtered("active").write({"stage_id": self.stage_id.id})
            lost = leads.filtered(lambda lead: not lead.active)
            if lost:
                lost.action_unarchive()
                lost.write({"stage_id": self.stage_id.id})
            result = True
            if len(leads) == 1:
                # as stock's pipeline after a drag into a won stage
                message = leads.get_rainbowman_message()
                if message:
                    result = {"effect": {"message": message, "type": "rainbow_man"}}
        elif len(leads) == 1:
            result = leads.action_set_won_rainbowman()
        else:
            result = leads.action_set_won()
        close = {"type": "ir.actions.act_window_close"}
        if isinstance(result, dict) and result.get("effect"):
            # the rainbow man shows once the dialog is closed
            close["effect"] = result["effect"]
        return close
