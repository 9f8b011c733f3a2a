# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import threading
from contextlib import contextmanager
from datetime import timedelta
from unittest.mock import patch

from dateutil.relativedelta import relativedelta
from freezegun import freeze_time
from lxml import etree

from odoo import fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tests.common import users
from odoo.tools.safe_eval import safe_eval

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import CrmLostCommon


class RevisitCommon(CrmLostCommon):
    """Time travel helpers for the revisit and stale opportunity jobs."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.revisit_type = cls.env.ref(
            "crm_lost_management.mail_activity_type_revisit_lost"
        )
        cls.warning_type = cls.env.ref(
            "crm_lost_management.mail_activity_type_stale_warning"
        )
        cls.stage_won = cls.env["crm.stage"].create(
            {"name": "CLM Won", "sequence": 9, "is_won": True}
        )

    def setUp(self):
        super().setUp()
        # the jobs commit after each batch unless the thread runs tests; Odoo's
        # test runner flags it, a runner loading the registry in test mode
        # (pytest-odoo with --odoo-extra=test-enable) clears the flag
        self.patch(threading.current_thread(), "testing", True)
        self.now = fields.Datetime.now()

    @contextmanager
    def _at(self, when):
        """Run the block at ``when``: Python time and the transaction's
        timestamp (``cr.now()``, used for create_date and
        date_last_stage_update); flushed, precommit hooks (tracking) included,
        as a transaction of that time would be."""
        with freeze_time(when), patch.object(self.env.cr, "now", lambda: when):
            yield
            self.env.cr.flush()

    @contextmanager
    def _cron_worker(self, progress):
        """Run as in a cron worker, where the jobs commit after each batch:
        the commits are recorded as ``progress()`` at that time, not done."""
        commits = []
        with (
            patch.object(threading.current_thread(), "testing", False),
            patch.object(self.env.cr, "commit", lambda: commits.append(progress())),
        ):
            yield commits

    def _days_ago(self, days):
        return self.now - timedelta(days=days)

    def _activities(self, leads, activity_type=None):
        domain = [("res_model", "=", "crm.lead"), ("res_id", "in", leads.ids)]
        if activity_type:
            domain.append(("activity_type_id", "=", activity_type.id))
        return self.env["mail.activity"].search(domain)

    def _messages(self, lead, text):
        return self.env["mail.message"].search(
            [
                ("model", "=", "crm.lead"),
                ("res_id", "=", lead.id),
                ("body", "ilike", text),
            ]
        )


@tagged("post_install", "-at_install")
class TestRevisit(RevisitCommon):
    """Lost deals come back to their salesperson on their revisit date."""

    def setUp(self):
        super().setUp()
        self.Loss = self.env["crm.lead.loss"]
        # the cron's own notion of today (OdooBot's time zone)
        self.today = fields.Date.context_today(self.Loss)

    def _lose_until(self, leads, revisit_date, reason=None):
        self._lose(leads, reason or self.reason_plain, lost_revisit_date=revisit_date)
        losses = self._losses(leads).filtered(lambda loss: loss.state == "lost")
        self.assertEqual(len(losses), len(leads))
        self.assertEqual(set(losses.mapped("revisit_date")), {revisit_date})
        return losses

    def _create_opportunity(self, name, user=None, team=None, **values):
        return self.env["crm.lead"].create(
            {
                "name": name,
                "type": "opportunity",
                "user_id": user.id if user else False,
                "team_id": team.id if team else False,
                "stage_id": self.stage_qualified.id,
                **values,
            }
        )

    def test_revisit_due_today_not_tomorrow(self):
        tomorrow = self.today + timedelta(days=1)
        due = self._lose_until(self.opportunity, self.today)
        later = self._lose_until(self.opportunity_2, tomorrow)
        self.assertIn(due, self.Loss.search(self.Loss._revisit_due_domain()))
        self.assertNotIn(later, self.Loss.search(self.Loss._revisit_due_domain()))

        self.env.ref(
            "crm_lost_management.ir_cron_crm_lead_loss_revisit"
        ).method_direct_trigger()

        self.assertTrue(due.revisit_scheduled)
        self.assertEqual(len(self._activities(self.opportunity, self.revisit_type)), 1)
        self.assertFalse(later.revisit_scheduled)
        self.assertFalse(self._activities(self.opportunity_2))

        # the next day, the other one comes due
        with freeze_time(self.now + timedelta(days=1)):
            self.Loss._cron_schedule_revisits()
        self.assertTrue(later.revisit_scheduled)
        activity = self._activities(self.opportunity_2, self.revisit_type)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.user_sales_all)
        self.assertEqual(activity.date_deadline, tomorrow)

    def test_revisit_overdue_date_is_scheduled(self):
        """A revisit date already past (job down, date edited) still counts."""
        last_week = self.today - timedelta(days=7)
        loss = self._lose_until(self.opportunity, last_week)
        self.Loss._cron_schedule_revisits()
        self.assertTrue(loss.revisit_scheduled)
        self.assertEqual(loss.revisit_activity_id.date_deadline, last_week)
        self.assertEqual(loss.revisit_activity_id.state, "overdue")

    def test_revisit_activity_and_note(self):
        loss = self._lose_until(self.opportunity, self.today, self.reason_plain)
        self.Loss._cron_schedule_revisits()

        activity = self._activities(self.opportunity)
        self.assertEqual(len(activity), 1)
        self.assertEqual(loss.revisit_activity_id, activity)
        self.assertTrue(loss.revisit_scheduled)
        self.assertEqual(activity.activity_type_id, self.revisit_type)
        self.assertEqual(activity.user_id, self.user_sales_own)
        self.assertEqual(activity.date_deadline, self.today)
        self.assertEqual(activity.summary, "Revisit lost deal")
        self.assertIn("CLM Too expensive", activity.note)
        self.assertFalse(self.opportunity.active, "the lead stays lost")
        self.assertEqual(loss.state, "lost")

        note = self._messages(self.opportunity, "Revisit of this lost deal")
        self.assertEqual(len(note), 1)
        self.assertIn("Sally Own", note.body)
        self.assertEqual(note.subtype_id, self.env.ref("mail.mt_note"))

    def test_revisit_restored_meanwhile(self):
        loss = self._lose_until(self.opportunity, self.today)
        self._restore(self.opportunity)
        self.assertEqual(loss.state, "recovered")
        self.Loss._cron_schedule_revisits()
        self.assertFalse(loss.revisit_scheduled)
        self.assertFalse(self._activities(self.opportunity))
        self.assertFalse(self._messages(self.opportunity, "Revisit of this lost deal"))

    def test_revisit_idempotent(self):
        loss = self._lose_until(self.opportunity, self.today)
        self.Loss._cron_schedule_revisits()
        self.Loss._cron_schedule_revisits()
        self.assertEqual(len(self._activities(self.opportunity)), 1)
        self.assertEqual(
            len(self._messages(self.opportunity, "Revisit of this lost deal")), 1
        )
        self.assertTrue(loss.revisit_scheduled)
        # done or cancelled, the activity is not planned again
        loss.revisit_activity_id.unlink()
        self.Loss._cron_schedule_revisits()
        self.assertFalse(self._activities(self.opportunity))

    def test_revisit_inactive_salesperson_goes_to_team_leader(self):
        gone = mail_new_test_user(
            self.env,
            login="clm_gone",
            name="Gina Gone",
            groups="sales_team.group_sale_salesman",
        )
        self.team_1.user_id = self.user_sales_all
        lead = self._create_opportunity("CLM Gone's deal", gone, self.team_1)
        loss = self._lose_until(lead, self.today)
        gone.active = False

        self.Loss._cron_schedule_revisits()

        self.assertEqual(loss.revisit_activity_id.user_id, self.user_sales_all)
        self.assertEqual(
            len(self._messages(lead, "scheduled for Sam All")), 1, "names the leader"
        )

    def test_revisit_nobody_to_assign(self):
        self.team_2.user_id = False
        lead = self._create_opportunity("CLM Orphan deal", team=self.team_2)
        no_team = self._create_opportunity("CLM Orphan deal, no team")
        losses = self._lose_until(lead | no_team, self.today)

        self.Loss._cron_schedule_revisits()

        self.assertFalse(self._activities(lead | no_team))
        self.assertTrue(all(losses.mapped("revisit_scheduled")))
        self.assertFalse(losses.revisit_activity_id)
        for orphan in lead | no_team:
            self.assertEqual(
                len(self._messages(orphan, "no active salesperson or team leader")),
                1,
                orphan.name,
            )
        # and it is not reported again the next day
        with freeze_time(self.now + timedelta(days=1)):
            self.Loss._cron_schedule_revisits()
        self.assertEqual(
            len(self._messages(lead, "no active salesperson or team leader")), 1
        )

    def test_revisit_archived_team_untouched(self):
        loss = self._lose_until(self.opportunity_2, self.today)
        self.team_2.action_archive()
        self.assertFalse(self.team_2.active)

        self.Loss._cron_schedule_revisits()

        self.assertFalse(loss.revisit_scheduled)
        self.assertFalse(self._activities(self.opportunity_2))
        self.assertFalse(self._messages(self.opportunity_2, "revisit"))

    def test_revisit_multi_company(self):
        lead_c2 = self._create_opportunity(
            "CLM Company 2 deal",
            self.user_company_2,
            self.team_c2,
            company_id=self.company_2.id,
        )
        loss = self._lose_until(lead_c2, self.today, self.reason_company_2)
        self.assertEqual(loss.company_id, self.company_2)
        Loss = type(self.Loss)
        schedule = Loss._schedule_revisit
        companies = {}

        def spy(losses, *args, **kwargs):
            for scheduled in losses:
                companies[scheduled.id] = losses.env.company
            return schedule(losses, *args, **kwargs)

        with patch.object(Loss, "_schedule_revisit", spy):
            self.Loss._cron_schedule_revisits()

        self.assertEqual(companies.get(loss.id), self.company_2)
        activity = loss.revisit_activity_id
        self.assertEqual(activity.user_id, self.user_company_2)
        self.assertEqual(activity.res_id, lead_c2.id)
        # reachable by Carla, who only works in company 2
        groups = (
            self.env["res.users"]
            .with_user(self.user_company_2)
            .with_context(allowed_company_ids=self.company_2.ids)
            ._get_activity_groups()
        )
        other = next(g for g in groups if g["model"] == "mail.activity")
        self.assertIn(activity.id, other["activity_ids"])

    def test_revisit_batches_commit_and_continue(self):
        leads = self.env["crm.lead"]
        for index in range(3):
            leads |= self._create_opportunity(
                f"CLM Deal {index}", self.user_sales_own, self.team_1
            )
        losses = self._lose_until(leads, self.today)
        due = self.Loss.search(self.Loss._revisit_due_domain(), order="id")
        self.assertLessEqual(losses, due)
        Loss = type(self.Loss)
        schedule = Loss._schedule_revisit
        calls = []

        def flaky(batch, *args, **kwargs):
            calls.append(batch.ids)
            if len(calls) == 2:
                raise RuntimeError("CLM simulated crash")
            return schedule(batch, *args, **kwargs)

        def scheduled():
            return len(losses.filtered("revisit_scheduled"))

        with self._cron_worker(scheduled) as commits:
            with patch.object(Loss, "_schedule_revisit", flaky):
                with self.assertRaisesRegex(RuntimeError, "CLM simulated crash"):
                    self.Loss._cron_schedule_revisits(batch_size=2)
            self.assertEqual(len(commits), 1, "the first batch was committed")
            self.assertEqual(
                self.Loss.search(self.Loss._revisit_due_domain(), order="id"), due[2:]
            )

            self.Loss._cron_schedule_revisits(batch_size=2)
            self.assertEqual(commits[-1], 3)
        self.assertTrue(all(losses.mapped("revisit_scheduled")))
        for lead in leads:
            self.assertEqual(len(self._activities(lead)), 1, lead.name)
            self.assertEqual(
                len(self._messages(lead, "Revisit of this lost deal")), 1, lead.name
            )

    def test_revisit_now(self):
        loss = self._lose_until(self.opportunity, self.today + timedelta(days=30))
        self.opportunity.with_user(self.user_sales_own).action_revisit_now()

        self.assertTrue(self.opportunity.active)
        self.assertEqual(self.opportunity.stage_id, self.stage_qualified)
        self.assertFalse(self.opportunity.lost_revisit_date)
        self.assertEqual(loss.state, "recovered")
        self.assertEqual(loss.restored_by_id, self.user_sales_own)
        self.assertEqual(loss.restore_note, "Revisited")
        self.assertTrue(loss.revisit_scheduled)
        activity = self._activities(self.opportunity)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.activity_type_id, self.revisit_type)
        self.assertEqual(activity.user_id, self.user_sales_own)
        self.assertEqual(
            activity.date_deadline,
            fields.Date.context_today(self.opportunity.with_user(self.user_sales_own)),
        )
        # the job will not plan it a second time
        self.Loss._cron_schedule_revisits()
        self.assertEqual(len(self._activities(self.opportunity)), 1)

    def test_revisit_now_after_the_job(self):
        """The job planned the revisit; the salesperson opens the lead and
        clicks Revisit Now: one revisit to do, not two."""
        loss = self._lose_until(self.opportunity, self.today)
        self.Loss._cron_schedule_revisits()
        self.assertEqual(len(self._activities(self.opportunity)), 1)

        self.opportunity.with_user(self.user_sales_own).action_revisit_now()

        self.assertTrue(self.opportunity.active)
        self.assertEqual(loss.state, "recovered")
        # Regression: crm_lead.py action_revisit_now plans a new revisit activity
        # without looking at the one the job already planned
        # (loss.revisit_activity_id, still open since the lead was lost):
        # the salesperson ends up with two "Revisit lost deal" activities.
        self.assertEqual(len(self._activities(self.opportunity, self.revisit_type)), 1)

    def test_revisit_now_after_reassignment(self):
        """The job planned the revisit for Sally; the lead goes to Sam, who
        clicks Revisit Now: the revisit is today's, and his."""
        self._lose_until(self.opportunity, self.today)
        self.Loss._cron_schedule_revisits()
        self.opportunity.user_id = self.user_sales_all
        self.opportunity.with_user(self.user_sales_all).action_revisit_now()
        activity = self._activities(self.opportunity, self.revisit_type)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.user_sales_all)

    def test_revisit_now_not_lost(self):
        self.assertTrue(self.opportunity.active)
        with self.assertRaises(UserError) as error:
            self.opportunity.action_revisit_now()
        self.assertIn("CLM Opportunity Sally", str(error.exception))
        self.assertFalse(self._activities(self.opportunity))
        self.assertFalse(self._losses(self.opportunity))

    def _filter_domain(self, model, view_xmlid, name):
        view = self.env.ref(view_xmlid)
        arch = self.env[model].get_view(view.id, "search")["arch"]
        node = etree.fromstring(arch).xpath(f"//filter[@name='{name}']")
        self.assertEqual(len(node), 1, f"{view_xmlid}: filter {name}")
        return safe_eval(
            node[0].get("domain"),
            {
                "context_today": lambda: fields.Date.context_today(self.env[model]),
                "relativedelta": relativedelta,
                "uid": self.env.uid,
            },
        )

    def test_revisit_due_filters(self):
        due = self.opportunity
        later = self.opportunity_2
        no_date = self._create_opportunity("CLM No revisit date", team=self.team_1)
        restored = self._create_opportunity("CLM Restored", team=self.team_1)
        self._lose_until(due, self.today - timedelta(days=1))
        self._lose_until(later, self.today + timedelta(days=1))
        self._lose(no_date, self.reason_plain)
        self._lose_until(restored, self.today)
        self._restore(restored)
        mine = due | later | no_date | restored

        Lead = self.env["crm.lead"].with_context(active_test=False)
        for view in (
            "crm.view_crm_case_opportunities_filter",
            "crm.view_crm_case_leads_filter",
        ):
            domain = self._filter_domain("crm.lead", view, "filter_revisit_due")
            self.assertEqual(Lead.search(domain) & mine, due, view)

        domain = self._filter_domain(
            "crm.lead.loss",
            "crm_lost_management.crm_lead_loss_view_search",
            "filter_revisit_due",
        )
        self.assertEqual(
            self.Loss.search(domain) & self._losses(mine), self._losses(due)
        )

    def test_revisit_in_systray_other_activities(self):
        """The lead list of the "Lead/Opportunity" group hides archived leads:
        a revisit activity is listed under "Other activities" instead."""
        loss = self._lose_until(self.opportunity, self.today)
        self.Loss._cron_schedule_revisits()
        revisit = loss.revisit_activity_id
        self.assertTrue(revisit)
        Users = self.env["res.users"].with_user(self.user_sales_own)

        groups = Users._get_activity_groups()
        self.assertNotIn("crm.lead", [g["model"] for g in groups])
        other = next(g for g in groups if g["model"] == "mail.activity")
        self.assertEqual(other["activity_ids"], revisit.ids)
        # due today, in Sally's time zone (or tomorrow just after midnight)
        self.assertIn(revisit.state, ("today", "planned"))
        self.assertEqual(other[f"{revisit.state}_count"], 1)
        due_now = int(revisit.state == "today")
        self.assertEqual(other["total_count"], due_now)

        # with an activity on an active lead, the lead group keeps only that one
        active_lead = self._create_opportunity(
            "CLM Active deal", self.user_sales_own, self.team_1
        )
        planned = active_lead.activity_schedule(
            "mail.mail_activity_data_todo",
            date_deadline=self.today + timedelta(days=3),
            user_id=self.user_sales_own.id,
        )
        groups = Users._get_activity_groups()
        lead_group = next(g for g in groups if g["model"] == "crm.lead")
        self.assertEqual(lead_group["planned_count"], 1)
        self.assertEqual(lead_group["today_count"], 0)
        self.assertEqual(lead_group["overdue_count"], 0)
        self.assertEqual(lead_group["total_count"], 0)
        other = next(g for g in groups if g["model"] == "mail.activity")
        self.assertEqual(other["activity_ids"], revisit.ids)
        self.assertNotIn(planned.id, other["activity_ids"])
        self.assertEqual(other["total_count"], due_now)


