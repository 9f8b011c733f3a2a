# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import fields, models, tools
from odoo.tools import SQL


class CrmWinLossReport(models.Model):
    """Outcome of every lead and opportunity: won, lost or still open.

    Won: active and in a won stage, lost: archived with no chance left, as
    stock crm's "Won" and "Lost" filters (``crm.lead._crm_won_domain`` and
    ``_crm_lost_domain``). Open: everything else.

    ``win_rate`` is 100 for a won row, 0 for a lost one and NULL for an open
    one, so that its average, which PostgreSQL computes ignoring NULLs, is
    won / (won + lost) in every grouping."""

    _name = "crm.win.loss.report"
    _description = "Win/Loss Analysis"
    _auto = False
    _rec_name = "lead_id"
    _order = "date_closed desc, id desc"
    # what the view reads: searching it first writes what is pending there
    _depends = {
        "crm.lead": [
            "type",
            "active",
            "probability",
            "user_id",
            "team_id",
            "company_id",
            "partner_id",
            "stage_id",
            "lost_reason_id",
            "won_reason_id",
            "campaign_id",
            "medium_id",
            "source_id",
            "create_date",
            "date_closed",
            "expected_revenue",
        ],
        "crm.stage": ["is_won"],
        "crm.lost.reason": ["name", "category_id"],
        "crm.won.reason": ["name", "category_id"],
        "res.company": ["currency_id"],
    }

    lead_id = fields.Many2one("crm.lead", string="Lead/Opportunity", readonly=True)
    lead_type = fields.Selection(
        [("lead", "Lead"), ("opportunity", "Opportunity")],
        string="Type",
        readonly=True,
    )
    outcome = fields.Selection(
        [("won", "Won"), ("lost", "Lost"), ("open", "Open")], readonly=True
    )
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", string="Company", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    stage_id = fields.Many2one("crm.stage", string="Stage", readonly=True)
    lost_reason_id = fields.Many2one(
        "crm.lost.reason", string="Lost Reason", readonly=True
    )
    lost_reason_category_id = fields.Many2one(
        "crm.lost.reason.category", string="Lost Reason Category", readonly=True
    )
    won_reason_id = fields.Many2one(
        "crm.won.reason", string="Won Reason", readonly=True
    )
    outcome_reason = fields.Char(
        translate=True,
        readonly=True,
        help="Why it was won (won reason) or lost (lost reason).",
    )
    outcome_reason_category_id = fields.Many2one(
        "crm.lost.reason.category",
        string="Outcome Reason Category",
        readonly=True,
        help="Category of the won or lost reason.",
    )
    campaign_id = fields.Many2one("utm.campaign", string="Campaign", readonly=True)
    medium_id = fields.Many2one("utm.medium", string="Medium", readonly=True)
    source_id = fields.Many2one("utm.source", string="Source", readonly=True)
    create_date = fields.Datetime("Created On", readonly=True)
    date_closed = fields.Datetime("Closed On", readonly=True)
    won_count = fields.Integer("Won", readonly=True)
    lost_count = fields.Integer("Lost", readonly=True)
    open_count = fields.Integer("Open", readonly=True)
    win_rate = fields.Float(
        "Win Rate (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Won / (won + lost): open leads do not count.",
    )
    won_revenue = fields.Monetary(readonly=True, currency_field="currency_id")
    lost_revenue = fields.Monetary(readonly=True, currency_field="currency_id")
    currency_id = fields.Many2one("res.currency", string="Currency", readonly=True)

    def _select(self):
        won, lost = self.env["crm.lead"]._crm_outcome_sql()
        return SQL(
            """
            SELECT
                lead.id AS id,
                lead.id AS lead_id,
                lead.type AS lead_type,
                CASE WHEN %(won)s THEN 'won' WHEN %(lost)s THEN 'lost' ELSE 'open'
                    END AS outcome,
                lead.user_id,
                lead.team_id,
                lead.company_id,
                lead.partner_id,
                lead.stage_id,
                lead.lost_reason_id,
                reason.category_id AS lost_reason_category_id,
                CASE WHEN %(won)s THEN lead.won_reason_id END AS won_reason_id,
                CASE WHEN %(won)s THEN won_reason.name WHEN %(lost)s THEN reason.name
                    END AS outcome_reason,
                CASE WHEN %(won)s THEN won_reason.category_id
                    WHEN %(lost)s THEN reason.category_id
                    END AS outcome_reason_category_id,
                lead.campaign_id,
                lead.medium_id,
                lead.source_id,
                lead.create_date,
                lead.date_closed,
                CASE WHEN %(won)s THEN 1 ELSE 0 END AS won_count,
                CASE WHEN %(lost)s THEN 1 ELSE 0 END AS lost_count,
                CASE WHEN %(won)s OR %(lost)s THEN 0 ELSE 1 END AS open_count,
                CASE WHEN %(won)s THEN 100.0 WHEN %(lost)s THEN 0.0 END AS win_rate,
                CASE WHEN %(won)s THEN lead.expected_revenue ELSE 0 END
                    AS won_revenue,
                CASE WHEN %(lost)s THEN lead.expected_revenue ELSE 0 END
                    AS lost_revenue,
                company.currency_id
            """,
            won=won,
            lost=lost,
        )

    def _from(self):
        return SQL(
            """
            FROM crm_lead AS lead
            LEFT JOIN crm_stage AS stage ON stage.id = lead.stage_id
            LEFT JOIN crm_lost_reason AS reason ON reason.id = lead.lost_reason_id
            LEFT JOIN crm_won_reason AS won_reason ON won_reason.id = lead.won_reason_id
            LEFT JOIN res_company AS company ON company.id = lead.company_id
            """
        )

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE OR REPLACE VIEW %s AS (%s %s)",
                SQL.identifier(self._table),
                self._select(),
                self._from(),
            )
        )
