# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError


class CrmLostReason(models.Model):
    _inherit = "crm.lost.reason"
    _order = "sequence, name, id"

    sequence = fields.Integer(default=10)
    category_id = fields.Many2one(
        "crm.lost.reason.category", string="Category", index=True, ondelete="restrict"
    )
    description = fields.Text("Usage Notes", translate=True)
    note_required = fields.Boolean(
        "Closing Note Required",
        help="Marking a lead lost with this reason requires a closing note.",
    )
    competitor_required = fields.Boolean(
        help="Marking a lead lost with this reason asks which competitor won.",
    )
    applies_to = fields.Selection(
        [
            ("lead", "Leads"),
            ("opportunity", "Opportunities"),
            ("both", "Leads and Opportunities"),
        ],
        default="both",
        required=True,
    )
    team_ids = fields.Many2many(
        "crm.team",
        string="Sales Teams",
        help="Teams allowed to use this reason. Empty: every team.",
    )
    company_id = fields.Many2one(
        "res.company",
        string="Company",
        index=True,
        help="Company allowed to use this reason. Empty: every company.",
    )
    reengage_after_days = fields.Integer(
        "Revisit After (Days)",
        help="Default delay before a lead lost with this reason is revisited. "
        "0: no revisit.",
    )
    loss_ids = fields.One2many("crm.lead.loss", "lost_reason_id", string="Loss Records")
    loss_count = fields.Integer("Losses", compute="_compute_loss_statistics")
    lost_revenue = fields.Monetary(
        compute="_compute_loss_statistics",
        currency_field="currency_id",
    )
    recovered_count = fields.Integer("Recovered", compute="_compute_loss_statistics")
    recovery_rate = fields.Float(
        "Recovery Rate (%)", compute="_compute_loss_statistics", digits=(16, 1)
    )
    currency_id = fields.Many2one(
        "res.currency", compute="_compute_loss_statistics", string="Currency"
    )

    _sql_constraints = [
        (
            "reengage_after_days_positive",
            "CHECK (reengage_after_days >= 0)",
            "The revisit delay of a lost reason cannot be negative.",
        ),
    ]

    @api.depends_context("company")
    def _compute_loss_statistics(self):
        data = self.env["crm.lead.loss"]._read_group(
            [("lost_reason_id", "in", self.ids)],
            ["lost_reason_id", "state", "currency_id"],
            ["__count", "expected_revenue:sum"],
        )
        company = self.env.company
        company_currency = company.currency_id
        today = fields.Date.context_today(self)
        stats = {}
        for reason, state, currency, count, revenue in data:
            total, recovered, amount = stats.get(reason.id, (0, 0, 0.0))
            stats[reason.id] = (
                total + count,
                recovered + (count if state != "lost" else 0),
                amount + currency._convert(revenue, company_currency, company, today),
            )
        for reason in self:
            total, recovered, amount = stats.get(reason.id, (0, 0, 0.0))
            reason.loss_count = total
            reason.recovered_count = recovered
            reason.lost_revenue = amount
            reason.recovery_rate = 100.0 * recovered / total if total else 0.0
            reason.currency_id = company_currency

    @api.constrains("company_id", "team_ids")
    def _check_team_company(self):
        for reason in self.filtered("company_id"):
            foreign = reason.team_ids.filtered(
                lambda team, reason=reason: team.company_id
                and team.company_id != reason.company_id
            )
            if foreign:
                raise ValidationError(
                    _(
                        "Lost reason %(reason)s belongs to %(company)s but is "
                        "limited to teams of another company: %(teams)s. Remove "
                        "these teams or change the company.",
                        reason=reason.name,
                        company=reason.company_id.name,
                        teams=", ".join(foreign.mapped("name")),
                    )
                )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        used_by_leads = (
            self.env["crm.lead"]
            .sudo()
            .with_context(active_test=False)
            ._read_group([("lost_reason_id", "in", self.ids)], ["lost_reason_id"])
        )
        used_by_losses = (
            self.env["crm.lead.loss"]
            .sudo()
            ._read_group([("lost_reason_id", "in", self.ids)], ["lost_reason_id"])
        )
        used = self.browse({reason.id for (reason,) in used_by_leads + used_by_losses})
        if used:
            raise UserError(
                _(
                    "You cannot delete the lost reason(s) %(reasons)s: leads or "
                    "loss records use them. Archive them instead.",
                    reasons=", ".join(used.mapped("name")),
                )
            )

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _get_inapplicable_leads(self, leads):
        """Return the leads among ``leads`` this (single) reason may not be
        used for, with a short explanation per problem found."""
        self.ensure_one()
        # the restriction holds even for teams/companies the user cannot see
        reason = self.sudo()
        problems = []
        if reason.applies_to != "both":
            wrong_type = leads.filtered(lambda lead: lead.type != reason.applies_to)
            if wrong_type:
                problems.append(
                    (
                        wrong_type,
                        _("it is only for leads")
                        if reason.applies_to == "lead"
                        else _("it is only for opportunities"),
                    )
                )
        if reason.team_ids:
            wrong_team = leads.filtered(
                lambda lead: lead.team_id not in reason.team_ids
            )
            if wrong_team:
                problems.append(
                    (
                        wrong_team,
                        _(
                            "it is limited to the teams %(teams)s",
                            teams=", ".join(reason.team_ids.mapped("name")),
                        ),
                    )
                )
        if reason.company_id:
            wrong_company = leads.filtered(
                lambda lead: lead.company_id != reason.company_id
            )
            if wrong_company:
                problems.append(
                    (
                        wrong_company,
                        _(
                            "it belongs to the company %(company)s",
                            company=reason.company_id.name,
                        ),
                    )
                )
        return problems

    def action_open_losses(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_lost_management.crm_lead_loss_action"
        )
        action.update(
            {
                "domain": [("lost_reason_id", "in", self.ids)],
                "context": {"create": False},
            }
        )
        if len(self) == 1:
            action["name"] = _("Losses: %(reason)s", reason=self.name)
        return action