@tagged("post_install", "-at_install")
class TestStale(RevisitCommon):
    """Idle opportunities are warned about, then marked lost, per team."""

    def setUp(self):
        super().setUp()
        self.Team = self.env["crm.team"]

    def _configure(self, team, days, reason, warning=0):
        team.write(
            {
                "stale_lost_days": days,
                "stale_lost_reason_id": reason.id,
                "stale_warning_days": warning,
            }
        )

    def _idle(self, name, days, team=None, user=None, **values):
        """An opportunity created ``days`` days ago and left alone since."""
        team = team or self.team_1
        with self._at(self._days_ago(days)):
            lead = self.env["crm.lead"].create(
                {
                    "name": name,
                    "type": "opportunity",
                    "team_id": team.id,
                    "user_id": (user or self.user_sales_own).id,
                    "stage_id": self.stage_new.id,
                    **values,
                }
            )
        self.assertEqual(lead.create_date, self._days_ago(days))
        self.assertEqual(lead.date_last_stage_update, self._days_ago(days))
        return lead

    def _run(self, **kwargs):
        self.Team._cron_lose_stale_opportunities(**kwargs)

    def _auto_losses(self, leads):
        return self._losses(leads).filtered("is_automatic")

    # settings

    def test_per_team_settings(self):
        self._configure(self.team_1, 30, self.reason_plain)
        self._configure(self.team_2, 60, self.reason_note)
        team_3 = self.Team.create({"name": "CLM Team Off"})
        self.assertEqual(team_3.stale_lost_days, 0, "off by default")
        east_40 = self._idle("CLM East idle 40", 40, self.team_1)
        east_20 = self._idle("CLM East idle 20", 20, self.team_1)
        west_40 = self._idle("CLM West idle 40", 40, self.team_2)
        west_70 = self._idle("CLM West idle 70", 70, self.team_2)
        off_400 = self._idle("CLM Off idle 400", 400, team_3)

        self._run()

        self.assertFalse(east_40.active)
        self.assertEqual(east_40.lost_reason_id, self.reason_plain)
        self.assertFalse(west_70.active)
        self.assertEqual(west_70.lost_reason_id, self.reason_note)
        for kept in east_20 | west_40 | off_400:
            self.assertTrue(kept.active, kept.name)
            self.assertFalse(self._losses(kept), kept.name)
        self.assertFalse(self._activities(east_20 | west_40 | off_400))

    def test_archived_team_untouched(self):
        self._configure(self.team_2, 30, self.reason_plain)
        idle = self._idle("CLM West idle", 40, self.team_2)
        self.team_2.action_archive()
        self.assertFalse(self.team_2._get_stale_opportunities())
        self._run()
        self.assertTrue(idle.active)
        self.assertFalse(self._losses(idle))

    def test_settings_constraints(self):
        self._configure(self.team_1, 30, self.reason_plain, warning=5)
        invalid = [
            ({"stale_lost_days": 10, "stale_lost_reason_id": False}, "choose the"),
            ({"stale_lost_reason_id": self.reason_lead_only.id}, "cannot use"),
            ({"stale_lost_reason_id": self.reason_competitor.id}, "cannot use"),
            ({"stale_lost_reason_id": self.reason_company_2.id}, "cannot use"),
            ({"stale_warning_days": 30}, "warn fewer days"),
            ({"stale_warning_days": 31}, "warn fewer days"),
            ({"stale_lost_days": -1}, "cannot be negative"),
            ({"stale_warning_days": -1}, "cannot be negative"),
            ({"stale_lost_days": 0, "stale_warning_days": -1}, "cannot be negative"),
        ]
        for values, message in invalid:
            with self.subTest(values=values):
                with self.assertRaises(ValidationError) as error:
                    self.team_1.write(values)
                self.assertIn(message, str(error.exception))
                self.assertEqual(self.team_1.stale_lost_days, 30)
                self.assertEqual(self.team_1.stale_lost_reason_id, self.reason_plain)
                self.assertEqual(self.team_1.stale_warning_days, 5)
        # a reason limited to another team
        with self.assertRaises(ValidationError) as error:
            self._configure(self.team_2, 30, self.reason_team_1)
        self.assertIn("Lost Team West cannot use", str(error.exception))
        self.assertEqual(self.team_2.stale_lost_days, 0)
        self.assertFalse(self.team_2.stale_lost_reason_id)
        # valid: a reason limited to the team or to opportunities, no warning;
        # off needs no reason
        self._configure(self.team_1, 30, self.reason_team_1)
        self.assertEqual(self.team_1.stale_lost_reason_id, self.reason_team_1)
        self.assertEqual(self.team_1.stale_warning_days, 0)
        self.team_1.stale_lost_reason_id = self.reason_opportunity_only
        self.assertEqual(self.team_1.stale_lost_reason_id, self.reason_opportunity_only)
        self.team_1.write({"stale_lost_days": 0, "stale_lost_reason_id": False})
        self.assertEqual(self.team_1.stale_lost_days, 0)

    # idle definition

    def test_idle_definition(self):
        self._configure(self.team_1, 30, self.reason_plain)
        idle = self._idle("CLM Idle", 40)
        stage_moved = self._idle("CLM Stage moved", 40)
        with self._at(self._days_ago(10)):
            stage_moved.stage_id = self.stage_qualified
        stage_moved_long_ago = self._idle("CLM Stage moved long ago", 40)
        with self._at(self._days_ago(35)):
            stage_moved_long_ago.stage_id = self.stage_qualified
        noted = self._idle("CLM Noted", 40)
        with self._at(self._days_ago(10)):
            noted.message_post(body="Called them", message_type="comment")
        noted_long_ago = self._idle("CLM Noted long ago", 40)
        with self._at(self._days_ago(35)):
            noted_long_ago.message_post(body="Called them", message_type="comment")
        planned = self._idle("CLM Planned", 40)
        with self._at(self._days_ago(39)):
            planned.activity_schedule(
                "mail.mail_activity_data_call",
                date_deadline=fields.Date.to_date(self._days_ago(38)),
                user_id=self.user_sales_own.id,
            )
        done = self._idle("CLM Done activity", 40)
        done_long_ago = self._idle("CLM Done activity long ago", 40)
        with self._at(self._days_ago(39)):
            (done | done_long_ago).activity_schedule(
                "mail.mail_activity_data_call", user_id=self.user_sales_own.id
            )
        with self._at(self._days_ago(10)):
            self._activities(done).action_feedback(feedback="Talked to them")
        with self._at(self._days_ago(35)):
            self._activities(done_long_ago).action_feedback(feedback="Talked")
        tracked = self._idle("CLM Tracked", 40)
        with self._at(self._days_ago(10)):
            tracked.with_env(self.env(context={})).expected_revenue = 9999
        self.assertTrue(
            self.env["mail.message"].search(
                [
                    ("model", "=", "crm.lead"),
                    ("res_id", "=", tracked.id),
                    ("tracking_value_ids", "!=", False),
                    ("date", ">=", self._days_ago(30)),
                ]
            ),
            "a tracking message was logged within the period",
        )
        young = self._idle("CLM Young", 20)

        stale = self.team_1._get_stale_opportunities()
        expected_idle = idle | stage_moved_long_ago | noted_long_ago | tracked
        expected_idle |= done_long_ago
        worked = stage_moved | noted | planned | done | young
        self.assertEqual(stale & (expected_idle | worked), expected_idle)

        self._run()

        for lead in expected_idle:
            self.assertFalse(lead.active, lead.name)
        for lead in worked:
            self.assertTrue(lead.active, lead.name)
            self.assertFalse(self._losses(lead), lead.name)

    def test_won_and_leads_skipped(self):
        self._configure(self.team_1, 30, self.reason_plain)
        won = self._idle("CLM Won idle", 40, stage_id=self.stage_won.id)
        self.assertEqual(won.probability, 100)
        sure = self._idle("CLM Sure idle", 40, probability=100)
        lead = self._idle("CLM Lead idle", 40, type="lead")
        already_lost = self._idle("CLM Lost idle", 40)
        self._lose(already_lost, self.reason_note, feedback="<p>Gone</p>")
        idle = self._idle("CLM Idle", 40)

        self._run()

        self.assertFalse(idle.active)
        for kept in won | sure | lead:
            self.assertTrue(kept.active, kept.name)
            self.assertFalse(self._losses(kept), kept.name)
        self.assertEqual(len(self._losses(already_lost)), 1)
        self.assertEqual(already_lost.lost_reason_id, self.reason_note)

    # what the job does

    def test_preview_is_what_the_job_closes(self):
        self._configure(self.team_1, 30, self.reason_plain, warning=5)
        stale = self._idle("CLM Stale A", 40) | self._idle("CLM Stale B", 31)
        warned = self._idle("CLM Warn", 27)
        kept = self._idle("CLM Kept", 10)
        other_team = self._idle("CLM Other team", 40, self.team_2)

        preview = self.team_1._get_stale_opportunities()
        action = self.team_1.action_open_stale_opportunities()
        self.assertEqual(action["res_model"], "crm.lead")
        self.assertEqual(self.env["crm.lead"].search(action["domain"]), preview)
        self.assertEqual(preview & (stale | warned | kept | other_team), stale)

        self._run()

        closed = self.env["crm.lead.loss"].search(
            [("is_automatic", "=", True), ("team_id", "=", self.team_1.id)]
        )
        self.assertEqual(closed.lead_id, preview)
        self.assertEqual(len(closed), len(preview))
        self.assertFalse(self.team_1._get_stale_opportunities())

    def test_automatic_loss(self):
        self._configure(self.team_1, 30, self.reason_plain)
        lead = self._idle("CLM Idle", 40)
        self.env.ref(
            "crm_lost_management.ir_cron_crm_team_stale_lost"
        ).method_direct_trigger()

        self.assertFalse(lead.active)
        self.assertEqual(lead.probability, 0)
        self.assertEqual(lead.lost_reason_id, self.reason_plain)
        self.assertEqual(lead.lost_by_id, self.env.ref("base.user_root"))
        self.assertIn("no activity for 30 days", lead.lost_note)
        self.assertIn("Lost Team East", lead.lost_note)
        loss = self._losses(lead)
        self.assertEqual(len(loss), 1)
        self.assertTrue(loss.is_automatic)
        self.assertEqual(loss.state, "lost")
        self.assertEqual(loss.lost_by_id, self.env.ref("base.user_root"))
        self.assertEqual(loss.lost_reason_id, self.reason_plain)
        self.assertEqual(loss.user_id, self.user_sales_own)
        self.assertEqual(loss.team_id, self.team_1)
        self.assertIn("no activity for 30 days", loss.closing_note_text)
        self.assertEqual(loss.days_open, 40)
        # a loss by hand is not automatic
        self._lose(self.opportunity, self.reason_plain)
        self.assertFalse(self._losses(self.opportunity).is_automatic)

    def test_warning_then_lost(self):
        self._configure(self.team_1, 30, self.reason_plain, warning=5)
        lead = self._idle("CLM Idle 27", 27)
        young = self._idle("CLM Idle 20", 20)

        self._run()

        self.assertTrue(lead.active, "warned, not lost")
        self.assertFalse(self._losses(lead))
        warning = self._activities(lead)
        self.assertEqual(len(warning), 1)
        self.assertEqual(warning.activity_type_id, self.warning_type)
        self.assertEqual(warning.user_id, self.user_sales_own)
        self.assertEqual(
            warning.date_deadline,
            fields.Date.context_today(self.Team) + timedelta(days=5),
        )
        self.assertFalse(self._activities(young))

        self._run()
        self.assertEqual(len(self._activities(lead)), 1, "warned once")

        # three days later the warning itself does not count as work
        with self._at(self.now + timedelta(days=3)):
            self._run()
            self.assertTrue(lead.active)
            self.assertEqual(self._activities(lead), warning)
            self.assertFalse(self._activities(young))
        # four days later it is idle for 31 days: lost, the warning goes
        with self._at(self.now + timedelta(days=4)):
            self._run()
        self.assertFalse(lead.active)
        self.assertTrue(self._auto_losses(lead))
        self.assertFalse(warning.exists())
        self.assertFalse(self._activities(lead))
        self.assertTrue(young.active)

    def test_warning_done_counts_as_work(self):
        self._configure(self.team_1, 30, self.reason_plain, warning=5)
        lead = self._idle("CLM Idle 27", 27)
        self._run()
        self._activities(lead).action_feedback(feedback="Still interested")
        with self._at(self.now + timedelta(days=4)):
            self._run()
        self.assertTrue(lead.active)
        self.assertFalse(self._losses(lead))

    def _flaky_mark_lost(self, leads, calls):
        """``_stale_mark_lost`` crashing on its second call, after checking
        that the first batch went through."""
        CrmTeam = type(self.Team)
        mark_lost = CrmTeam._stale_mark_lost

        def flaky(team, batch):
            calls.append(len(batch))
            if len(calls) == 2:
                self.assertEqual(len(self._auto_losses(leads)), 2)
                raise RuntimeError("CLM simulated crash")
            return mark_lost(team, batch)

        return patch.object(CrmTeam, "_stale_mark_lost", flaky)

    def test_batches_rerun_after_a_failure(self):
        """In tests (no commit) the failed run is rolled back; a clean rerun
        closes every idle opportunity, each once."""
        self._configure(self.team_1, 30, self.reason_plain)
        leads = self.env["crm.lead"]
        for index in range(5):
            leads |= self._idle(f"CLM Idle {index}", 40)
        calls = []
        with self._flaky_mark_lost(leads, calls):
            with self.assertRaises(RuntimeError):
                self._run(batch_size=2)
        self.assertEqual(calls, [2, 2])
        self.assertFalse(self._losses(leads), "rolled back to the savepoint")

        self._run(batch_size=2)
        self.assertFalse(any(leads.mapped("active")))
        losses = self._losses(leads)
        self.assertEqual(len(losses), 5)
        self.assertEqual(losses.lead_id, leads)
        self._run(batch_size=2)
        self.assertEqual(len(self._losses(leads)), 5)

    def test_batches_commit_and_continue(self):
        """As the cron worker runs it: a commit after each batch, so that after
        a crash the next run continues with what is left."""
        self._configure(self.team_1, 30, self.reason_plain)
        leads = self.env["crm.lead"]
        for index in range(5):
            leads |= self._idle(f"CLM Idle {index}", 40)
        calls = []
        with self._cron_worker(lambda: len(self._auto_losses(leads))) as commits:
            with self._flaky_mark_lost(leads, calls):
                with self.assertRaisesRegex(RuntimeError, "CLM simulated crash"):
                    self._run(batch_size=2)
            self.assertEqual(calls, [2, 2])
            self.assertEqual(commits, [2], "the first batch was committed")
            self.assertEqual(len(self._auto_losses(leads)), 2)

            self._run(batch_size=2)
            self.assertEqual(commits, [2, 4, 5])
        self.assertFalse(any(leads.mapped("active")))
        losses = self._losses(leads)
        self.assertEqual(len(losses), 5)
        self.assertEqual(losses.lead_id, leads)

    def test_reason_archived_after_configuration(self):
        """Lost reasons are archived instead of deleted: a team still set to
        give an archived reason must not stop the job for the other teams."""
        reason_old = self.env["crm.lost.reason"].create({"name": "CLM Idle (old)"})
        self._configure(self.team_1, 30, reason_old)
        self._configure(self.team_2, 30, self.reason_plain)
        east = self._idle("CLM East idle", 40, self.team_1)
        west = self._idle("CLM West idle", 40, self.team_2)
        reason_old.action_archive()

        # Regression: crm_team.py _cron_lose_stale_opportunities lets the
        # ValidationError of _check_lost_reason_policy ("the lost reason ... is
        # archived") raised for team East escape: the whole job fails, every
        # day, and West's idle opportunities are never closed either. Nothing
        # re-checks the team settings when their reason is archived (or made
        # to require a competitor, or limited to leads/other teams).
        self._run()

        self.assertFalse(west.active)
        self.assertEqual(west.lost_reason_id, self.reason_plain)
        self.assertTrue(east.active)
        self.assertFalse(self._losses(east))

    def test_multi_company(self):
        self._configure(self.team_1, 30, self.reason_plain)
        self._configure(self.team_c2, 30, self.reason_company_2)
        lead_c2 = self._idle(
            "CLM Co2 idle",
            40,
            self.team_c2,
            self.user_company_2,
            company_id=self.company_2.id,
        )
        lead_c1 = self._idle("CLM Co1 idle", 40)

        self._run()

        self.assertFalse(lead_c2.active)
        self.assertEqual(lead_c2.lost_reason_id, self.reason_company_2)
        loss = self._losses(lead_c2)
        self.assertEqual(loss.company_id, self.company_2)
        self.assertEqual(loss.lost_reason_id, self.reason_company_2)
        self.assertTrue(loss.is_automatic)
        self.assertEqual(lead_c1.lost_reason_id, self.reason_plain)


