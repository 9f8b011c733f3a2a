# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo.tests import HttpCase, tagged

from .common import CrmLostCommon


@tagged("post_install", "-at_install")
class TestCrmLostReportsUi(HttpCase, CrmLostCommon):
    """Web tours (static/tests/tours/reports_tours.js) through the Lost
    Analysis and through the stock report path users already know."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.ref("base.user_admin").tour_enabled = False
        Reason = cls.env["crm.lost.reason"]
        cls.reason_budget = Reason.create({"name": "CLM Tour Budget Freeze"})
        cls.reason_rival = Reason.create({"name": "CLM Tour Picked Rival"})
        Lead = cls.env["crm.lead"]
        leads = Lead.create(
            [
                {
                    "name": f"CLM Tour Lost Deal {index}",
                    "type": "opportunity",
                    "user_id": user.id,
                    "team_id": team.id,
                    "stage_id": cls.stage_qualified.id,
                    "expected_revenue": 1000.0 * index,
                }
                for index, user, team in (
                    (1, cls.user_sales_own, cls.team_1),
                    (2, cls.user_sales_all, cls.team_2),
                    (3, cls.user_sales_all, cls.team_1),
                )
            ]
        )
        cls.deal_1, cls.deal_2, cls.deal_3 = leads
        cls._lose(cls, cls.deal_1 | cls.deal_2, cls.reason_budget)
        cls._lose(cls, cls.deal_3, cls.reason_rival)
        # Open, but still carrying a lost reason (as imported data may): only
        # the Lost filter keeps it out of the reason's group.
        cls.open_deal = Lead.create(
            {
                "name": "CLM Tour Open Deal",
                "type": "opportunity",
                "user_id": cls.user_sales_own.id,
                "team_id": cls.team_1.id,
                "stage_id": cls.stage_qualified.id,
                "lost_reason_id": cls.reason_budget.id,
            }
        )

    def test_lost_analysis_tour(self):
        self.assertEqual(len(self._losses(self.deal_1 | self.deal_2 | self.deal_3)), 3)
        self.start_tour("/odoo", "crm_lost_analysis_tour", login="admin")
        # reading reports changes nothing
        self.assertFalse((self.deal_1 | self.deal_2 | self.deal_3).filtered("active"))
        self.assertEqual(
            set(self._losses(self.deal_1 | self.deal_2 | self.deal_3).mapped("state")),
            {"lost"},
        )

    def test_seed_report_tour(self):
        self.assertEqual((self.deal_1 | self.deal_2).mapped("probability"), [0, 0])
        self.start_tour("/odoo", "crm_lost_seed_report_tour", login="admin")
