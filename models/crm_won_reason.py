# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError


class CrmWonReason(models.Model):
    """Why a lead or opportunity was won, configured like lost reasons."""

    _name = "crm.won.reason"
    _description = "Won Reason"
    _order = "sequence, name, id"

    name = fields.Char("Description", required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    category_id = fields.Many2one(
        "crm.lost.reason.category", string="Category", index=True, ondelete="restrict"
    )
    description = fields.Text("Usage Notes", translate=True)
    company_id = fields.Many2one(
        "res.company",
        string="Company",
        index=True,
        help="Company allowed to use this reason. Empty: every company.",
    )
    win_count = fields.Integer("Wins", compute="_compute_win_count")

    def _compute_win_count(self):
        data = self.env["crm.lead.win"]._read_group(
            [("won_reason_id", "in", self.ids)], ["won_reason_id"], ["__count"]
        )
        counts = {reason.id: count for reason, count in data}
        for reason in self:
            reason.win_count = counts.get(reason.id, 0)

    @api.constrains("company_id")
    def _check_company_of_leads(self):
        """A reason limited to a company cannot leave leads of another
        company with it."""
        for reason in self.filtered("company_id"):
            foreign = self.env["crm.lead"]._crm_lost_leads_of_other_companies(
                "won_reason_id", reason
            )
            if foreign:
                raise ValidationError(
                    _(
                        "The won reason %(reason)s cannot be limited to the company "
                        "%(company)s: %(leads)s of other companies were won with "
                        "it. Leave the company empty.",
                        reason=reason.name,
                        company=reason.company_id.name,
                        leads=foreign._crm_lost_names(),
                    )
                )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        # wins of any state and company count: they are the history
        used = (
            self.env["crm.lead.win"]
            .sudo()
            ._read_group([("won_reason_id", "in", self.ids)], ["won_reason_id"])
        )
        used = self.browse({reason.id for (reason,) in used})
        if used:
            raise UserError(
                _(
                    "You cannot delete the won reasons %(reasons)s: wins were "
                    "recorded with them. Archive them instead.",
                    reasons=", ".join(used.mapped("name")),
                )
            )

    def _get_usage_errors(self, leads):
        """Why this reason cannot be given to ``leads`` (empty: it can)."""
        self.ensure_one()
        reason = self.sudo()
        if not reason.active:
            return [
                _(
                    "The won reason %(reason)s is archived. Pick an active won reason.",
                    reason=reason.name,
                )
            ]
        foreign = leads.filtered(
            lambda lead: reason.company_id and lead.company_id != reason.company_id
        )
        if foreign:
            return [
                _(
                    "The won reason %(reason)s belongs to the company %(company)s: "
                    "it cannot be given to %(leads)s. Pick a reason of their "
                    "company, or one shared by every company.",
                    reason=reason.name,
                    company=reason.company_id.name,
                    leads=foreign._crm_lost_names(),
                )
            ]
        return []

    @api.readonly
    def action_open_wins(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_lost_management.crm_lead_win_action"
        )
        action["domain"] = [("won_reason_id", "=", self.id)]
        action["context"] = {"create": False}
        return action
