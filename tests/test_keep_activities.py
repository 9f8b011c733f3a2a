# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.tests import Form, tagged
from odoo.tests.common import users, warmup
from odoo.tools.safe_eval import safe_eval

from .test_revisit import RevisitCommon


class KeepActivitiesCommon(RevisitCommon):
    """Planned activities of leads being lost: kept or deleted, per company
    (*Keep Planned Activities of Lost Leads*)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.todo_type = cls.env.ref("mail.mail_activity_data_todo")
        cls.company.crm_lost_keep_activities = True

    def setUp(self):
        super().setUp()
        self.Loss = self.env["crm.lead.loss"]
        self.today = fields.Date.context_today(self.Loss)

    def _opportunity(self, name, company=None, user=None, team=None):
        company = company or self.company
        return self.env["crm.lead"].create(
            {
                "name": name,
                "type": "opportunity",
                "company_id": company.id,
                "user_id": (user or self._default_user(company)).id,
                "team_id": (team or self._default_team(company)).id,
                "stage_id": self.stage_qualified.id,
            }
        )

    def _default_user(self, company):
        return self.user_sales_own if company == self.company else self.user_company_2

    def _default_team(self, company):
        return self.team_1 if company == self.company else self.team_c2

    def _plan(self, lead, activity_type=None, days=3, user=None, deadline=None):
        return (
            self.env["mail.activity"]
            .sudo()
            .create(
                {
                    "res_model_id": self.env["ir.model"]._get_id("crm.lead"),
                    "res_id": lead.id,
                    "activity_type_id": (activity_type or self.todo_type).id,
                    "summary": f"CLM call back {lead.name}",
                    "date_deadline": deadline or self.today + timedelta(days=days),
                    "user_id": (user or lead.user_id).id,
                }
            )
        )

    def _planned(self, leads):
        """The planned (not done) activities of ``leads``, lost or not."""
        return self.env["mail.activity"].search(
            [("res_model", "=", "crm.lead"), ("res_id", "in", leads.ids)]
        )

    def _losing_paths(self):
        """Every way a lead gets lost, by name: each loses ``leads``."""
        return {
            "Mark as Lost dialog": lambda leads: self._lose(leads, self.reason_plain),
            "action_set_lost": lambda leads: leads.action_set_lost(
                lost_reason_id=self.reason_plain.id
            ),
            "action_archive": lambda leads: leads.action_archive(),
            "toggle_active": lambda leads: leads.toggle_active(),
            "write active=False": lambda leads: leads.write({"active": False}),
            "stale job (_stale_mark_lost)": self._stale_mark_lost,
        }

    def _stale_mark_lost(self, leads):
        self.team_1.write(
            {
                "stale_lost_days": 30,
                "stale_lost_reason_id": self.reason_plain.id,
                "stale_warning_days": 0,
            }
        )
        self.team_1._stale_mark_lost(leads)


@tagged("post_install", "-at_install")
class TestKeepActivities(KeepActivitiesCommon):
    def test_setting_on_for_existing_companies(self):
        """A new column with a default: the ORM fills it for the companies
        that exist when the module is installed or upgraded to 18.0.1.2.0."""
        self.env.cr.execute(
            "SELECT count(*) FROM res_company"
            " WHERE crm_lost_keep_activities IS NOT TRUE"
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.assertTrue(self.env.ref("base.main_company").crm_lost_keep_activities)
        self.assertTrue(self.company_2.crm_lost_keep_activities, "new company")
        self.assertTrue(
            self.env["res.company"].create({"name": "CLM New"}).crm_lost_keep_activities
        )

    def test_every_losing_path_keeps_activities(self):
        for path, lose in self._losing_paths().items():
            with self.subTest(path=path):
                lead = self._opportunity(f"CLM Keep {path}")
                activity = self._plan(lead)
                lose(lead)
                self.assertFalse(lead.active)
                self.assertEqual(lead.probability, 0)
                self.assertEqual(self._losses(lead).state, "lost")
                self.assertTrue(activity.exists())
                self.assertTrue(activity.active, "still planned, not done")
                self.assertEqual(lead.activity_ids, activity)
                self.assertEqual(lead.activity_state, "planned")

    def test_setting_off_deletes_activities_on_every_path(self):
        self.company.crm_lost_keep_activities = False
        for path, lose in self._losing_paths().items():
            with self.subTest(path=path):
                lead = self._opportunity(f"CLM Drop {path}")
                activity = self._plan(lead)
                lose(lead)
                self.assertFalse(lead.active)
                self.assertFalse(activity.exists())
                self.assertFalse(self._planned(lead))

    def test_already_lost_leads_written_lost_again(self):
        """Stock deletes the activities of every record written
        ``active=False``, lost already or not (an import of lost leads
        does it): the setting keeps them too."""
        lead = self._opportunity("CLM Lost twice")
        self._lose(lead, self.reason_plain)
        activity = self._plan(lead)
        lead.write({"active": False, "lost_reason_id": self.reason_team_1.id})
        self.assertTrue(activity.exists())
        self.company.crm_lost_keep_activities = False
        lead.write({"active": False})
        self.assertFalse(activity.exists())

    def test_done_activities_are_not_touched(self):
        """Done activities (kept by a *Keep Done* type: ``active`` False) stay
        done, whatever the setting: only planned ones are concerned."""
        self.todo_type.keep_done = True
        for keep in (True, False):
            with self.subTest(keep=keep):
                self.company.crm_lost_keep_activities = keep
                lead = self._opportunity(f"CLM Done {keep}")
                done = self._plan(lead)
                done.action_done()
                self.assertFalse(done.active)
                self._lose(lead, self.reason_plain)
                self.assertTrue(done.exists())
                self.assertFalse(done.active)
                self.assertFalse(self._planned(lead))

    def test_stale_warning_goes_with_the_loss(self):
        """The stale opportunity warning announces the loss: the loss ends
        it, whatever the setting; the other activities stay."""
        lead = self._opportunity("CLM Warned")
        warning = self._plan(lead, self.warning_type)
        todo = self._plan(lead)
        self._lose(lead, self.reason_plain)
        self.assertFalse(warning.exists())
        self.assertTrue(todo.exists())

    def test_stale_job_loses_with_warning_gone(self):
        """The daily job itself: the idle opportunity (planned nothing but
        the warning) is lost, its warning gone."""
        self.team_1.write(
            {
                "stale_lost_days": 30,
                "stale_lost_reason_id": self.reason_plain.id,
                "stale_warning_days": 5,
            }
        )
        with self._at(self._days_ago(40)):
            lead = self._opportunity("CLM Idle")
        warning = self._plan(lead, self.warning_type, days=-1)
        self.Team = self.env["crm.team"]
        self.Team._cron_lose_stale_opportunities()
        self.assertFalse(lead.active)
        self.assertTrue(self._losses(lead).is_automatic)
        self.assertFalse(warning.exists())

    def test_restore_keeps_activities(self):
        for path in ("Restore dialog", "action_unarchive", "toggle_active"):
            with self.subTest(path=path):
                lead = self._opportunity(f"CLM Back {path}")
                activity = self._plan(lead)
                self._lose(lead, self.reason_plain)
                if path == "Restore dialog":
                    self._restore(lead, note="Back")
                elif path == "action_unarchive":
                    lead.action_unarchive()
                else:
                    lead.toggle_active()
                self.assertTrue(lead.active)
                self.assertEqual(self._losses(lead).state, "recovered")
                self.assertEqual(lead.activity_ids, activity)
                self.assertTrue(activity.active)

    def test_multi_company_batch(self):
        """One batch over two companies: each lead follows its own
        company's setting."""
        self.company_2.crm_lost_keep_activities = False
        for path in ("action_archive", "write active=False"):
            with self.subTest(path=path):
                kept = self._opportunity(f"CLM Co1 {path}")
                dropped = self._opportunity(f"CLM Co2 {path}", company=self.company_2)
                kept_activity = self._plan(kept)
                dropped_activity = self._plan(dropped)
                self._losing_paths()[path](kept | dropped)
                self.assertFalse(kept.active or dropped.active)
                self.assertTrue(kept_activity.exists())
                self.assertFalse(dropped_activity.exists())

    def test_settings_page_and_lost_settings(self):
        """The administrators' settings page and the sales managers' *Lost
        Settings* dialog change the current company's value."""
        with Form(self.env["res.config.settings"]) as form:
            self.assertTrue(form.crm_lost_keep_activities)
            form.crm_lost_keep_activities = False
        form.record.execute()
        self.assertFalse(self.company.crm_lost_keep_activities)
        self.assertTrue(self.company_2.crm_lost_keep_activities)

        Settings = self.env["crm.lost.settings"].with_user(self.user_manager)
        with Form(Settings) as form:
            self.assertFalse(form.crm_lost_keep_activities)
            form.crm_lost_keep_activities = True
        form.record.action_save()
        self.assertTrue(self.company.crm_lost_keep_activities)


