# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import Command
from odoo.tests import HttpCase, tagged

from .common import CrmLostCommon


@tagged("post_install", "-at_install")
class TestCompetitionUi(HttpCase, CrmLostCommon):
    """Web tours (static/tests/tours/competition_tours.js): the Competition
    tab, Mark as Lost proposing its competitors, the Competitive Analysis."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_admin = cls.env.ref("base.user_admin")
        (cls.user_admin | cls.user_sales_own).tour_enabled = False
        cls.bravo = cls.env["crm.lost.competitor"].create({"name": "CLM Tour Bravo"})

    def test_01_competition_tab_then_lose(self):
        """Pipeline > opportunity > Competition: two competitors; Lost: the
        dialog shows them, the deal is lost to one of them (as a
        salesperson)."""
        opportunity = self.env["crm.lead"].create(
            {
                "name": "CLM Tour Competition Opp",
                "type": "opportunity",
                "user_id": self.user_sales_own.id,
                "team_id": self.team_1.id,
                "stage_id": self.stage_qualified.id,
                "expected_revenue": 1500.0,
                "priority": "3",
            }
        )
        self.start_tour(
            "/odoo", "crm_lost_management_competition_lose", login="clm_sales_own"
        )
        self.assertFalse(opportunity.active)
        self.assertEqual(opportunity.lost_reason_id, self.reason_competitor)
        self.assertEqual(opportunity.lost_competitor_id, self.bravo)
        self.assertEqual(self._losses(opportunity).competitor_id, self.bravo)
        lines = opportunity.competitor_line_ids
        self.assertEqual(lines.competitor_id, self.competitor | self.bravo)
        self.assertEqual(
            {line.competitor_id.name: line.strengths for line in lines},
            {"CLM Rival Inc": "Cheaper by 10%", "CLM Tour Bravo": "Local installers"},
        )

    def test_02_competitive_analysis_by_salesperson(self):
        """CRM > Reporting > Competitive Analysis > Group By > Salesperson
        (the win rate of each)."""
        won_stage = self.env["crm.stage"].create(
            {"name": "CLM Tour Won", "is_won": True, "sequence": 80}
        )
        deals = self.env["crm.lead"].create(
            [
                {
                    "name": f"CLM Tour Faced {index}",
                    "type": "opportunity",
                    "user_id": user.id,
                    "team_id": self.team_1.id,
                    "stage_id": self.stage_qualified.id,
                    "expected_revenue": 1000.0 * index,
                    "competitor_line_ids": [
                        Command.create({"competitor_id": self.bravo.id})
                    ],
                }
                for index, user in (
                    (1, self.user_sales_own),
                    (2, self.user_sales_own),
                    (3, self.user_sales_all),
                    (4, self.user_sales_all),
                )
            ]
        )
        deals[0].stage_id = won_stage
        self._lose(deals[1] | deals[3], self.reason_competitor, competitor=self.bravo)
        Report = self.env["crm.competitive.report"]
        by_user = {
            user: rate
            for user, rate in Report._read_group(
                [("lead_id", "in", deals.ids)], ["user_id"], ["win_rate:avg"]
            )
        }
        self.assertEqual(by_user, {self.user_sales_own: 50.0, self.user_sales_all: 0.0})
        self.start_tour(
            "/odoo", "crm_lost_management_competitive_analysis", login="admin"
        )
