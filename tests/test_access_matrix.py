# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The access matrix: who may do what with lost and won leads.

``MATRIX`` says, for every action (row) and role (column), what the role may
do. Each test below runs one row, every cell as that role's user in a
savepoint of its own, and asserts that an allowed cell has its effect and a
denied one raises and writes nothing. readme/CONFIGURE.md ("Access rights")
shows the same table: ``test_readme_documents_the_matrix`` keeps them equal.
"""

import threading
import unittest
from contextlib import closing, contextmanager
from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import Form, tagged
from odoo.tools.misc import file_path

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import CrmLostCommon

# Cells. For the actions on a lead, each role tries two: its "own" one (it is
# the salesperson; for the other company's user, its own opportunity in its
# company; for portal and public users, one they are the customer of) and a
# colleague's one of the main company ("other").
ALL = "all"  # own and colleagues' records
OWN = "own"  # own records only (and those without salesperson)
OWN_COMPANY = "own co."  # records of its own company only
YES = "✓"
NO = "✗"
ALLOWED_TARGETS = {
    ALL: ("own", "other"),
    OWN: ("own",),
    OWN_COMPANY: ("own",),
    NO: (),
}

# role: column of the README table
ROLES = {
    "sales_own": "Sales (own)",
    "sales_all": "Sales (all)",
    "manager": "Sales manager",
    "admin": "Admin",
    "company_2": "Other company",
    "portal": "Portal",
    "public": "Public",
}

# action: (row of the README table, cells in the order of ROLES)
MATRIX = {
    "lose_dialog": (
        "Mark lost (*Mark Lost* dialog)",
        (OWN, ALL, ALL, ALL, OWN_COMPANY, NO, NO),
    ),
    "lose_api": (
        "Mark lost (`action_set_lost`)",
        (OWN, ALL, ALL, ALL, OWN_COMPANY, NO, NO),
    ),
    "restore": (
        "Restore (*Restore* dialog)",
        (OWN, ALL, ALL, ALL, OWN_COMPANY, NO, NO),
    ),
    "revisit_now": (
        "*Revisit Now*",
        (OWN, ALL, ALL, ALL, OWN_COMPANY, NO, NO),
    ),
    "read_losses": (
        "Read loss records, *Lost Analysis*",
        (OWN, ALL, ALL, ALL, OWN_COMPANY, NO, NO),
    ),
    "read_win_loss": (
        "Read the *Win/Loss* report",
        (OWN, ALL, ALL, ALL, OWN_COMPANY, NO, NO),
    ),
    "edit_competition": (
        "Edit an opportunity's *Competition* tab",
        (OWN, ALL, ALL, ALL, OWN_COMPANY, NO, NO),
    ),
    "read_competitive": (
        "Read the *Competitive Analysis* report",
        (OWN, ALL, ALL, ALL, OWN_COMPANY, NO, NO),
    ),
    "edit_losses": (
        "Edit loss records",
        (NO, NO, NO, NO, NO, NO, NO),
    ),
    "delete_losses": (
        "Delete loss records",
        (NO, NO, NO, NO, NO, NO, NO),
    ),
    "mark_won_dialog": (
        "Mark won (*Mark as Won* dialog)",
        (OWN, ALL, ALL, ALL, OWN_COMPANY, NO, NO),
    ),
    "read_wins": (
        "Read win records",
        (OWN, ALL, ALL, ALL, OWN_COMPANY, NO, NO),
    ),
    "edit_wins": (
        "Edit win records",
        (NO, NO, NO, NO, NO, NO, NO),
    ),
    "delete_wins": (
        "Delete win records",
        (NO, NO, NO, NO, NO, NO, NO),
    ),
    "configure_reasons": (
        "Create or edit lost reasons",
        (NO, NO, YES, YES, NO, NO, NO),
    ),
    "configure_won_reasons": (
        "Create or edit won reasons",
        (NO, NO, YES, YES, NO, NO, NO),
    ),
    "configure_categories": (
        "Create or edit reason categories",
        (NO, NO, YES, YES, NO, NO, NO),
    ),
    "configure_competitors": (
        "Create or edit competitors",
        (YES, YES, YES, YES, YES, NO, NO),
    ),
    "lost_settings": (
        "*Lost Settings* (Lost Reason Required)",
        (NO, NO, YES, YES, NO, NO, NO),
    ),
    "settings_page": (
        "CRM *Settings* page",
        (NO, NO, NO, YES, NO, NO, NO),
    ),
    "configure_team": (
        "Stale opportunity settings of a team",
        (NO, NO, YES, YES, NO, NO, NO),
    ),
    "stale_preview": (
        "*Stale Opportunities* of a team",
        (YES, YES, YES, YES, NO, NO, NO),
    ),
    "cron_revisit": (
        "Run *CRM: Revisit lost deals*",
        (NO, NO, NO, YES, NO, NO, NO),
    ),
    "cron_stale": (
        "Run *CRM: Mark stale opportunities lost*",
        (NO, NO, NO, YES, NO, NO, NO),
    ),
}


class NotListed(Exception):
    """The record is not in the user's list: record rules hide it."""


