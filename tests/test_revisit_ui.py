# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import threading
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import CrmLostCommon


@tagged("post_install", "-at_install")
class TestRevisitUi(HttpCase, CrmLostCommon):
    """Web tours (static/tests/tours/revisit_tours.js): a due revisit is
    visible to its assignee, and Revisit Now brings a lost deal back."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the revisit job's today is the one of its user (OdooBot)
        (cls.user_sales_own | cls.user_manager).write(
            {"tour_enabled": False, "tz": cls.env.ref("base.user_root").tz or "UTC"}
        )
        cls.revisit_type = cls.env.ref(
            "crm_lost_management.mail_activity_type_revisit_lost"
        )

    def setUp(self):
        super().setUp()
        # the revisit job commits unless the thread runs tests (see
        # test_revisit.RevisitCommon.setUp)
        self.patch(threading.current_thread(), "testing", True)

    def _lost_opportunity(self, name, revisit_date):
        opportunity = self.env["crm.lead"].create(
            {
                "name": name,
                "type": "opportunity",
                "user_id": self.user_sales_own.id,
                "team_id": self.team_1.id,
                "stage_id": self.stage_qualified.id,
            }
        )
        self._lose(opportunity, self.reason_plain, lost_revisit_date=revisit_date)
        self.assertFalse(opportunity.active)
        return opportunity

    def _revisit_activities(self, lead):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "crm.lead"),
                ("res_id", "=", lead.id),
                ("activity_type_id", "=", self.revisit_type.id),
            ]
        )

    def test_01_revisit_in_activity_menu(self):
        """After the revisit job, the salesperson finds the revisit of her
        lost (archived) opportunity in her activity menu."""
        today = fields.Date.context_today(self.env["crm.lead.loss"])
        opportunity = self._lost_opportunity("CLM Tour Revisit Opp", today)
        self.env["crm.lead.loss"]._cron_schedule_revisits()
        activity = self._revisit_activities(opportunity)
        self.assertEqual(activity.user_id, self.user_sales_own)

        self.start_tour(
            "/odoo", "crm_lost_management_revisit_systray", login="clm_sales_own"
        )
        self.assertFalse(opportunity.active, "looking does not restore it")
        self.assertTrue(activity.exists())

    def test_02_revisit_now(self):
        """A manager opens a lost opportunity and clicks Revisit Now."""
        later = fields.Date.context_today(self.env["crm.lead"]) + timedelta(days=60)
        opportunity = self._lost_opportunity("CLM Tour Revisit Now Opp", later)
        self.assertFalse(self._revisit_activities(opportunity))

        self.start_tour(
            f"/odoo/action-crm.crm_lead_action_pipeline/{opportunity.id}",
            "crm_lost_management_revisit_now",
            login="clm_manager",
        )

        self.assertTrue(opportunity.active)
        self.assertGreater(opportunity.probability, 0)
        self.assertFalse(opportunity.lost_reason_id)
        loss = self._losses(opportunity)
        self.assertEqual(loss.state, "recovered")
        self.assertEqual(loss.restored_by_id, self.user_manager)
        self.assertTrue(loss.revisit_scheduled)
        activity = self._revisit_activities(opportunity)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.user_sales_own)
        self.assertEqual(
            activity.date_deadline,
            fields.Date.context_today(activity.with_user(self.user_manager)),
        )
