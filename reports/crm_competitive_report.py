# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import fields, models, tools
from odoo.tools import SQL


class CrmCompetitiveReport(models.Model):
    """Competitive analysis: one row per deal and competitor that competed
    for it, whatever the deal's outcome (won, lost or still open).

    A competitor competed for a lead when it is on the lead's Competition tab
    (``crm.lead.competitor``), when the lead is lost to it
    (``lost_competitor_id``) or when the lead is won against it
    (``won_competitor_ids``). Won and lost are the definitions of
    ``crm.lead._crm_won_domain`` and ``_crm_lost_domain``, as in the Win/Loss
    report.

    ``win_rate`` is 100 for a won row, 0 for a lost one and NULL for an open
    one, so that its average, which PostgreSQL computes ignoring NULLs, is
    won / (won + lost) among the deals the competitor competed for, in every
    grouping. ``days_to_close`` is NULL for open deals: its average is over
    closed deals only."""

    _name = "crm.competitive.report"
    _description = "Competitive Analysis"
    _auto = False
    _rec_name = "competitor_id"
    _order = "date_closed desc, id desc"
    # written before a read in the same transaction: flushed first
    _depends = {
        "crm.lead": [
            "active",
            "probability",
            "stage_id",
            "type",
            "user_id",
            "team_id",
            "company_id",
            "partner_id",
            "lost_reason_id",
            "won_reason_id",
            "lost_competitor_id",
            "won_competitor_ids",
            "expected_revenue",
            "create_date",
            "date_closed",
        ],
        "crm.lead.competitor": ["lead_id", "competitor_id"],
        "crm.stage": ["is_won"],
        "crm.lost.reason": ["name"],
        "crm.won.reason": ["name"],
        "res.company": ["currency_id"],
    }

    lead_id = fields.Many2one("crm.lead", string="Lead/Opportunity", readonly=True)
    competitor_id = fields.Many2one(
        "crm.lost.competitor", string="Competitor", readonly=True
    )
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
    won_reason_id = fields.Many2one(
        "crm.won.reason", string="Won Reason", readonly=True
    )
    outcome_reason = fields.Char(
        translate=True,
        readonly=True,
        help="Why the deal was won (won reason) or lost (lost reason).",
    )
    lost_to_competitor_id = fields.Many2one(
        "crm.lost.competitor", string="Lost to Competitor", readonly=True
    )
    create_date = fields.Datetime("Created On", readonly=True)
    date_closed = fields.Datetime("Closed On", readonly=True)
    faced_count = fields.Integer(
        "Deals Faced", readonly=True, help="Deals the competitor competed for."
    )
    won_count = fields.Integer(
        "Won Against", readonly=True, help="Deals won that the competitor competed for."
    )
    lost_count = fields.Integer(
        "Lost", readonly=True, help="Deals lost that the competitor competed for."
    )
    lost_to_count = fields.Integer(
        "Lost To", readonly=True, help="Deals lost to this competitor."
    )
    open_count = fields.Integer(
        "Open", readonly=True, help="Deals still open that the competitor competes for."
    )
    win_rate = fields.Float(
        "Win Rate (%)",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Won / (won + lost) among the deals the competitor competed for: "
        "open deals do not count.",
    )
    won_revenue = fields.Monetary(
        readonly=True,
        currency_field="currency_id",
        help="Expected revenue of the deals won against the competitor.",
    )
    lost_revenue = fields.Monetary(
        readonly=True,
        currency_field="currency_id",
        help="Expected revenue of the deals lost that the competitor competed for.",
    )
    days_to_close = fields.Float(
        "Days to Close",
        readonly=True,
        aggregator="avg",
        digits=(16, 1),
        help="Days from the creation of the deal to its closing (won or lost); "
        "open deals do not count.",
    )
    currency_id = fields.Many2one("res.currency", string="Currency", readonly=True)

    def _faced(self, won, lost):
        """The (lead, competitor) pairs: the Competition tab, the competitor a
        lost lead was lost to, the competitors a won lead was won against.
        Each pair once: a pair of the tab is unique, a lead is not lost and won
        at once, so the last two add the pairs missing from the tab (a
        UNION ALL, not a UNION that would sort every pair)."""
        return SQL(
            """
            SELECT line.lead_id, line.competitor_id
              FROM crm_lead_competitor AS line
            UNION ALL
            SELECT lead.id, lead.lost_competitor_id
              FROM crm_lead AS lead
             WHERE lead.lost_competitor_id IS NOT NULL AND %(lost)s
               AND NOT EXISTS (
                   SELECT FROM crm_lead_competitor AS line
                    WHERE line.lead_id = lead.id
                      AND line.competitor_id = lead.lost_competitor_id)
            UNION ALL
            SELECT rel.lead_id, rel.competitor_id
              FROM crm_lead_won_competitor_rel AS rel
              JOIN crm_lead AS lead ON lead.id = rel.lead_id
              LEFT JOIN crm_stage AS stage ON stage.id = lead.stage_id
             WHERE %(won)s
               AND NOT EXISTS (
                   SELECT FROM crm_lead_competitor AS line
                    WHERE line.lead_id = rel.lead_id
                      AND line.competitor_id = rel.competitor_id)
            """,
            won=won,
            lost=lost,
        )

    def _select(self, won, lost):
        return SQL(
            """
            SELECT
                ROW_NUMBER() OVER (ORDER BY faced.lead_id, faced.competitor_id)
                    AS id,
                faced.lead_id,
                faced.competitor_id,
                lead.type AS lead_type,
                CASE WHEN %(won)s THEN 'won' WHEN %(lost)s THEN 'lost' ELSE 'open'
                    END AS outcome,
                lead.user_id,
                lead.team_id,
                lead.company_id,
                lead.partner_id,
                lead.stage_id,
                CASE WHEN %(lost)s THEN lead.lost_reason_id END AS lost_reason_id,
                CASE WHEN %(won)s THEN lead.won_reason_id END AS won_reason_id,
                CASE WHEN %(won)s THEN won_reason.name
                    WHEN %(lost)s THEN lost_reason.name END AS outcome_reason,
                CASE WHEN %(lost)s THEN lead.lost_competitor_id END
                    AS lost_to_competitor_id,
                lead.create_date,
                lead.date_closed,
                1 AS faced_count,
                CASE WHEN %(won)s THEN 1 ELSE 0 END AS won_count,
                CASE WHEN %(lost)s THEN 1 ELSE 0 END AS lost_count,
                CASE WHEN %(lost)s AND lead.lost_competitor_id = faced.competitor_id
                    THEN 1 ELSE 0 END AS lost_to_count,
                CASE WHEN %(won)s OR %(lost)s THEN 0 ELSE 1 END AS open_count,
                CASE WHEN %(won)s THEN 100.0 WHEN %(lost)s THEN 0.0 END AS win_rate,
                CASE WHEN %(won)s THEN lead.expected_revenue ELSE 0 END
                    AS won_revenue,
                CASE WHEN %(lost)s THEN lead.expected_revenue ELSE 0 END
                    AS lost_revenue,
                CASE WHEN %(won)s OR %(lost)s THEN
                    GREATEST(DATE_PART('day', lead.date_closed - lead.create_date), 0)
                    END AS days_to_close,
                company.currency_id
            """,
            won=won,
            lost=lost,
        )

    def _from(self, won, lost):
        return SQL(
            """
            FROM (%(faced)s) AS faced
            JOIN crm_lead AS lead ON lead.id = faced.lead_id
            LEFT JOIN crm_stage AS stage ON stage.id = lead.stage_id
            LEFT JOIN crm_lost_reason AS lost_reason
                ON lost_reason.id = lead.lost_reason_id
            LEFT JOIN crm_won_reason AS won_reason
                ON won_reason.id = lead.won_reason_id
            LEFT JOIN res_company AS company ON company.id = lead.company_id
            """,
            faced=self._faced(won, lost),
        )

    def init(self):
        won, lost = self.env["crm.lead"]._crm_outcome_sql()
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE OR REPLACE VIEW %s AS (%s %s)",
                SQL.identifier(self._table),
                self._select(won, lost),
                self._from(won, lost),
            )
        )