@tagged("post_install", "-at_install")
class TestAccessMatrix(CrmLostCommon):
    """Every cell of ``MATRIX``, run as the user of its role."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_colleague = mail_new_test_user(
            cls.env,
            login="clm_matrix_colleague",
            name="Colin Colleague",
            email="colin@example.com",
            company_id=cls.company.id,
            groups="sales_team.group_sale_salesman",
        )
        cls.role_users = {
            "sales_own": cls.user_sales_own,
            "sales_all": cls.user_sales_all,
            "manager": cls.user_manager,
            "admin": cls.env.ref("base.user_admin"),
            "company_2": cls.user_company_2,
            "portal": cls.user_portal,
            "public": cls.env.ref("base.public_user"),
        }
        cls.team_1.write(
            {
                "stale_lost_days": 30,
                "stale_lost_reason_id": cls.reason_plain.id,
                "stale_warning_days": 5,
            }
        )
        # for every role its own open and lost opportunity; "other": the
        # colleague's, in the main company
        Lead = cls.env["crm.lead"]
        cls.open_leads, cls.lost_leads = {}, {}
        for role, user in [*cls.role_users.items(), ("other", cls.user_colleague)]:
            values = {
                "type": "opportunity",
                "user_id": user.id,
                "team_id": cls.team_1.id,
                "stage_id": cls.stage_qualified.id,
                "expected_revenue": 100.0,
            }
            if role == "company_2":
                values.update(company_id=cls.company_2.id, team_id=cls.team_c2.id)
            elif user.share:
                # not a salesperson: the customer
                values.update(
                    user_id=cls.user_colleague.id, partner_id=user.partner_id.id
                )
            cls.open_leads[role] = Lead.create(
                {**values, "name": f"CLM Matrix open {role}"}
            )
            cls.lost_leads[role] = Lead.create(
                {**values, "name": f"CLM Matrix lost {role}"}
            )
        lost = Lead.browse([lead.id for lead in cls.lost_leads.values()])
        lost.action_set_lost(lost_reason_id=cls.reason_plain.id)
        # and its won opportunity
        cls.won_reason = cls.env["crm.won.reason"].create(
            {"name": "CLM Matrix won reason"}
        )
        cls.won_leads = {
            role: lead.copy({"name": f"CLM Matrix won {role}"})
            for role, lead in cls.open_leads.items()
        }
        won = Lead.browse([lead.id for lead in cls.won_leads.values()])
        won.with_context(
            crm_won_values={"won_reason_id": cls.won_reason.id}
        ).action_set_won()
        cls.losses = {
            role: cls.env["crm.lead.loss"].search([("lead_id", "=", lead.id)])
            for role, lead in cls.lost_leads.items()
        }
        # the colleague's lost opportunity is due for a revisit ...
        cls.lost_leads["other"].lost_revisit_date = fields.Date.today() - timedelta(
            days=1
        )
        # ... and the open opportunities idle (for the stale preview and job)
        opened = Lead.browse([lead.id for lead in cls.open_leads.values()])
        opened.flush_recordset()
        cls.env.cr.execute(
            """UPDATE crm_lead
                  SET create_date = now() - interval '60 days',
                      date_last_stage_update = now() - interval '60 days'
                WHERE id IN %s""",
            [tuple(opened.ids)],
        )
        opened.invalidate_recordset()

    def setUp(self):
        super().setUp()
        # the jobs commit after each batch unless the thread runs tests
        self.patch(threading.current_thread(), "testing", True)

    # ------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------

    def _refresh(self):
        """Write what is pending and forget the cache, so that a check reads
        the database and no record cached by another user hides an access
        error."""
        self.env.flush_all()
        self.env.invalidate_all()

    @contextmanager
    def _cell(self, **names):
        """One cell: a sub-test named after it, in a savepoint rolled back
        after it, whatever happened."""
        with self.subTest(**names):
            self._refresh()
            with closing(self.env.cr.savepoint()):
                yield
            self.env.invalidate_all()

    def _assert_raises(self, exception, function, *args):
        # not BaseCase.assertRaises, which rolls back what the call wrote:
        # the checks that follow must see it
        with unittest.TestCase.assertRaises(self, exception):
            function(*args)

    def _check_lead_row(self, action, leads, run, done, untouched, listing=False):
        """Run the row ``action`` of the matrix: ``run(env, lead)`` as each
        role on its own lead and on the colleague's lead of ``leads``.

        :param done: ``done(lead, user, result)`` checks the effect of an
            allowed cell
        :param untouched: ``untouched(lead, env)`` checks that a denied cell
            wrote nothing
        :param listing: a read: a record the role may not read is missing
            from its list (``run`` raises ``NotListed``) when the role may
            read some records of the model, else an access error
        """
        for role, value in zip(ROLES, MATRIX[action][1], strict=True):
            user = self.role_users[role]
            env = self.env(user=user)
            for target in ("own", "other"):
                lead = leads[role if target == "own" else "other"]
                with self._cell(action=action, role=role, target=target):
                    if target in ALLOWED_TARGETS[value]:
                        result = run(env, lead.with_env(env))
                        self._refresh()
                        done(lead, user, result)
                    else:
                        error = NotListed if listing and value != NO else AccessError
                        self._assert_raises(error, run, env, lead.with_env(env))
                        self._refresh()
                        untouched(lead, env)

    def _check_row(self, action, steps, done, untouched):
        """Run the row ``action``: each function of ``steps`` called with the
        role's environment. Allowed: they all succeed and ``done(env,
        results)`` checks their effect; denied: each raises an access error
        and ``untouched()`` checks that nothing was written."""
        for role, value in zip(ROLES, MATRIX[action][1], strict=True):
            self.assertIn(value, (YES, NO))
            env = self.env(user=self.role_users[role])
            with self._cell(action=action, role=role):
                if value == YES:
                    results = [step(env) for step in steps]
                    self._refresh()
                    done(env, results)
                else:
                    for step in steps:
                        self._assert_raises(AccessError, step, env)
                        self._refresh()
                    untouched()

    def _open_loss(self, lead):
        return (
            self.env["crm.lead.loss"]
            .sudo()
            .search([("lead_id", "=", lead.id), ("state", "=", "lost")])
        )

    def _revisit_activities(self, lead):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "crm.lead"),
                ("res_id", "=", lead.id),
                (
                    "activity_type_id",
                    "=",
                    self.env.ref(
                        "crm_lost_management.mail_activity_type_revisit_lost"
                    ).id,
                ),
            ]
        )

    # lose

    def _assert_lost(self, lead, user, result=None):
        self.assertFalse(lead.active)
        self.assertEqual(lead.lost_reason_id, self.reason_plain)
        loss = self._open_loss(lead)
        self.assertEqual(len(loss), 1)
        self.assertEqual(loss.lost_by_id, user)
        self.assertEqual(loss.lost_reason_id, self.reason_plain)

    def _assert_not_lost(self, lead, env=None):
        self.assertTrue(lead.active)
        self.assertFalse(lead.lost_reason_id)
        self.assertFalse(self._losses(lead))

    # restore

    def _assert_restored(self, lead, user, result=None):
        self.assertTrue(lead.active)
        self.assertFalse(lead.lost_reason_id)
        loss = self._losses(lead)
        self.assertEqual(loss.state, "recovered")
        self.assertEqual(loss.restored_by_id, user)

    def _assert_still_lost(self, lead, env=None):
        self.assertFalse(lead.active)
        self.assertEqual(lead.lost_reason_id, self.reason_plain)
        self.assertEqual(self._losses(lead).state, "lost")
        self.assertFalse(self._losses(lead).restored_by_id)
        self.assertFalse(self._revisit_activities(lead))

    # win

    def _wins(self, lead):
        return self.env["crm.lead.win"].sudo().search([("lead_id", "=", lead.id)])

    def _assert_won(self, lead, user, result=None):
        self.assertTrue(lead._crm_lost_is_won())
        self.assertEqual(lead.won_reason_id, self.won_reason)
        win = self._wins(lead)
        self.assertEqual(len(win), 1)
        self.assertEqual(win.state, "won")
        self.assertEqual(win.won_by_id, user)
        self.assertEqual(win.won_reason_id, self.won_reason)

    def _assert_not_won(self, lead, env=None):
        self.assertFalse(lead._crm_lost_is_won())
        self.assertFalse(lead.won_reason_id)
        self.assertFalse(self._wins(lead))

    # ------------------------------------------------------------
    # The matrix is complete and documented
    # ------------------------------------------------------------

    def test_every_action_has_its_test(self):
        for action in MATRIX:
            self.assertTrue(hasattr(self, f"test_{action}"), action)

    def test_readme_documents_the_matrix(self):
        """The table of readme/CONFIGURE.md, section "Access rights", is
        ``MATRIX``."""
        with open(file_path("crm_lost_management/readme/CONFIGURE.md")) as readme:
            text = readme.read()
        self.assertIn("\n## Access rights\n", text)
        section = text.split("\n## Access rights\n", 1)[1].split("\n## ", 1)[0]
        rows = [
            [cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in section.splitlines()
            if line.startswith("|")
        ]
        self.assertGreater(len(rows), 2, "no table in the Access rights section")
        header, separator, *body = rows
        self.assertEqual(header, ["Action", *ROLES.values()])
        self.assertTrue(all(set(cell) <= set(":-") for cell in separator))
        self.assertEqual(body, [[label, *cells] for label, cells in MATRIX.values()])

    # ------------------------------------------------------------
    # Lose, restore, revisit
    # ------------------------------------------------------------

    def _lose_with_dialog(self, env, lead):
        # the context of the Mark Lost action (crm.crm_lead_lost_action)
        context = {
            "active_ids": lead.ids,
            "active_model": "crm.lead",
            "default_lead_ids": lead.ids,
            "dialog_size": "medium",
        }
        with Form(env["crm.lead.lost"].with_context(**context)) as form:
            form.lost_reason_id = self.reason_plain.with_env(env)
        return form.record.action_lost_reason_apply()

    def test_lose_dialog(self):
        self._check_lead_row(
            "lose_dialog",
            self.open_leads,
            self._lose_with_dialog,
            self._assert_lost,
            self._assert_not_lost,
        )

    def test_lose_api(self):
        self._check_lead_row(
            "lose_api",
            self.open_leads,
            lambda env, lead: lead.action_set_lost(lost_reason_id=self.reason_plain.id),
            self._assert_lost,
            self._assert_not_lost,
        )

    def _restore_with_dialog(self, env, lead):
        # the context of the Restore button (crm.lead.action_open_restore_wizard)
        context = {"default_lead_ids": lead.ids, "dialog_size": "medium"}
        with Form(env["crm.lead.restore"].with_context(**context)) as form:
            form.restore_note = "Back on the table"
        return form.record.action_restore()

    def test_restore(self):
        def restored(lead, user, result):
            self._assert_restored(lead, user)
            self.assertEqual(self._losses(lead).restore_note, "Back on the table")

        self._check_lead_row(
            "restore",
            self.lost_leads,
            self._restore_with_dialog,
            restored,
            self._assert_still_lost,
        )

    def test_revisit_now(self):
        def revisited(lead, user, result):
            self._assert_restored(lead, user)
            activity = self._revisit_activities(lead)
            self.assertEqual(len(activity), 1)
            self.assertEqual(
                activity.date_deadline,
                fields.Date.context_today(lead.with_user(user)),
            )

        self._check_lead_row(
            "revisit_now",
            self.lost_leads,
            lambda env, lead: lead.action_revisit_now(),
            revisited,
            self._assert_still_lost,
        )

    # ------------------------------------------------------------
    # Read losses and reports
    # ------------------------------------------------------------

    def _assert_read_denied(self, model, record_id):
        def untouched(lead, env):
            self._assert_raises(
                AccessError, env[model].browse(record_id(lead)).read, ["id"]
            )

        return untouched

    def test_read_losses(self):
        def read(env, lead):
            Loss = env["crm.lead.loss"]
            domain = [("lead_id", "=", lead.id)]
            # the list, the Lost Analysis (pivot and graph), the form
            rows = Loss.search_read(domain, ["state", "lost_reason_id"])
            if not rows:
                raise NotListed(lead.id)
            groups = Loss.read_group(
                domain, ["expected_revenue:sum"], ["lost_reason_id"]
            )
            Loss.browse(rows[0]["id"]).read(["lead_id", "closing_note"])
            return rows, groups

        def done(lead, user, result):
            [row], [group] = result
            self.assertEqual(row["state"], "lost")
            self.assertEqual(row["lost_reason_id"][0], self.reason_plain.id)
            self.assertEqual(group["lost_reason_id_count"], 1)
            self.assertEqual(group["expected_revenue"], 100.0)

        self._check_lead_row(
            "read_losses",
            self.lost_leads,
            read,
            done,
            self._assert_read_denied(
                "crm.lead.loss", lambda lead: self._losses(lead).id
            ),
            listing=True,
        )

    def test_read_win_loss(self):
        def read(env, lead):
            Report = env["crm.win.loss.report"]
            domain = [("lead_id", "=", lead.id)]
            rows = Report.search_read(domain, ["outcome", "lost_reason_id"])
            if not rows:
                raise NotListed(lead.id)
            groups = Report.read_group(
                domain, ["lost_count:sum", "win_rate:avg"], ["outcome"]
            )
            return rows, groups

        def done(lead, user, result):
            [row], [group] = result
            self.assertEqual(row["outcome"], "lost")
            self.assertEqual(row["lost_reason_id"][0], self.reason_plain.id)
            self.assertEqual(group["lost_count"], 1)
            self.assertEqual(group["win_rate"], 0.0)

        self._check_lead_row(
            "read_win_loss",
            self.lost_leads,
            read,
            done,
            self._assert_read_denied("crm.win.loss.report", lambda lead: lead.id),
            listing=True,
        )

    # ------------------------------------------------------------
    # Win, read and change wins
    # ------------------------------------------------------------

    def _win_with_dialog(self, env, lead):
        # the context of the Won button when a reason is required
        # (crm.lead.action_crm_won) and of the list action
        context = {"default_lead_ids": lead.ids, "dialog_size": "medium"}
        with Form(env["crm.lead.won"].with_context(**context)) as form:
            form.won_reason_id = self.won_reason.with_env(env)
        return form.record.action_won_reason_apply()

    def test_mark_won_dialog(self):
        self._check_lead_row(
            "mark_won_dialog",
            self.open_leads,
            self._win_with_dialog,
            self._assert_won,
            self._assert_not_won,
        )

    def test_read_wins(self):
        def read(env, lead):
            Win = env["crm.lead.win"]
            domain = [("lead_id", "=", lead.id)]
            rows = Win.search_read(domain, ["state", "won_reason_id"])
            if not rows:
                raise NotListed(lead.id)
            groups = Win.read_group(domain, ["expected_revenue:sum"], ["won_reason_id"])
            Win.browse(rows[0]["id"]).read(["lead_id", "won_note"])
            return rows, groups

        def done(lead, user, result):
            [row], [group] = result
            self.assertEqual(row["state"], "won")
            self.assertEqual(row["won_reason_id"][0], self.won_reason.id)
            self.assertEqual(group["won_reason_id_count"], 1)
            self.assertEqual(group["expected_revenue"], 100.0)

        self._check_lead_row(
            "read_wins",
            self.won_leads,
            read,
            done,
            self._assert_read_denied("crm.lead.win", lambda lead: self._wins(lead).id),
            listing=True,
        )

    def test_edit_wins(self):
        def edit(env, lead):
            win = self._wins(lead).with_env(env)
            return win.write({"won_note": "<p>Corrected</p>"})

        self._check_lead_row(
            "edit_wins",
            self.won_leads,
            edit,
            lambda lead, user, result: self.assertIn(
                "Corrected", self._wins(lead).won_note
            ),
            lambda lead, env: self.assertFalse(self._wins(lead).won_note),
        )

    def test_delete_wins(self):
        self._check_lead_row(
            "delete_wins",
            self.won_leads,
            lambda env, lead: self._wins(lead).with_env(env).unlink(),
            lambda lead, user, result: self.assertFalse(self._wins(lead)),
            lambda lead, env: self.assertEqual(len(self._wins(lead)), 1),
        )

    # ------------------------------------------------------------
    # Competition
    # ------------------------------------------------------------

    def _competitor_lines(self, lead):
        return (
            self.env["crm.lead.competitor"].sudo().search([("lead_id", "=", lead.id)])
        )

    def test_edit_competition(self):
        def edit(env, lead):
            # a line of its own (the API), then the form's one2many; a
            # refused create is checked after its INSERT, which the request's
            # rollback (here the savepoint's) undoes
            with self.env.cr.savepoint():
                line = env["crm.lead.competitor"].create(
                    {"lead_id": lead.id, "competitor_id": self.competitor.id}
                )
            line.write({"strengths": "Cheaper"})
            return lead.write(
                {
                    "competitor_line_ids": [
                        Command.update(line.id, {"note": "Matrix"}),
                    ]
                }
            )

        def done(lead, user, result):
            line = self._competitor_lines(lead)
            self.assertEqual(line.competitor_id, self.competitor)
            self.assertEqual((line.strengths, line.note), ("Cheaper", "Matrix"))

        self._check_lead_row(
            "edit_competition",
            self.open_leads,
            edit,
            done,
            lambda lead, env: self.assertFalse(self._competitor_lines(lead)),
        )

    def test_read_competitive(self):
        for lead in self.lost_leads.values():
            self.env["crm.lead.competitor"].create(
                {"lead_id": lead.id, "competitor_id": self.competitor.id}
            )

        def read(env, lead):
            Report = env["crm.competitive.report"]
            domain = [("lead_id", "=", lead.id)]
            rows = Report.search_read(domain, ["outcome", "competitor_id"])
            if not rows:
                raise NotListed(lead.id)
            groups = Report.read_group(
                domain, ["lost_count:sum", "win_rate:avg"], ["competitor_id"]
            )
            return rows, groups

        def done(lead, user, result):
            [row], [group] = result
            self.assertEqual(row["outcome"], "lost")
            self.assertEqual(row["competitor_id"][0], self.competitor.id)
            self.assertEqual(group["lost_count"], 1)
            self.assertEqual(group["win_rate"], 0.0)

        def row_id(lead):
            return (
                self.env["crm.competitive.report"]
                .search([("lead_id", "=", lead.id)])
                .id
            )

        self._check_lead_row(
            "read_competitive",
            self.lost_leads,
            read,
            done,
            self._assert_read_denied("crm.competitive.report", row_id),
            listing=True,
        )

    def test_edit_losses(self):
        def edit(env, lead):
            loss = self._losses(lead).with_env(env)
            return loss.write({"closing_note": "<p>Corrected</p>"})

        self._check_lead_row(
            "edit_losses",
            self.lost_leads,
            edit,
            lambda lead, user, result: self.assertEqual(
                self._losses(lead).closing_note_text, "Corrected"
            ),
            lambda lead, env: self.assertFalse(self._losses(lead).closing_note),
        )

    def test_delete_losses(self):
        self._check_lead_row(
            "delete_losses",
            self.lost_leads,
            lambda env, lead: self._losses(lead).with_env(env).unlink(),
            lambda lead, user, result: self.assertFalse(self._losses(lead)),
            lambda lead, env: self.assertEqual(len(self._losses(lead)), 1),
        )

    # ------------------------------------------------------------
    # Configure
    # ------------------------------------------------------------

    def _check_configure_row(self, action, model, record, values):
        """Create a record of ``model`` and write ``values`` on ``record``."""
        name = f"CLM Matrix {model}"

        def created():
            return (
                self.env[model]
                .with_context(active_test=False)
                .search_count([("name", "=", name)])
            )

        before = {field: record[field] for field in values}

        def done(env, results):
            self.assertEqual(created(), 1)
            self.assertEqual({field: record[field] for field in values}, values)

        def untouched():
            self.assertEqual(created(), 0)
            self.assertEqual({field: record[field] for field in values}, before)

        self._check_row(
            action,
            [
                lambda env: env[model].create({"name": name}),
                lambda env: record.with_env(env).write(values),
            ],
            done,
            untouched,
        )

    def test_configure_reasons(self):
        self._check_configure_row(
            "configure_reasons",
            "crm.lost.reason",
            self.reason_plain,
            {"description": "Only when the price was the blocker"},
        )

    def test_configure_won_reasons(self):
        self._check_configure_row(
            "configure_won_reasons",
            "crm.won.reason",
            self.won_reason,
            {"description": "When the price won the deal"},
        )

    def test_configure_categories(self):
        self._check_configure_row(
            "configure_categories",
            "crm.lost.reason.category",
            self.category_price,
            {"color": 7},
        )

    def test_configure_competitors(self):
        self._check_configure_row(
            "configure_competitors",
            "crm.lost.competitor",
            self.competitor,
            {"website": "https://rival.example.com"},
        )

    def test_lost_settings(self):
        def save(env):
            with Form(env["crm.lost.settings"]) as form:
                form.crm_lost_reason_required = False
            return form.record.action_save()

        self._check_row(
            "lost_settings",
            [save],
            lambda env, results: self.assertFalse(
                self.company.crm_lost_reason_required
            ),
            lambda: self.assertTrue(self.company.crm_lost_reason_required),
        )

    def test_settings_page(self):
        def save(env):
            settings = env["res.config.settings"].create({})
            settings.crm_lost_reason_required = False
            return settings.execute()

        self._check_row(
            "settings_page",
            [save],
            lambda env, results: self.assertFalse(
                self.company.crm_lost_reason_required
            ),
            lambda: self.assertTrue(self.company.crm_lost_reason_required),
        )

    def test_configure_team(self):
        self._check_row(
            "configure_team",
            [lambda env: self.team_1.with_env(env).write({"stale_lost_days": 45})],
            lambda env, results: self.assertEqual(self.team_1.stale_lost_days, 45),
            lambda: self.assertEqual(self.team_1.stale_lost_days, 30),
        )

    # ------------------------------------------------------------
    # Run by hand
    # ------------------------------------------------------------

    def test_stale_preview(self):
        stale = self.team_1._get_stale_opportunities()
        self.assertIn(self.open_leads["sales_own"], stale)
        self.assertIn(self.open_leads["other"], stale)

        def done(env, results):
            # the opportunities of the preview the user may read
            [action] = results
            listed = env["crm.lead"].search(action["domain"])
            self.assertIn(self.open_leads[self._role_of(env)], listed)
            self.assertEqual(listed, env["crm.lead"].search([("id", "in", stale.ids)]))

        self._check_row(
            "stale_preview",
            [lambda env: self.team_1.with_env(env).action_open_stale_opportunities()],
            done,
            lambda: None,  # a preview writes nothing
        )

    def _role_of(self, env):
        return next(role for role, user in self.role_users.items() if user == env.user)

    def _trigger(self, xmlid):
        return lambda env: env.ref(xmlid).method_direct_trigger()

    def test_cron_revisit(self):
        cron = self.env.ref("crm_lost_management.ir_cron_crm_lead_loss_revisit")
        lastcall = cron.lastcall
        loss = self.losses["other"]
        self.assertTrue(loss.revisit_date)

        def done(env, results):
            self.assertTrue(loss.revisit_scheduled)
            self.assertEqual(len(self._revisit_activities(loss.lead_id)), 1)

        def untouched():
            self.assertFalse(loss.revisit_scheduled)
            self.assertFalse(self._revisit_activities(loss.lead_id))
            self.assertEqual(cron.lastcall, lastcall)

        self._check_row(
            "cron_revisit",
            [self._trigger("crm_lost_management.ir_cron_crm_lead_loss_revisit")],
            done,
            untouched,
        )

    def test_cron_stale(self):
        cron = self.env.ref("crm_lost_management.ir_cron_crm_team_stale_lost")
        lastcall = cron.lastcall
        lead = self.open_leads["other"]

        def done(env, results):
            self.assertFalse(lead.active)
            self.assertTrue(self._open_loss(lead).is_automatic)

        def untouched():
            self.assertTrue(lead.active)
            self.assertFalse(self._losses(lead))
            self.assertEqual(cron.lastcall, lastcall)

        self._check_row(
            "cron_stale",
            [self._trigger("crm_lost_management.ir_cron_crm_team_stale_lost")],
            done,
            untouched,
        )
