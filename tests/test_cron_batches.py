# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The revisit and stale jobs act on what is still due when each batch comes.

A run over many records lasts long (about an hour for 200,000 revisits, see
readme/DEVELOP.md): meanwhile salespeople work on records the run found due
at its start, and another run (Run Manually, or the cron rerun after a
crash) may process some of them. Each batch is searched again just before it
is processed, so that nothing is done twice or to a record that is no
longer due. (tests/system/test_cron_faults.py kills the cron worker in the
middle of a batch.)
"""

from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import tagged

from .test_revisit import RevisitCommon


@tagged("post_install", "-at_install")
class TestCronBatchesRevisit(RevisitCommon):
    def setUp(self):
        super().setUp()
        self.Loss = self.env["crm.lead.loss"]
        self.today = fields.Date.context_today(self.Loss)
        Lead = self.env["crm.lead"]
        self.leads = Lead.create(
            [
                {
                    "name": f"CLM Due {index}",
                    "type": "opportunity",
                    "user_id": self.user_sales_own.id,
                    "team_id": self.team_1.id,
                    "stage_id": self.stage_qualified.id,
                }
                for index in range(3)
            ]
        )
        self._lose(
            self.leads, self.reason_plain, lost_revisit_date=self.today - timedelta(1)
        )
        self.losses = self._losses(self.leads)
        self.assertEqual(
            self.Loss.search(self.Loss._revisit_due_domain()) & self.losses,
            self.losses,
        )

    def _during_first_batch(self, action):
        """Run the job one loss per batch; ``action`` runs after the first
        batch is done, the other batches still to come."""
        Loss = type(self.Loss)
        schedule = Loss._schedule_revisit
        calls = []

        def first_then_action(batch, *args, **kwargs):
            calls.append(batch.ids)
            result = schedule(batch, *args, **kwargs)
            if len(calls) == 1:
                action()
            return result

        with patch.object(Loss, "_schedule_revisit", first_then_action):
            self.Loss._cron_schedule_revisits(batch_size=1)
        return calls

    def _revisit_activities(self, lead):
        return self._activities(lead, self.revisit_type)

    def test_restored_by_revisit_now_during_the_run(self):
        """The salesperson clicks Revisit Now on a lead of a later batch: it
        gets the revisit activity of Revisit Now, not a second one."""
        second = self.leads[1]
        calls = self._during_first_batch(
            lambda: second.with_user(self.user_sales_own).action_revisit_now()
        )
        self.assertEqual(calls, [self.losses[:1].ids, self.losses[2:].ids])
        self.assertTrue(second.active)
        activity = self._revisit_activities(second)
        self.assertEqual(len(activity), 1, "Revisit Now's activity only")
        self.assertFalse(self._messages(second, "Revisit of this lost deal scheduled"))
        for lead in self.leads - second:
            self.assertEqual(len(self._revisit_activities(lead)), 1, lead.name)

    def test_scheduled_by_another_run(self):
        """Another run (Run Manually) schedules the losses of later batches
        first: each gets one activity and one note."""
        # the method itself, not the test's wrapper of it
        schedule = type(self.Loss)._schedule_revisit
        calls = self._during_first_batch(
            lambda: schedule(self.losses[1:].with_company(self.company))
        )
        self.assertEqual(calls, [self.losses[:1].ids])
        self.assertTrue(all(self.losses.mapped("revisit_scheduled")))
        for lead in self.leads:
            self.assertEqual(len(self._revisit_activities(lead)), 1, lead.name)
            self.assertEqual(
                len(self._messages(lead, "Revisit of this lost deal scheduled")),
                1,
                lead.name,
            )


@tagged("post_install", "-at_install")
class TestCronBatchesStale(RevisitCommon):
    def setUp(self):
        super().setUp()
        self.team_1.write(
            {
                "stale_lost_days": 30,
                "stale_lost_reason_id": self.reason_plain.id,
                "stale_warning_days": 0,
            }
        )
        self.leads = self.env["crm.lead"]
        when = self.now - timedelta(days=40)
        for index in range(3):
            with self._at(when):
                self.leads |= self.env["crm.lead"].create(
                    {
                        "name": f"CLM Idle {index}",
                        "type": "opportunity",
                        "team_id": self.team_1.id,
                        "user_id": self.user_sales_own.id,
                        "stage_id": self.stage_new.id,
                    }
                )
        # in the job's order
        self.leads = self.team_1._get_stale_opportunities()
        self.assertEqual(len(self.leads), 3)

    def _during_first_batch(self, action):
        CrmTeam = type(self.env["crm.team"])
        mark_lost = CrmTeam._stale_mark_lost
        calls = []

        def first_then_action(team, leads):
            calls.append(leads.ids)
            result = mark_lost(team, leads)
            if len(calls) == 1:
                action()
            return result

        with patch.object(CrmTeam, "_stale_mark_lost", first_then_action):
            self.env["crm.team"]._cron_lose_stale_opportunities(batch_size=1)
        return calls

    def test_worked_on_during_the_run(self):
        """A salesperson logs a note on one opportunity of a later batch and
        marks another lost by hand: the first is no longer stale, the
        second keeps its own loss."""
        noted, lost_by_hand = self.leads[1], self.leads[2]

        def work():
            noted.with_user(self.user_sales_own).message_post(
                body="Called them", message_type="comment"
            )
            self._lose(lost_by_hand, self.reason_note, feedback="<p>Chose to wait</p>")

        calls = self._during_first_batch(work)
        self.assertEqual(calls, [self.leads[:1].ids])
        self.assertFalse(self.leads[0].active)
        self.assertTrue(self._losses(self.leads[0]).is_automatic)
        self.assertTrue(noted.active, "worked on: no longer stale")
        self.assertFalse(self._losses(noted))
        loss = self._losses(lost_by_hand)
        self.assertEqual(len(loss), 1)
        self.assertFalse(loss.is_automatic)
        self.assertEqual(loss.lost_reason_id, self.reason_note)
        self.assertEqual(lost_by_hand.lost_reason_id, self.reason_note)
        self.assertIn("Chose to wait", loss.closing_note)
