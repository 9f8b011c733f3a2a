# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Losing and restoring the same opportunity from two transactions at once.

These tests use real committed data and two real database transactions, each
in its own thread and cursor, as two users' requests would. Checkpoints make
the interleaving deterministic: both transactions read the opportunity first
(their snapshot), then one writes and commits while the other is blocked on
the row lock or writes after that commit. The loser runs through
``odoo.service.model.retrying`` as RPC and HTTP requests do: its first try
must fail with an error that Odoo retries (a serialization failure), never
with the integrity error of the one-open-loss constraint, and its retry must
leave one consistent state without losing the winner's write.

Nothing is written through ``self.env``: the test's own transaction must not
hold locks the two transactions need. Fixtures are committed, then deleted.
"""

import queue
import threading
import time
from functools import partial
from unittest.mock import Mock, patch

from psycopg2 import errors

from odoo import SUPERUSER_ID, api
from odoo.exceptions import UserError, ValidationError
from odoo.service import model as service_model
from odoo.sql_db import Cursor
from odoo.tests import Form, TransactionCase, tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import mail_new_test_user

# seconds: a wait that takes longer means a hang, the test fails
TIMEOUT = 20
DONE = "done"


class _Rollback(Exception):
    """Raised at a checkpoint to roll the transaction back."""


class _Transaction(threading.Thread):
    """One side of a race: ``body(env, pause)`` in its own cursor, as user
    ``uid``, called through ``odoo.service.model.retrying`` like an RPC call
    and committed at the end.

    On its first try ``body`` stops at each ``pause(name)`` until the test
    lets it go on (``until``, ``resume``, ``finish``); retries do not stop.
    ``errors`` holds the exception of each failed try, ``error`` the one of
    the call as a whole, ``pid`` the PostgreSQL backend of the cursor."""

    def __init__(self, registry, uid, body, name):
        super().__init__(name=f"clm-race-{name}", daemon=True)
        self.registry = registry
        self.uid = uid
        self.body = body
        self.tries = 0
        self.errors = []
        self.error = None
        self.pid = None
        self._reached = queue.Queue()
        self._go = queue.Queue()

    def run(self):
        try:
            with self.registry.cursor() as cr:
                assert type(cr) is Cursor, "a real cursor, not a test cursor"
                self.pid = cr.connection.get_backend_pid()
                env = api.Environment(cr, self.uid, {})
                service_model.retrying(partial(self._try, env), env)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            self.error = exc
        finally:
            self._reached.put(DONE)

    def _try(self, env):
        self.tries += 1
        # a lock that never comes fails the statement instead of hanging
        env.cr.execute(f"SET LOCAL lock_timeout = '{TIMEOUT}s'")
        pause = self._pause if self.tries == 1 else lambda name: None
        try:
            return self.body(env, pause)
        except Exception as exc:
            self.errors.append(exc)
            raise

    def _pause(self, name):
        self._reached.put(name)
        if self._go.get(timeout=TIMEOUT) == "rollback":
            raise _Rollback()

    # called by the test

    def until(self, name):
        """Wait until the transaction stops at checkpoint ``name``."""
        try:
            reached = self._reached.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"{self.name} did not reach {name!r}") from None
        if reached != name:
            raise AssertionError(
                f"{self.name} reached {reached!r} instead of {name!r}: {self.error!r}"
            )

    def resume(self, until=None):
        self._go.put(True)
        if until:
            self.until(until)

    def finish(self, rollback=False):
        """Let the transaction run to its end: commit, or roll back at its
        checkpoint."""
        self._go.put("rollback" if rollback else True)
        self.join(TIMEOUT)
        if self.is_alive():
            raise AssertionError(f"{self.name} is still running (deadlock?)")

    def stop(self):
        """Roll back a transaction a failed test left at a checkpoint."""
        self._go.put("rollback")
        self.join(TIMEOUT)


@tagged("post_install", "-at_install")
class TestLostConcurrency(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # real cursors: HttpCase's test mode would share one transaction
        assert not cls.registry.in_test_mode()
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            company = env.ref("base.main_company")
            cls.uid_sales = mail_new_test_user(
                env,
                login="clm_race_sales",
                name="Rita Race",
                company_id=company.id,
                groups="sales_team.group_sale_salesman",
                notification_type="inbox",
            ).id
            cls.uid_manager = mail_new_test_user(
                env,
                login="clm_race_manager",
                name="Max Race",
                company_id=company.id,
                groups="sales_team.group_sale_manager",
                notification_type="inbox",
            ).id
            cls.team_id = (
                env["crm.team"]
                .create({"name": "Race Team", "company_id": company.id})
                .id
            )
            reasons = env["crm.lost.reason"].create(
                [{"name": "Race Price"}, {"name": "Race Timing"}]
            )
            cls.reason_1, cls.reason_2 = reasons.ids
        cls.addClassCleanup(cls._delete_fixtures)

    @classmethod
    def _delete_fixtures(cls):
        with cls.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
            env["crm.lost.reason"].browse([cls.reason_1, cls.reason_2]).unlink()
            env["crm.team"].browse(cls.team_id).unlink()
            users = env["res.users"].browse([cls.uid_sales, cls.uid_manager])
            partners = users.partner_id
            users.unlink()
            partners.unlink()

    def setUp(self):
        super().setUp()
        # retrying() waits up to 2 s at random before its second try
        self.startPatcher(
            patch.object(service_model, "random", Mock(uniform=Mock(return_value=0)))
        )

    # ------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------

    def _create_opportunity(self, lost_reason=None):
        """A committed opportunity of the salesperson; lost by her with
        ``lost_reason`` when given. Deleted after the test."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            lead = env["crm.lead"].create(
                {
                    "name": "Race Opportunity",
                    "type": "opportunity",
                    "user_id": self.uid_sales,
                    "team_id": self.team_id,
                    "expected_revenue": 1000,
                }
            )
            if lost_reason:
                lead.with_user(self.uid_sales).action_set_lost(
                    lost_reason_id=lost_reason
                )
            lead_id = lead.id
        self.addCleanup(self._delete_lead, lead_id)
        return lead_id

    def _delete_lead(self, lead_id):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
            env["crm.lead"].browse(lead_id).unlink()

    def _start(self, uid, body, name):
        transaction = _Transaction(self.registry, uid, body, name)
        # before the fixtures are deleted (cleanups run last in, first out)
        self.addCleanup(transaction.stop)
        transaction.start()
        return transaction

    def _wait_blocked(self, transaction):
        """Wait until ``transaction`` waits for a lock held by another one."""
        deadline = time.monotonic() + TIMEOUT
        with self.registry.cursor() as cr:
            while time.monotonic() < deadline:
                cr.execute(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                    [transaction.pid],
                )
                row = cr.fetchone()
                cr.rollback()  # pg_stat_activity is read once per transaction
                if row and row[0] == "Lock":
                    return
                if not transaction.is_alive():
                    break
                time.sleep(0.01)
        raise AssertionError(
            f"{transaction.name} did not wait for a lock: {transaction.error!r}"
        )

    def _read(self, env, lead_id):
        """The snapshot of a transaction: it has seen the opportunity."""
        lead = env["crm.lead"].with_context(active_test=False).browse(lead_id)
        lead.read(["active", "stage_id", "lost_reason_id"])
        lead.loss_ids.read(["state"])
        return lead

    def _lose_with_wizard(self, lead_id, reason_id):
        """Mark lost with the Mark as Lost wizard, as the UI does."""

        def body(env, pause):
            lead = self._read(env, lead_id)
            action = lead._crm_lost_wizard_action()
            wizard_form = Form(env["crm.lead.lost"].with_context(**action["context"]))
            wizard_form.lost_reason_id = env["crm.lost.reason"].browse(reason_id)
            wizard = wizard_form.save()
            pause("read")
            wizard.action_lost_reason_apply()
            env.flush_all()
            pause("written")

        return body

    def _lose_with_api(self, lead_id, reason_id):
        """Mark lost with stock's API, as other modules and RPC clients do."""

        def body(env, pause):
            lead = self._read(env, lead_id)
            pause("read")
            lead.action_set_lost(lost_reason_id=reason_id)
            env.flush_all()
            pause("written")

        return body

    def _restore_with_wizard(self, lead_id, note):
        def body(env, pause):
            lead = self._read(env, lead_id)
            action = lead.action_open_restore_wizard()
            wizard_form = Form(
                env["crm.lead.restore"].with_context(**action["context"])
            )
            wizard_form.restore_note = note
            wizard = wizard_form.save()
            pause("read")
            wizard.action_restore()
            env.flush_all()
            pause("written")

        return body

    def _race(self, winner_body, loser_body, loser_waits):
        """Both transactions read the opportunity; then the winner writes and
        commits while the loser waits for its lock (``loser_waits``), or the
        loser writes after the winner committed."""
        winner = self._start(self.uid_manager, winner_body, "winner")
        winner.until("read")
        loser = self._start(self.uid_sales, loser_body, "loser")
        loser.until("read")
        winner.resume(until="written")
        if loser_waits:
            loser.resume()
            self._wait_blocked(loser)
            winner.finish()
        else:
            winner.finish()
            loser.resume()
        loser.finish()
        self.assertIsNone(winner.error)
        self.assertEqual(winner.errors, [])
        return winner, loser

    def assertRetryable(self, transaction):
        """The first try failed with a serialization failure, an error that
        Odoo's RPC layer retries (not an integrity error, which it turns into
        a validation error), and was retried once."""
        self.assertTrue(transaction.errors, "the loser did not conflict")
        error = transaction.errors[0]
        self.assertIsInstance(
            error,
            errors.SerializationFailure,
            f"the loser of the race must get a serialization failure, got {error!r}",
        )
        self.assertIn(error.pgcode, service_model.PG_CONCURRENCY_ERRORS_TO_RETRY)
        self.assertEqual(transaction.tries, 2)

    def _database_state(self, lead_id):
        """The opportunity and its loss records as committed (SQL, fresh
        cursor), checked for consistency."""
        with self.registry.cursor() as cr:
            cr.execute(
                """SELECT active, lost_reason_id, lost_date, lost_by_id, probability
                     FROM crm_lead WHERE id = %s""",
                [lead_id],
            )
            lead = cr.dictfetchone()
            cr.execute(
                """SELECT state, lost_reason_id, lost_date, lost_by_id,
                          restored_date, restored_by_id, restore_note
                     FROM crm_lead_loss WHERE lead_id = %s ORDER BY id""",
                [lead_id],
            )
            losses = cr.dictfetchall()
        open_losses = [loss for loss in losses if loss["state"] == "lost"]
        for loss in losses:
            if loss["state"] != "lost":
                self.assertEqual(loss["state"], "recovered")
                self.assertTrue(loss["restored_date"])
                self.assertTrue(loss["restored_by_id"])
        if lead["active"]:
            self.assertFalse(open_losses)
            self.assertFalse(lead["lost_reason_id"])
            self.assertFalse(lead["lost_date"])
            self.assertFalse(lead["lost_by_id"])
        else:
            self.assertEqual(len(open_losses), 1, "one open loss per lost lead")
            (open_loss,) = open_losses
            self.assertEqual(open_loss["lost_reason_id"], lead["lost_reason_id"])
            self.assertEqual(open_loss["lost_date"], lead["lost_date"])
            self.assertEqual(open_loss["lost_by_id"], lead["lost_by_id"])
            self.assertEqual(lead["probability"], 0)
        return lead, losses

    # ------------------------------------------------------------
    # Tests
    # ------------------------------------------------------------

    @mute_logger("odoo.sql_db", "odoo.service.model")
    def test_lose_lose_loser_waits(self):
        """Both mark the opportunity lost; the loser (the wizard) waits for the
        winner's lock, then gets a serialization failure. Retried, its wizard
        finds the opportunity lost already and gives it its own reason (the
        last write wins, as for any field): still one loss, recorded by the
        winner."""
        lead_id = self._create_opportunity()
        __, loser = self._race(
            self._lose_with_api(lead_id, self.reason_1),
            self._lose_with_wizard(lead_id, self.reason_2),
            loser_waits=True,
        )
        self.assertRetryable(loser)
        self.assertIsNone(loser.error)
        lead, losses = self._database_state(lead_id)
        self.assertFalse(lead["active"])
        self.assertEqual(lead["lost_reason_id"], self.reason_2)
        self.assertEqual(lead["lost_by_id"], self.uid_manager)
        self.assertEqual(
            [
                (loss["state"], loss["lost_reason_id"], loss["lost_by_id"])
                for loss in losses
            ],
            [("lost", self.reason_2, self.uid_manager)],
            "one loss, the winner's, with the last reason given",
        )

    @mute_logger("odoo.sql_db", "odoo.service.model")
    def test_lose_lose_loser_writes_after_commit(self):
        """The winner marks lost with the wizard and commits; the loser, whose
        snapshot still shows an open opportunity, marks it lost with the API."""
        lead_id = self._create_opportunity()
        __, loser = self._race(
            self._lose_with_wizard(lead_id, self.reason_1),
            self._lose_with_api(lead_id, self.reason_2),
            loser_waits=False,
        )
        self.assertRetryable(loser)
        self.assertIsNone(loser.error)
        lead, losses = self._database_state(lead_id)
        self.assertFalse(lead["active"])
        self.assertEqual(lead["lost_reason_id"], self.reason_2)
        self.assertEqual(len(losses), 1)
        self.assertEqual(losses[0]["lost_by_id"], self.uid_manager)

    @mute_logger("odoo.sql_db", "odoo.service.model")
    def test_lose_again_while_restored(self):
        """A lost opportunity: the winner restores it, the loser marks it lost
        with another reason (stock's API).
        Retried, the loss is a new one: the restore is kept on the first loss
        record."""
        lead_id = self._create_opportunity(lost_reason=self.reason_1)
        __, loser = self._race(
            self._restore_with_wizard(lead_id, "Budget is back"),
            self._lose_with_api(lead_id, self.reason_2),
            loser_waits=False,
        )
        self.assertRetryable(loser)
        self.assertIsNone(loser.error)
        lead, losses = self._database_state(lead_id)
        self.assertFalse(lead["active"])
        self.assertEqual(lead["lost_reason_id"], self.reason_2)
        self.assertEqual(
            [
                (
                    loss["state"],
                    loss["lost_reason_id"],
                    loss["restored_by_id"],
                    loss["restore_note"],
                )
                for loss in losses
            ],
            [
                ("recovered", self.reason_1, self.uid_manager, "Budget is back"),
                ("lost", self.reason_2, None, None),
            ],
        )
        self.assertEqual(losses[1]["lost_by_id"], self.uid_sales)

    @mute_logger("odoo.sql_db", "odoo.service.model")
    def test_restore_while_lost_again(self):
        """A lost opportunity: the winner marks it lost with another reason,
        the loser restores it and waits for the winner's lock. Retried, the
        restore closes the loss with the winner's reason."""
        lead_id = self._create_opportunity(lost_reason=self.reason_1)
        __, loser = self._race(
            self._lose_with_api(lead_id, self.reason_2),
            self._restore_with_wizard(lead_id, "Customer called back"),
            loser_waits=True,
        )
        self.assertRetryable(loser)
        self.assertIsNone(loser.error)
        lead, losses = self._database_state(lead_id)
        self.assertTrue(lead["active"])
        self.assertEqual(
            [
                (
                    loss["state"],
                    loss["lost_reason_id"],
                    loss["restored_by_id"],
                    loss["restore_note"],
                )
                for loss in losses
            ],
            [("recovered", self.reason_2, self.uid_sales, "Customer called back")],
        )

    @mute_logger("odoo.sql_db", "odoo.service.model")
    def test_lose_after_lost_and_restored(self):
        """The loser opened the Mark as Lost wizard on an open opportunity;
        before it applies, another user loses it and a third one restores it.
        Retried, the loser loses it again: a second loss record."""
        lead_id = self._create_opportunity()
        loser = self._start(
            self.uid_sales, self._lose_with_wizard(lead_id, self.reason_2), "loser"
        )
        loser.until("read")
        for uid, body in (
            (self.uid_manager, self._lose_with_api(lead_id, self.reason_1)),
            (self.uid_manager, self._restore_with_wizard(lead_id, "Not yet")),
        ):
            winner = self._start(uid, body, "winner")
            winner.until("read")
            winner.resume(until="written")
            winner.finish()
            self.assertIsNone(winner.error)
        loser.finish()
        self.assertRetryable(loser)
        self.assertIsNone(loser.error)
        lead, losses = self._database_state(lead_id)
        self.assertFalse(lead["active"])
        self.assertEqual(lead["lost_by_id"], self.uid_sales)
        self.assertEqual(
            [
                (loss["state"], loss["lost_reason_id"], loss["lost_by_id"])
                for loss in losses
            ],
            [
                ("recovered", self.reason_1, self.uid_manager),
                ("lost", self.reason_2, self.uid_sales),
            ],
        )

    @mute_logger("odoo.sql_db", "odoo.service.model")
    def test_restore_restore(self):
        """Both restore a lost opportunity; retried, the loser is told that it
        is not lost anymore, and the winner's restore is kept."""
        lead_id = self._create_opportunity(lost_reason=self.reason_1)
        __, loser = self._race(
            self._restore_with_wizard(lead_id, "First"),
            self._restore_with_wizard(lead_id, "Second"),
            loser_waits=True,
        )
        self.assertRetryable(loser)
        self.assertIsInstance(loser.error, UserError)
        self.assertIn("are not lost", str(loser.error))
        lead, losses = self._database_state(lead_id)
        self.assertTrue(lead["active"])
        self.assertEqual(
            [
                (loss["state"], loss["restored_by_id"], loss["restore_note"])
                for loss in losses
            ],
            [("recovered", self.uid_manager, "First")],
        )

    @mute_logger("odoo.sql_db")
    def test_one_open_loss_per_lead_across_transactions(self):
        """The last guard: of two transactions inserting an open loss record
        for the same lead, only one commits. The other waits for the first:
        it fails on the exclusion constraint when the first commits, and
        succeeds when the first rolls back."""
        lead_id = self._create_opportunity()

        def insert(env, pause):
            env.cr.execute(
                """INSERT INTO crm_lead_loss (lead_id, lost_date, lead_type, state)
                   VALUES (%s, now() at time zone 'UTC', 'opportunity', 'lost')""",
                [lead_id],
            )
            pause("written")

        def count_open_losses():
            with self.registry.cursor() as cr:
                cr.execute(
                    """SELECT count(*) FROM crm_lead_loss
                        WHERE lead_id = %s AND state = 'lost'""",
                    [lead_id],
                )
                return cr.fetchone()[0]

        for first_commits in (False, True):
            with self.subTest(first_commits=first_commits):
                first = self._start(SUPERUSER_ID, insert, "first")
                first.until("written")
                second = self._start(SUPERUSER_ID, insert, "second")
                self._wait_blocked(second)
                first.finish(rollback=not first_commits)
                if not first_commits:
                    second.until("written")
                second.finish(rollback=True)
                if first_commits:
                    self.assertIsNone(first.error)
                    self.assertIsInstance(second.errors[0], errors.ExclusionViolation)
                    # what Odoo shows for it: not retried
                    self.assertIsInstance(second.error, ValidationError)
                    self.assertEqual(count_open_losses(), 1)
                else:
                    self.assertIsInstance(first.error, _Rollback)
                    # the second one inserted: it waited for nothing else
                    self.assertIsInstance(second.error, _Rollback)
                    self.assertEqual(second.errors, [second.error])
                    self.assertEqual(count_open_losses(), 0)
