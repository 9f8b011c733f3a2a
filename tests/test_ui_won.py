# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo.tests import HttpCase, tagged

from .common import CrmLostCommon


@tagged("post_install", "-at_install")
class TestCrmWonUi(HttpCase, CrmLostCommon):
    """Web tours (static/tests/tours/won_tours.js): what users click to win
    with a reason, from the form and from the pipeline, then the database
    they leave."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_admin = cls.env.ref("base.user_admin")
        (cls.user_admin | cls.user_sales_own).tour_enabled = False
        cls.company.crm_won_reason_required = True
        cls.won_reason = cls.env["crm.won.reason"].create(
            {"name": "CLM Better price", "category_id": cls.category_price.id}
        )
        cls.stage_won = cls.env["crm.stage"].search(
            [("is_won", "=", True), ("team_id", "=", False)], limit=1
        )
        cls.stage_won.name = "Won"

    def _create_opportunity(self, name, user):
        # top priority, a revenue no other deal reaches: the first card of its
        # column and a rainbow man once won
        return self.env["crm.lead"].create(
            {
                "name": name,
                "type": "opportunity",
                "user_id": user.id,
                "team_id": self.team_1.id,
                "stage_id": self.stage_qualified.id,
                "expected_revenue": 987654321.0,
                "priority": "3",
            }
        )

    def _wins(self, lead):
        return self.env["crm.lead.win"].sudo().search([("lead_id", "=", lead.id)])

    def _assert_won(self, lead, user, competitors=None, note=None):
        self.assertTrue(lead.active)
        self.assertEqual(lead.stage_id, self.stage_won)
        self.assertEqual(lead.probability, 100)
        self.assertEqual(lead.won_reason_id, self.won_reason)
        win = self._wins(lead)
        self.assertEqual(len(win), 1)
        self.assertEqual(win.state, "won")
        self.assertEqual(win.won_by_id, user)
        self.assertEqual(win.stage_id, self.stage_won)
        self.assertEqual(win.won_reason_id, self.won_reason)
        self.assertEqual(win.competitor_ids, competitors or self.competitor.browse())
        self.assertEqual(lead.won_competitor_ids, win.competitor_ids)
        if note:
            self.assertIn(note, lead.won_note)
            self.assertIn(note, win.won_note)
        return win

    def test_01_form_mark_won(self):
        """Won Reason Required: Won on the form opens the Mark as Won dialog
        (reason, competitor beaten, note), as a salesperson; the rainbow man
        still shows."""
        opportunity = self._create_opportunity(
            "CLM Tour Won Form Opp", self.user_sales_own
        )
        self.start_tour(
            "/odoo", "crm_lost_management_form_mark_won", login="clm_sales_own"
        )
        self._assert_won(
            opportunity,
            self.user_sales_own,
            competitors=self.competitor,
            note="CLM tour: they matched our delivery date",
        )

    def test_02_kanban_drag_won(self):
        """Won Reason Required: a card dragged into the Won column opens the
        Mark as Won dialog, which moves it there with the reason."""
        opportunity = self._create_opportunity("CLM Tour Won Drag Opp", self.user_admin)
        self.start_tour("/odoo", "crm_lost_management_kanban_drag_won", login="admin")
        self._assert_won(opportunity, self.user_admin)

    def test_03_kanban_drag_won_cancel(self):
        """Won Reason Required: the dialog of a drag into the Won column,
        cancelled, leaves the card in its stage and wins nothing."""
        opportunity = self._create_opportunity("CLM Tour Won Drag Opp", self.user_admin)
        self.start_tour(
            "/odoo", "crm_lost_management_kanban_drag_won_cancel", login="admin"
        )
        self.assertEqual(opportunity.stage_id, self.stage_qualified)
        self.assertFalse(opportunity.won_reason_id)
        self.assertFalse(self._wins(opportunity))

    def test_04_form_won_then_reason(self):
        """No Won Reason Required: Won is stock's (rainbow man, no dialog) and
        the reason is given afterwards on the form, onto the open win."""
        self.company.crm_won_reason_required = False
        opportunity = self._create_opportunity(
            "CLM Tour Won Later Opp", self.user_sales_own
        )
        self.start_tour(
            "/odoo", "crm_lost_management_form_won_then_reason", login="clm_sales_own"
        )
        self._assert_won(opportunity, self.user_sales_own)

    def test_05_list_stage_won(self):
        """Won Reason Required: the Won stage given to two opportunities of
        the list (multi-edit) opens the Mark as Won dialog for both."""
        opportunities = self._create_opportunity(
            "CLM Tour Won List Opp A", self.user_admin
        ) | self._create_opportunity("CLM Tour Won List Opp B", self.user_admin)
        kept = self._create_opportunity("CLM Tour Won List Kept", self.user_admin)
        self.start_tour("/odoo", "crm_lost_management_list_stage_won", login="admin")
        for opportunity in opportunities:
            self._assert_won(opportunity, self.user_admin)
        self.assertEqual(kept.stage_id, self.stage_qualified)
        self.assertFalse(self._wins(kept))