@tagged("post_install", "-at_install")
class TestKeptActivitiesVisible(KeepActivitiesCommon):
    """The activities a lost lead keeps can be found: activity menu, the
    lead Activities view with the Lost filter, the activity filters."""

    def setUp(self):
        super().setUp()
        # due today for Sally (her time zone, which the activity uses)
        self.sally_today = fields.Date.context_today(
            self.env["crm.lead"].with_user(self.user_sales_own)
        )
        self.lost = self._opportunity("CLM Lost with a call")
        self.activity = self._plan(self.lost, deadline=self.sally_today)
        self._lose(self.lost, self.reason_plain)
        self.assertTrue(self.activity.exists())

    def _view_filter(self, name):
        view = self.env.ref("crm.view_crm_case_opportunities_filter")
        arch = self.env["crm.lead"].get_view(view.id, "search")["arch"]
        node = etree.fromstring(arch).xpath(f"//filter[@name='{name}']")[0]
        return safe_eval(
            node.get("domain"),
            {
                "context_today": lambda: fields.Date.context_today(self.env.user),
                "uid": self.env.uid,
            },
        )

    @users("clm_sales_own")
    def test_activity_menu(self):
        groups = self.env.user._get_activity_groups()
        listed = {
            activity_id
            for group in groups
            for activity_id in group.get("activity_ids", [])
        }
        self.assertIn(self.activity.id, listed)
        other = next(group for group in groups if group["model"] == "mail.activity")
        self.assertEqual(other["total_count"], 1, "due today")

    @users("clm_sales_own")
    def test_activities_view_with_lost_filter(self):
        data = self.env["mail.activity"].get_activity_data(
            "crm.lead", self._view_filter("filter_lost")
        )
        self.assertIn(self.lost.id, data["activity_res_ids"])
        grouped = data["grouped_activities"][self.lost.id][self.todo_type.id]
        self.assertEqual(grouped["ids"], self.activity.ids)

    @users("clm_sales_own")
    def test_activity_filters_find_lost_leads(self):
        Lead = self.env["crm.lead"].with_context(active_test=False)
        for name in ("activities_today", "filter_lost"):
            with self.subTest(filter=name):
                self.assertIn(self.lost, Lead.search(self._view_filter(name)))
        self.assertEqual(
            Lead.search([("activity_ids", "in", self.activity.ids)]), self.lost
        )
        self.assertIn(
            self.lost,
            Lead.search([("my_activity_date_deadline", "=", self.sally_today)]),
        )
        self.assertIn(self.lost, Lead.search([("activity_user_id", "=", self.env.uid)]))


