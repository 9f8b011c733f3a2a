# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError


class CrmLostCompetitor(models.Model):
    _name = "crm.lost.competitor"
    _description = "Competitor"
    _order = "name, id"

    name = fields.Char(required=True, translate=False)
    website = fields.Char()
    note = fields.Text()
    color = fields.Integer()
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", string="Company", index=True)
    loss_count = fields.Integer("Losses", compute="_compute_loss_statistics")
    lost_revenue = fields.Monetary(
        compute="_compute_loss_statistics", currency_field="currency_id"
    )
    currency_id = fields.Many2one(
        "res.currency", compute="_compute_loss_statistics", string="Currency"
    )

    _sql_constraints = [
        (
            "name_company_uniq",
            "EXCLUDE USING btree (lower(name) WITH =, COALESCE(company_id, 0) WITH =)",
            "This competitor already exists (same name, ignoring case, and same "
            "company; it may be archived). Use the existing one instead of "
            "creating it again.",
        ),
    ]

    @api.constrains("company_id")
    def _check_company_of_leads(self):
        """A competitor limited to a company cannot leave leads of another
        company that were lost to it or face it (they would lose access to
        it)."""
        Lead = self.env["crm.lead"]
        for competitor in self.filtered("company_id"):
            foreign = Lead._crm_lost_leads_of_other_companies(
                "lost_competitor_id", competitor
            )
            if foreign:
                raise ValidationError(
                    _(
                        "Competitor %(competitor)s cannot be limited to "
                        "%(company)s: %(leads)s of other companies were lost to "
                        "it. Leave it shared by every company.",
                        competitor=competitor.name,
                        company=competitor.company_id.name,
                        leads=foreign._crm_lost_names(),
                    )
                )
            facing = Lead._crm_lost_leads_of_other_companies(
                "competitor_line_ids.competitor_id", competitor
            )
            if facing:
                raise ValidationError(
                    _(
                        "Competitor %(competitor)s cannot be limited to "
                        "%(company)s: %(leads)s of other companies face it (on "
                        "their Competition tab). Leave it shared by every company.",
                        competitor=competitor.name,
                        company=competitor.company_id.name,
                        leads=facing._crm_lost_names(),
                    )
                )

    @api.depends_context("company")
    def _compute_loss_statistics(self):
        data = self.env["crm.lead.loss"]._read_group(
            [("competitor_id", "in", self.ids)],
            ["competitor_id", "currency_id"],
            ["__count", "expected_revenue:sum"],
        )
        company = self.env.company
        company_currency = company.currency_id
        today = fields.Date.context_today(self)
        stats = {}
        for competitor, currency, count, revenue in data:
            total, amount = stats.get(competitor.id, (0, 0.0))
            stats[competitor.id] = (
                total + count,
                amount + currency._convert(revenue, company_currency, company, today),
            )
        for competitor in self:
            count, amount = stats.get(competitor.id, (0, 0.0))
            competitor.loss_count = count
            competitor.lost_revenue = amount
            competitor.currency_id = company_currency

    @api.ondelete(at_uninstall=False)
    def _unlink_except_used(self):
        # leads are often archived (lost), and may belong to companies the
        # user does not see: the check reads everything
        used_by_leads = (
            self.env["crm.lead"]
            .sudo()
            .with_context(active_test=False)
            ._read_group(
                [("lost_competitor_id", "in", self.ids)], ["lost_competitor_id"]
            )
        )
        used_by_losses = (
            self.env["crm.lead.loss"]
            .sudo()
            ._read_group([("competitor_id", "in", self.ids)], ["competitor_id"])
        )
        used_by_wins = (
            self.env["crm.lead.win"]
            .sudo()
            ._read_group([("competitor_ids", "in", self.ids)], ["competitor_ids"])
        )
        faced_by_leads = (
            self.env["crm.lead.competitor"]
            .sudo()
            ._read_group([("competitor_id", "in", self.ids)], ["competitor_id"])
        )
        used_by_won_leads = (
            self.env["crm.lead"]
            .sudo()
            .with_context(active_test=False)
            ._read_group(
                [("won_competitor_ids", "in", self.ids)], ["won_competitor_ids"]
            )
        )
        used = self.browse(
            {
                competitor.id
                for (competitor,) in used_by_leads
                + used_by_losses
                + used_by_wins
                + used_by_won_leads
                + faced_by_leads
            }
        )
        used &= self
        if used:
            raise UserError(
                _(
                    "You cannot delete the competitor(s) %(competitors)s: leads, "
                    "their Competition tab, loss or win records refer to them. "
                    "Archive them instead.",
                    competitors=", ".join(used.mapped("name")),
                )
            )

    @api.readonly
    def action_open_losses(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_lost_management.crm_lead_loss_action"
        )
        action.update(
            {
                "name": _("Losses to %(competitor)s", competitor=self.display_name)
                if len(self) == 1
                else _("Losses"),
                "domain": [("competitor_id", "in", self.ids)],
                "context": {"create": False},
            }
        )
        return action
