# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import logging

from markupsafe import Markup

from odoo import _, api, fields, models, tools
from odoo.tools import split_every

from .cron_progress import commit_cron_progress

_logger = logging.getLogger(__name__)

LOSS_STATES = [
    ("lost", "Lost"),
    ("recovered", "Recovered"),
    ("won_back", "Won Back"),
]


class CrmLeadLoss(models.Model):
    """One record each time a lead or opportunity is lost.

    Loss records are written by the lead itself (see ``crm.lead.write``):
    they are the history that survives restores, and the base of the lost
    analysis. Users never create them directly."""

    _name = "crm.lead.loss"
    _description = "Lead Loss"
    _order = "lost_date desc, id desc"
    _rec_name = "lead_id"

    lead_id = fields.Many2one(
        "crm.lead",
        string="Lead/Opportunity",
        required=True,
        index=True,
        ondelete="cascade",
        context={"active_test": False},
    )
    lost_date = fields.Datetime(
        "Lost On", required=True, index=True, default=fields.Datetime.now
    )
    lost_by_id = fields.Many2one("res.users", string="Lost By")
    user_id = fields.Many2one("res.users", string="Salesperson", index=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", index=True)
    company_id = fields.Many2one("res.company", string="Company", index=True)
    partner_id = fields.Many2one("res.partner", string="Customer")
    stage_id = fields.Many2one("crm.stage", string="Stage at Loss")
    lead_type = fields.Selection(
        [("lead", "Lead"), ("opportunity", "Opportunity")],
        string="Type",
        required=True,
        default="opportunity",
    )
    lost_reason_id = fields.Many2one(
        "crm.lost.reason", string="Lost Reason", index=True, ondelete="restrict"
    )
    category_id = fields.Many2one(
        "crm.lost.reason.category",
        string="Reason Category",
        related="lost_reason_id.category_id",
        store=True,
        index=True,
    )
    closing_note = fields.Html(sanitize=True)
    closing_note_text = fields.Text(
        "Closing Note (Text)", compute="_compute_closing_note_text", store=True
    )
    competitor_id = fields.Many2one(
        "crm.lost.competitor", string="Competitor", index="btree_not_null"
    )
    expected_revenue = fields.Monetary(currency_field="currency_id")
    currency_id = fields.Many2one("res.currency", string="Currency")
    days_open = fields.Integer(
        aggregator="avg",
        help="Days between the creation of the lead and this loss.",
    )
    revisit_date = fields.Date(index="btree_not_null")
    state = fields.Selection(LOSS_STATES, default="lost", required=True, index=True)
    restored_date = fields.Datetime("Restored On")
    restored_by_id = fields.Many2one("res.users", string="Restored By")
    restore_note = fields.Text()
    is_automatic = fields.Boolean(
        "Lost Automatically",
        readonly=True,
        help="Marked lost by the stale opportunities job of its sales team.",
    )
    revisit_activity_id = fields.Many2one(
        "mail.activity", string="Revisit Activity", ondelete="set null"
    )
    revisit_scheduled = fields.Boolean(
        readonly=True,
        help="The revisit of this loss was scheduled (activity created).",
    )

    _sql_constraints = [
        (
            "one_open_loss_per_lead",
            "EXCLUDE USING btree (lead_id WITH =) WHERE (state = 'lost')",
            "A lead can only have one open loss record: it is already lost.",
        ),
    ]

    def init(self):
        res = super().init()
        tools.create_index(
            self._cr,
            "crm_lead_loss_reason_team_date_idx",
            self._table,
            ["lost_reason_id", "team_id", "lost_date"],
        )
        return res

    @api.depends("closing_note")
    def _compute_closing_note_text(self):
        for loss in self:
            loss.closing_note_text = (
                tools.html2plaintext(loss.closing_note).strip()
                if not tools.is_html_empty(loss.closing_note)
                else False
            )

    @api.model
    def _revisit_due_domain(self):
        inactive_teams = (
            self.env["crm.team"]
            .with_context(active_test=False)
            .search([("active", "=", False)])
        )
        return [
            ("state", "=", "lost"),
            ("revisit_scheduled", "=", False),
            ("revisit_date", "<=", fields.Date.context_today(self)),
            ("team_id", "not in", inactive_teams.ids),
        ]

    @api.model
    def _cron_schedule_revisits(self, batch_size=200):
        """Daily: schedule a "Revisit lost deal" activity on every lead whose
        revisit date has come and that is still lost, once. Commits after each
        batch; a rerun continues with what is left."""
        losses = self.sudo().search(self._revisit_due_domain(), order="id")
        done, remaining = 0, len(losses)
        for ids in split_every(batch_size, losses.ids):
            batch = losses.browse(ids)
            for company, company_losses in batch.grouped("company_id").items():
                company_losses.with_company(
                    company or self.env.company
                )._schedule_revisit()
            done, remaining = done + len(ids), remaining - len(ids)
            commit_cron_progress(self.env, done, remaining)
        _logger.info("Lost deals to revisit: %s scheduled", done)
        self.env["ir.cron"]._notify_progress(done=done, remaining=0)

    def _schedule_revisit(self, date_deadline=None):
        """Create the revisit activity of these open losses on their (lost)
        lead, for the salesperson or else the team leader, and log a note."""
        activity_type = self.env.ref(
            "crm_lost_management.mail_activity_type_revisit_lost"
        )
        for loss in self:
            lead = loss.lead_id
            assignee = lead._crm_lost_get_assignee()
            values = {"revisit_scheduled": True}
            if assignee:
                activity = lead.activity_schedule(
                    activity_type_id=activity_type.id,
                    date_deadline=date_deadline or loss.revisit_date,
                    summary=_("Revisit lost deal"),
                    note=_(
                        "Lost on %(date)s (%(reason)s). Time to check whether "
                        "it can come back.",
                        date=fields.Date.to_date(loss.lost_date),
                        reason=loss.lost_reason_id.name or _("no reason"),
                    ),
                    user_id=assignee.id,
                )
                values["revisit_activity_id"] = activity.id
                body = _(
                    "Revisit of this lost deal scheduled for %(user)s.",
                    user=assignee.name,
                )
            else:
                body = _(
                    "This lost deal is due for a revisit, but it has no active "
                    "salesperson or team leader to assign it to."
                )
            lead.message_post(
                body=Markup("<p>%s</p>") % body, subtype_xmlid="mail.mt_note"
            )
            loss.write(values)

    def action_open_lead(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.lead_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "context": {"active_test": False},
        }
