# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression
from odoo.tools.mail import html_to_inner_content


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
    revisit_after_days = fields.Integer(
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
            "revisit_after_days_positive",
            "CHECK (revisit_after_days >= 0)",
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

    @api.constrains("company_id")
    def _check_company_of_leads(self):
        """A reason limited to a company cannot leave leads of another
        company that use it (they would lose access to their own reason)."""
        for reason in self.filtered("company_id"):
            foreign = self.env["crm.lead"]._crm_lost_leads_of_other_companies(
                "lost_reason_id", reason
            )
            if foreign:
                raise ValidationError(
                    _(
                        "Lost reason %(reason)s cannot be limited to %(company)s: "
                        "%(leads)s of other companies use it. Create a reason for "
                        "%(company)s instead.",
                        reason=reason.name,
                        company=reason.company_id.name,
                        leads=foreign._crm_lost_names(),
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

    @api.model
    def _is_note_empty(self, note):
        """Whether a closing note leaves nothing to read: an empty editor, but
        also non-breaking spaces or markup that shows no text once sanitized
        (an empty image or svg...)."""
        return tools.is_html_empty(note) or not html_to_inner_content(note).strip()

    @api.model
    def _get_usable_domain(self, leads):
        """Domain of the active reasons that apply to every lead of ``leads``
        (type, team, company): the choices of the Mark as Lost dialog and of
        a team's stale lost reason. Twin of ``_get_inapplicable_leads``."""
        domain = [("active", "=", True)]
        types = set(leads.mapped("type"))
        domain.append(
            ("applies_to", "in", ["both", *types] if len(types) == 1 else ["both"])
        )
        for team in {lead.team_id for lead in leads}:
            # no team: only reasons for every team
            domain = expression.AND(
                [domain, ["|", ("team_ids", "=", False), ("team_ids", "in", team.ids)]]
            )
        for company in {lead.company_id for lead in leads}:
            domain.append(("company_id", "in", [False, *company.ids]))
        return domain

    def _get_usage_errors(
        self,
        leads,
        note=None,
        competitor=None,
        check_active=True,
        check_usable=True,
        check_requirements=True,
    ):
        """Why this (single) reason may not be used to lose ``leads``.

        :param note: closing note given for all leads; None reads each lead's
            own ``lost_feedback``
        :param competitor: crm.lost.competitor given for all leads; None reads
            each lead's own ``lost_competitor_id``
        :param check_active: check that the reason is active (False for
            leads lost with it already: archiving a used reason is allowed)
        :param check_usable: check that the reason applies to the leads
            (type, team, company)
        :param check_requirements: check what the reason requires (closing
            note, competitor)
        :return: list of messages naming the offending records and the fix
        """
        self.ensure_one()
        # a reason of another company is out of the user's reach (record
        # rule): explain why it cannot be used instead of an access error
        reason = self.sudo()
        errors = []
        if check_active and not reason.active:
            errors.append(
                _(
                    "The lost reason %(reason)s is archived. Pick an active "
                    "lost reason.",
                    reason=reason.name,
                )
            )
        if check_usable:
            for wrong, why in reason._get_inapplicable_leads(leads):
                errors.append(
                    _(
                        "The lost reason %(reason)s cannot be used for %(leads)s: "
                        "%(why)s. Pick another lost reason.",
                        reason=reason.name,
                        leads=wrong._crm_lost_names(),
                        why=why,
                    )
                )
        if not check_requirements:
            return errors
        if reason.note_required:
            if note is None:
                missing = leads.filtered(
                    lambda lead: self._is_note_empty(lead.lost_feedback)
                )
            else:
                missing = leads if self._is_note_empty(note) else leads.browse()
            if missing:
                errors.append(
                    _(
                        "The lost reason %(reason)s requires a closing note for "
                        "%(leads)s. Explain what went wrong in the closing note.",
                        reason=reason.name,
                        leads=missing._crm_lost_names(),
                    )
                )
        if reason.competitor_required:
            if competitor is None:
                missing = leads.filtered(lambda lead: not lead.lost_competitor_id)
            else:
                missing = leads if not competitor else leads.browse()
            if missing:
                errors.append(
                    _(
                        "The lost reason %(reason)s requires the competitor who "
                        "won %(leads)s. Select the competitor.",
                        reason=reason.name,
                        leads=missing._crm_lost_names(),
                    )
                )
        return errors

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

    @api.readonly
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
