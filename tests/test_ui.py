# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from urllib.parse import urlsplit

from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import CrmLostCommon


@tagged("post_install", "-at_install")
class TestCrmLostUi(HttpCase, CrmLostCommon):
    """Web tours (static/tests/tours/crm_lost_management_tours.js): what users
    click to lose, restore and configure, then the database they leave."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_admin = cls.env.ref("base.user_admin")
        (cls.user_admin | cls.user_sales_own).tour_enabled = False

    def _create_opportunities(self, names, user):
        # top priority and newest: first rows of the lists, whatever the demo
        # data ("priority desc, id desc")
        return self.env["crm.lead"].create(
            [
                {
                    "name": name,
                    "type": "opportunity",
                    "user_id": user.id,
                    "team_id": self.team_1.id,
                    "stage_id": self.stage_qualified.id,
                    "expected_revenue": 1500.0,
                    "priority": "3",
                }
                for name in names
            ]
        )

    def _assert_lost(self, leads, reason, user, note=None):
        for lead in leads:
            self.assertFalse(lead.active, lead.name)
            self.assertEqual(lead.probability, 0, lead.name)
            self.assertEqual(lead.lost_reason_id, reason, lead.name)
            self.assertEqual(lead.lost_by_id, user, lead.name)
            losses = self._losses(lead)
            self.assertEqual(len(losses), 1, lead.name)
            self.assertEqual(losses.state, "lost")
            self.assertEqual(losses.lost_reason_id, reason)
            self.assertEqual(losses.lost_by_id, user)
            self.assertEqual(losses.stage_id, self.stage_qualified)
            if note:
                self.assertIn(note, lead.lost_note)
                self.assertIn(note, losses.closing_note)

    def _assert_recovered(self, leads, user, note=None):
        for lead in leads:
            self.assertTrue(lead.active, lead.name)
            self.assertFalse(lead.lost_reason_id, lead.name)
            self.assertFalse(lead.lost_date, lead.name)
            losses = self._losses(lead)
            self.assertEqual(len(losses), 1, lead.name)
            self.assertEqual(losses.state, "recovered")
            self.assertEqual(losses.restored_by_id, user)
            self.assertEqual(losses.lost_reason_id, self.reason_plain)
            if note:
                self.assertEqual(losses.restore_note, note)

    def test_01_form_mark_lost(self):
        """Pipeline > opportunity > Lost > reason + closing note > Mark as
        Lost, as a salesperson."""
        opportunity = self._create_opportunities(
            ["CLM Tour Form Opp"], self.user_sales_own
        )
        self.start_tour(
            "/odoo", "crm_lost_management_form_mark_lost", login="clm_sales_own"
        )
        self._assert_lost(
            opportunity,
            self.reason_note,
            self.user_sales_own,
            note="CLM tour: the customer went silent",
        )

    def test_02_list_mark_lost(self):
        """Pipeline list > select two > Actions > Mark Lost."""
        lost = self._create_opportunities(
            ["CLM Tour Batch Opp A", "CLM Tour Batch Opp B"], self.user_admin
        )
        kept = self._create_opportunities(["CLM Tour Batch Kept"], self.user_admin)
        self.start_tour("/odoo", "crm_lost_management_list_mark_lost", login="admin")
        self._assert_lost(lost, self.reason_plain, self.user_admin)
        self.assertTrue(kept.active)
        self.assertFalse(self._losses(kept))

    def test_03_form_restore(self):
        """Pipeline > Filters > Lost > lost opportunity > Restore, as a
        salesperson."""
        opportunity = self._create_opportunities(
            ["CLM Tour Lost Opp"], self.user_sales_own
        )
        self._lose(opportunity, self.reason_plain)
        self.assertFalse(opportunity.active)
        self.start_tour(
            "/odoo", "crm_lost_management_form_restore", login="clm_sales_own"
        )
        self._assert_recovered(
            opportunity,
            self.user_sales_own,
            note="CLM tour: budget approved after all",
        )
        self.assertEqual(opportunity.stage_id, self.stage_qualified)

    def test_04_create_reason(self):
        """Configuration > Lost Reasons > New > name > Save."""
        Reason = self.env["crm.lost.reason"]
        self.assertFalse(Reason.search([("name", "=", "CLM Tour Created Reason")]))
        self.start_tour("/odoo", "crm_lost_management_create_reason", login="admin")
        reason = Reason.search([("name", "=", "CLM Tour Created Reason")])
        self.assertEqual(len(reason), 1)
        self.assertTrue(reason.active)
        self.assertEqual(reason.applies_to, "both")
        self.assertFalse(reason.note_required)

    def test_05_list_unarchive(self):
        """List with the Lost filter > select two > Actions > Unarchive."""
        opportunities = self._create_opportunities(
            ["CLM Tour Unarchive Opp A", "CLM Tour Unarchive Opp B"], self.user_admin
        )
        self._lose(opportunities, self.reason_plain)
        self.assertEqual(self._losses(opportunities).mapped("state"), ["lost", "lost"])
        self.start_tour("/odoo", "crm_lost_management_list_unarchive", login="admin")
        self._assert_recovered(opportunities, self.user_admin)

    def test_06_archive_asks_reason(self):
        """Archive in the Actions menus of the list, the form and crm's
        forecast list opens the Mark as Lost dialog when the company requires
        a lost reason."""
        self.assertTrue(self.company.crm_lost_reason_required)
        opportunities = self._create_opportunities(
            [
                "CLM Tour Archive List Opp",
                "CLM Tour Archive Form Opp",
                "CLM Tour Archive Forecast Opp",
            ],
            self.user_admin,
        )
        # the forecast shows upcoming closings: this month's, not last year's
        today = fields.Date.context_today(self.user_admin)
        opportunities[2].date_deadline = today
        past = self._create_opportunities(
            ["CLM Tour Forecast Past Opp"], self.user_admin
        )
        past.date_deadline = today - relativedelta(years=1)
        self.start_tour(
            "/odoo", "crm_lost_management_archive_asks_reason", login="admin"
        )
        self._assert_lost(opportunities, self.reason_plain, self.user_admin)
        self.assertTrue(past.active)

    def _mark_lost_email_link(self, opportunity):
        link = urlsplit(
            opportunity._notify_get_action_link(
                "controller", controller="/lead/case_mark_lost"
            )
        )
        return f"{link.path}?{link.query}"

    def test_07_mark_lost_email_link(self):
        """The "Mark Lost" link of notification emails, as a salesperson: the
        controller redirects to the Mark as Lost dialog over the opportunity,
        which is shown lost once the dialog is confirmed (the stock link
        redirects to the lost lead)."""
        opportunity = self._create_opportunities(
            ["CLM Tour Link Opp"], self.user_sales_own
        )
        self.start_tour(
            self._mark_lost_email_link(opportunity),
            "crm_lost_management_mark_lost_link",
            login="clm_sales_own",
        )
        self._assert_lost(
            opportunity,
            self.reason_plain,
            self.user_sales_own,
            note="CLM tour: lost from the email link",
        )

    def test_08_mark_lost_link_cancel(self):
        """The redirect target of the email link, cancelled: the opportunity
        is shown, still open. (Odoo 18 does not render the crm.lead/<id> part
        of such a URL behind a dialog action: without the addon's client
        action the user was left on an empty page.)"""
        opportunity = self._create_opportunities(
            ["CLM Tour Link Opp"], self.user_sales_own
        )
        action = self.env.ref(
            "crm_lost_management.crm_lead_action_client_mark_lost_from_link"
        )
        self.start_tour(
            f"/odoo/crm.lead/{opportunity.id}/action-{action.id}",
            "crm_lost_management_mark_lost_link_cancel",
            login="clm_sales_own",
        )
        self.assertTrue(opportunity.active)
        self.assertFalse(opportunity.lost_reason_id)
        self.assertFalse(self._losses(opportunity))

    def test_09_archive_confirms(self):
        """Without "Lost Reason Required", Archive in the Actions menus of the
        list and the form asks stock's confirmation, then archives: the
        records are lost without a reason."""
        self.company.crm_lost_reason_required = False
        opportunities = self._create_opportunities(
            ["CLM Tour Confirm List Opp", "CLM Tour Confirm Form Opp"],
            self.user_admin,
        )
        self.start_tour("/odoo", "crm_lost_management_archive_confirms", login="admin")
        for lead in opportunities:
            self.assertFalse(lead.active, lead.name)
            self.assertEqual(lead.probability, 0, lead.name)
            self.assertFalse(lead.lost_reason_id, lead.name)
            losses = self._losses(lead)
            self.assertEqual(len(losses), 1, lead.name)
            self.assertEqual(losses.state, "lost")
            self.assertEqual(losses.lost_by_id, self.user_admin)

    def test_10_lead_views_js_class(self):
        """The lead lists and form use the addon's views (one controller
        each, web's own controllers stay untouched); crm's forecast list keeps
        crm's search model through crm_lost_forecast_list."""
        expected = {
            "crm.crm_case_tree_view_oppor": "crm_lost_list",
            "crm.crm_case_tree_view_leads": "crm_lost_list",
            "crm.crm_lead_view_list_activities": "crm_lost_list",
            "crm.crm_lead_view_tree_forecast": "crm_lost_forecast_list",
            "crm.crm_lead_view_form": "crm_lost_form",
        }
        for xmlid, js_class in expected.items():
            view = self.env.ref(xmlid)
            arch = view._get_combined_arch()
            self.assertEqual(arch.get("js_class"), js_class, xmlid)
        form = self.env.ref("crm.crm_lead_view_form")._get_combined_arch()
        (restore,) = form.xpath("//header/button[@string='Restore']")
        self.assertEqual(restore.get("name"), "action_open_restore_wizard")
        self.assertEqual(restore.get("type"), "object")
        self.assertEqual(restore.get("data-hotkey"), "x")
        self.assertEqual(restore.get("invisible"), "active")
        self.assertEqual(
            restore.getnext().get("name"), "action_revisit_now", "Revisit Now follows"
        )