@tagged("post_install", "-at_install")
class TestKeptRevisitReused(KeepActivitiesCommon):
    """The revisit job and Revisit Now reuse a *Revisit lost deal* activity
    already planned on the lead instead of planning a second one."""

    def _revisits(self, lead):
        return self._activities(lead, self.revisit_type)

    def test_job_reuses_kept_revisit(self):
        lead = self._opportunity("CLM Revisit kept")
        planned = self._plan(lead, self.revisit_type, days=20)
        self._lose(lead, self.reason_plain, lost_revisit_date=self.today)
        loss = self._losses(lead)

        self.Loss._cron_schedule_revisits()

        self.assertEqual(self._revisits(lead), planned)
        self.assertEqual(loss.revisit_activity_id, planned)
        self.assertTrue(loss.revisit_scheduled)
        self.assertEqual(planned.date_deadline, self.today + timedelta(days=20))
        self.assertEqual(len(self._messages(lead, "already planned")), 1)
        self.Loss._cron_schedule_revisits()
        self.assertEqual(self._revisits(lead), planned)

    def test_job_plans_one_when_setting_off(self):
        """Setting off: the revisit planned before the loss is deleted with
        it, and the job plans a new one, as before."""
        self.company.crm_lost_keep_activities = False
        lead = self._opportunity("CLM Revisit dropped")
        planned = self._plan(lead, self.revisit_type, days=20)
        self._lose(lead, self.reason_plain, lost_revisit_date=self.today)
        self.assertFalse(planned.exists())
        self.Loss._cron_schedule_revisits()
        revisit = self._revisits(lead)
        self.assertEqual(len(revisit), 1)
        self.assertEqual(revisit.date_deadline, self.today)
        self.assertEqual(self._losses(lead).revisit_activity_id, revisit)

    def test_job_mixed_batch(self):
        """In one batch: leads with a revisit planned reuse it, the others
        get one, in one create."""
        with_revisit = self._opportunity("CLM With revisit")
        without = self._opportunity("CLM Without revisit")
        planned = self._plan(with_revisit, self.revisit_type, days=-2)
        self._lose(with_revisit | without, self.reason_plain)
        (with_revisit | without).lost_revisit_date = self.today
        self.Loss._cron_schedule_revisits()
        self.assertEqual(self._revisits(with_revisit), planned)
        created = self._revisits(without)
        self.assertEqual(len(created), 1)
        self.assertEqual(self._losses(without).revisit_activity_id, created)

    def test_revisit_now_reuses_kept_revisit(self):
        lead = self._opportunity("CLM Revisit now")
        planned = self._plan(lead, self.revisit_type, days=20)
        self._lose(lead, self.reason_plain, lost_revisit_date=self.today)
        lead.with_user(self.user_sales_own).action_revisit_now()
        self.assertTrue(lead.active)
        self.assertEqual(self._revisits(lead), planned)
        self.assertEqual(
            planned.date_deadline,
            fields.Date.context_today(lead.with_user(self.user_sales_own)),
        )
        self.assertEqual(planned.user_id, self.user_sales_own)

    def test_revisit_now_after_the_job_planned_and_lost_again(self):
        """Revisit Now moves the job's revisit to today; the deal is lost
        again before the revisit is done: it keeps that revisit, which the
        job and the next Revisit Now reuse."""
        lead = self._opportunity("CLM Lost again")
        self._lose(lead, self.reason_plain, lost_revisit_date=self.today)
        self.Loss._cron_schedule_revisits()
        revisit = self._revisits(lead)
        self.assertEqual(len(revisit), 1)
        lead.action_revisit_now()
        self._lose(lead, self.reason_plain, lost_revisit_date=self.today)
        self.assertEqual(self._revisits(lead), revisit)
        self.Loss._cron_schedule_revisits()
        self.assertEqual(self._revisits(lead), revisit)
        lead.action_revisit_now()
        self.assertEqual(self._revisits(lead), revisit)

    def test_revisit_now_does_not_move_a_done_revisit(self):
        """A revisit done (kept by a *Keep Done* type) is not a planned one:
        Revisit Now plans a new one."""
        self.revisit_type.keep_done = True
        lead = self._opportunity("CLM Revisit done")
        self._lose(lead, self.reason_plain, lost_revisit_date=self.today)
        self.Loss._cron_schedule_revisits()
        done = self._losses(lead).revisit_activity_id
        done.action_done()
        done_date = done.date_done
        lead.action_revisit_now()
        self.assertFalse(done.active)
        self.assertEqual(done.date_done, done_date)
        revisit = self._revisits(lead)
        self.assertEqual(len(revisit), 1)
        self.assertNotEqual(revisit, done)
        self.assertEqual(revisit.date_deadline, self.today)