@tagged("post_install", "-at_install")
class TestRevisitAccess(RevisitCommon):
    """Who may preview stale opportunities, configure them, revisit."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team_1.write(
            {
                "stale_lost_days": 30,
                "stale_lost_reason_id": cls.reason_plain.id,
                "stale_warning_days": 5,
            }
        )

    def test_manager_previews_stale(self):
        with self._at(self._days_ago(40)):
            idle = self.env["crm.lead"].create(
                {
                    "name": "CLM Idle",
                    "type": "opportunity",
                    "team_id": self.team_1.id,
                    "user_id": self.user_sales_all.id,
                }
            )
        action = self.team_1.with_user(
            self.user_manager
        ).action_open_stale_opportunities()
        self.assertIn("Lost Team East", action["name"])
        leads = (
            self.env["crm.lead"].with_user(self.user_manager).search(action["domain"])
        )
        self.assertEqual(leads, self.team_1._get_stale_opportunities())
        self.assertIn(idle, leads)

    @users("clm_sales_own", "clm_sales_all")
    def test_salesperson_cannot_configure(self):
        team = self.team_1.with_env(self.env)
        for values in (
            {"stale_lost_days": 0},
            {"stale_lost_days": 60},
            {"stale_warning_days": 1},
            {"stale_lost_reason_id": self.reason_note.id},
        ):
            with self.subTest(values=values), self.assertRaises(AccessError):
                team.write(values)
        team.invalidate_recordset()
        self.assertEqual(team.stale_lost_days, 30)
        self.assertEqual(team.stale_warning_days, 5)
        self.assertEqual(team.stale_lost_reason_id, self.reason_plain)

    @users("clm_manager")
    def test_manager_configures(self):
        team = self.team_2.with_env(self.env)
        team.write(
            {
                "stale_lost_days": 45,
                "stale_lost_reason_id": self.reason_note.id,
                "stale_warning_days": 7,
            }
        )
        self.assertEqual(team.stale_lost_days, 45)

    def test_salesperson_revisits_own_leads_only(self):
        self._lose(self.opportunity | self.opportunity_2, self.reason_plain)
        own = self.opportunity.with_user(self.user_sales_own)
        other = self.opportunity_2.with_user(self.user_sales_own)
        with self.assertRaises(AccessError):
            other.action_revisit_now()
        self.assertFalse(self.opportunity_2.active)
        self.assertEqual(self._losses(self.opportunity_2).state, "lost")
        self.assertFalse(self._activities(self.opportunity_2))

        own.action_revisit_now()
        self.assertTrue(self.opportunity.active)
        self.assertEqual(self._losses(self.opportunity).state, "recovered")