@tagged("post_install", "-at_install")
class TestKeepActivitiesCost(KeepActivitiesCommon):
    """Keeping (or deleting) the activities costs the same number of
    queries for 1, 10 and 50 leads (``assertQueryCount`` per user), each
    with a planned activity, lost with ``action_archive``."""

    SIZES = (1, 10, 50)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_manager.company_ids = [(4, cls.company_2.id)]

    def _cost_leads(self, count, companies):
        leads = self.env["crm.lead"].browse()
        for index in range(count):
            company = companies[index % len(companies)]
            leads |= self._opportunity(f"CLM Cost {count}-{index}", company=company)
            self._plan(leads[-1:])
        return leads

    def _measure(self, budgets, companies, kept, sizes=SIZES):
        self._cost_leads(2, companies).action_archive()  # PLS frequency rows
        for count in sizes:
            leads = self._cost_leads(count, companies)
            activities = self._planned(leads)
            self.env.flush_all()
            self.env.invalidate_all()
            with self.subTest(count=count), self.assertQueryCount(**budgets):
                leads.action_archive()
            self.assertEqual(len(activities.exists()), kept(count))

    @users("clm_manager")
    @warmup
    def test_cost_keep(self):
        self._measure({"clm_manager": 24}, [self.company], lambda count: count)

    @users("clm_manager")
    @warmup
    def test_cost_delete(self):
        self.company.sudo().crm_lost_keep_activities = False
        self._measure({"clm_manager": 29}, [self.company], lambda count: 0)

    @users("clm_manager")
    @warmup
    def test_cost_two_companies(self):
        self.company_2.sudo().crm_lost_keep_activities = False
        self._measure(
            {"clm_manager": 32},
            [self.company, self.company_2],
            lambda count: count // 2,
            sizes=(2, 10, 50),
        )
