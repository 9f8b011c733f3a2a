# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Specification of issue #10: wins are recorded the way losses are.

Every path that wins a lead (stock's API, the Won button, the Mark as Won
dialog, stage moves, creation, import, copy, a stage that becomes a won
stage) opens exactly one win record (``crm.lead.win``); every path that
un-wins it (stage moves, losing, a stage that stops being a won stage,
merge) closes it. The invariants checked after each path, over the whole
database (``_assert_invariants``):

1. a lead is won (active, in a won stage) iff it has exactly one open win;
2. a won lead's won reason, win note and competitors are its open win's;
3. a lead that is not won has no won reason, win note nor competitors.

With the company setting *Won Reason Required*, no user interface path wins
without a reason; the API (``action_set_won``, ``action_set_won_rainbowman``)
keeps working as stock. Comments marked ``Fixed:`` tell the bug the test
found (and failed on)."""

from datetime import datetime

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged, users
from odoo.tests.common import freeze_time, warmup

from odoo.addons.mail.tests.common import mail_new_test_user

from .common import CrmLostCommon

NOW = datetime(2026, 3, 10, 12, 0, 0)
LATER = datetime(2026, 4, 1, 8, 0, 0)
REQUIRED_ERROR = "A won reason is required"
NOT_WON_ERROR = "are not won"


class WinsCommon(CrmLostCommon):
    """Won stages, won reasons and competitors of both companies. The main
    company requires a lost reason (``CrmLostCommon``), not a won reason:
    tests switch *Won Reason Required* on where they need it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Stage = cls.env["crm.stage"]
        cls.stage_won = Stage.create(
            {"name": "CLM Won", "sequence": 50, "is_won": True}
        )
        cls.stage_won_2 = Stage.create(
            {"name": "CLM Won (signed)", "sequence": 55, "is_won": True}
        )
        Reason = cls.env["crm.won.reason"]
        cls.won_price = Reason.create(
            {
                "name": "CLM Best price",
                "category_id": cls.category_price.id,
                "description": "Cheapest offer",
            }
        )
        cls.won_fit = Reason.create(
            {"name": "CLM Product fit", "category_id": cls.category_competition.id}
        )
        cls.won_c2 = Reason.create(
            {"name": "CLM Co2 reason", "company_id": cls.company_2.id}
        )
        cls.won_archived = Reason.create({"name": "CLM Old win", "active": False})
        Competitor = cls.env["crm.lost.competitor"]
        cls.competitor_2 = Competitor.create({"name": "CLM Second Rival"})
        cls.competitor_c2 = Competitor.create(
            {"name": "CLM Rival Co2", "company_id": cls.company_2.id}
        )
        cls.user_manager_mc = mail_new_test_user(
            cls.env,
            login="clm_win_manager_mc",
            name="Mia Multi-Company",
            email="mia.win@example.com",
            company_id=cls.company.id,
            company_ids=[(6, 0, (cls.company | cls.company_2).ids)],
            groups="sales_team.group_sale_manager",
        )
        cls.opportunity_c2 = cls.env["crm.lead"].create(
            {
                "name": "CLM Opportunity Co2",
                "type": "opportunity",
                "company_id": cls.company_2.id,
                "team_id": cls.team_c2.id,
                "user_id": cls.user_company_2.id,
                "stage_id": cls.stage_qualified.id,
                "expected_revenue": 700.0,
            }
        )

    # ------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------

    def _opportunity(self, name, **values):
        """A new opportunity of Sally's (every fixture user of the main company
        may change it), in the current user's environment."""
        lead = (
            self.env["crm.lead"]
            .sudo()
            .create(
                {
                    "name": name,
                    "type": "opportunity",
                    "user_id": self.user_sales_own.id,
                    "team_id": self.team_1.id,
                    "stage_id": self.stage_qualified.id,
                    "expected_revenue": 1000.0,
                    **values,
                }
            )
        )
        return lead.with_env(self.env)

    def _wins(self, leads):
        return (
            self.env["crm.lead.win"]
            .sudo()
            .search([("lead_id", "in", leads.ids)], order="won_date, id")
        )

    def _open_win(self, lead):
        return self._wins(lead).filtered(lambda win: win.state == "won")

    def _require_won_reason(self, company=None, required=True):
        (company or self.company).sudo().crm_won_reason_required = required

    def _won_form(self, leads, reason=None, note=None, competitors=None, **context):
        """The Mark as Won dialog as the web client opens it (Won button,
        list action), filled and confirmed; returns what the button returns."""
        action = leads._crm_won_wizard_action()
        self.assertEqual(action["res_model"], "crm.lead.won")
        form = Form(
            self.env["crm.lead.won"].with_context(**action["context"], **context)
        )
        if reason:
            form.won_reason_id = reason.with_env(self.env)
        if note:
            form.won_note = note
        for competitor in competitors or ():
            form.won_competitor_ids.add(competitor.with_env(self.env))
        result = form.save().action_won_reason_apply()
        self.env.invalidate_all()
        return result

    def _won_wizard(self, leads, **values):
        """The Mark as Won dialog driven over RPC: create, then apply."""
        wizard = self.env["crm.lead.won"].create(
            {"lead_ids": [Command.set(leads.ids)], **values}
        )
        return wizard.action_won_reason_apply()

    def _error(self, exception, func, *args, **kwargs):
        """Call ``func`` expecting ``exception`` and return its message.
        Deliberately not ``assertRaises``: its savepoint would hide anything
        written before the error (the checks that follow must see it)."""
        try:
            func(*args, **kwargs)
        except exception as error:
            self.env.invalidate_all()
            return error.args[0]
        self.fail(f"{exception.__name__} expected")

    def _snapshot(self, leads):
        """What winning could change on ``leads``, to compare before/after."""
        self.env.flush_all()
        self.env.invalidate_all()
        leads = leads.sudo().with_context(active_test=False)
        return (
            leads.read(
                [
                    "active",
                    "stage_id",
                    "probability",
                    "won_reason_id",
                    "won_note",
                    "won_competitor_ids",
                ]
            ),
            self._wins(leads).read(["lead_id", "state", "won_reason_id"]),
        )

    def _assert_won(self, lead, reason=None, note=None, competitors=None, wins=1):
        """``lead`` is won with these values, on the lead and its one open
        win, and has ``wins`` win records in all."""
        lead = lead.sudo()
        self.assertTrue(lead._crm_lost_is_won(), f"{lead.name} is won")
        open_win = self._open_win(lead)
        self.assertEqual(len(open_win), 1, f"{lead.name}: one open win")
        self.assertEqual(len(self._wins(lead)), wins, f"{lead.name}: win records")
        competitors = competitors or self.env["crm.lost.competitor"]
        for record in (lead, open_win):
            self.assertEqual(record.won_reason_id, reason or self.env["crm.won.reason"])
            self.assertEqual(
                record[
                    "won_competitor_ids" if record is lead else "competitor_ids"
                ].sorted("id"),
                competitors.sorted("id"),
            )
            if note:
                self.assertIn(note, record.won_note or "")
            else:
                self.assertFalse(record.won_note)
        return open_win

    def _assert_not_won(self, lead):
        lead = lead.sudo()
        self.assertFalse(lead._crm_lost_is_won(), f"{lead.name} is not won")
        self.assertFalse(self._open_win(lead), f"{lead.name}: no open win")
        self.assertFalse(lead.won_reason_id)
        self.assertFalse(lead.won_note)
        self.assertFalse(lead.won_competitor_ids)

    def _assert_invariants(self):
        """Invariants 1-3 over every lead of the database (demo data, leads
        won before installation, copies and merge results included)."""
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            """
            SELECT lead.id, lead.active AND COALESCE(stage.is_won, FALSE),
                   count(win.id)
              FROM crm_lead lead
              LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
              LEFT JOIN crm_lead_win win
                ON win.lead_id = lead.id AND win.state = 'won'
             GROUP BY lead.id, stage.is_won
            HAVING count(win.id) != CASE WHEN lead.active
                                          AND COALESCE(stage.is_won, FALSE)
                                         THEN 1 ELSE 0 END
            """
        )
        self.assertEqual(cr.fetchall(), [], "lead, won, open wins: 1. won iff one")
        cr.execute(
            """
            SELECT lead.id
              FROM crm_lead lead
              JOIN crm_lead_win win ON win.lead_id = lead.id AND win.state = 'won'
             WHERE lead.won_reason_id IS DISTINCT FROM win.won_reason_id
                OR lead.won_note IS DISTINCT FROM win.won_note
                OR ARRAY(SELECT competitor_id FROM crm_lead_won_competitor_rel
                          WHERE lead_id = lead.id ORDER BY 1)
                   != ARRAY(SELECT competitor_id FROM crm_lead_win_competitor_rel
                             WHERE win_id = win.id ORDER BY 1)
            """
        )
        self.assertEqual(cr.fetchall(), [], "2. a won lead's data is its open win's")
        cr.execute(
            """
            SELECT lead.id
              FROM crm_lead lead
              LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
             WHERE NOT (lead.active AND COALESCE(stage.is_won, FALSE))
               AND (lead.won_reason_id IS NOT NULL OR lead.won_note IS NOT NULL
                    OR EXISTS (SELECT 1 FROM crm_lead_won_competitor_rel rel
                                WHERE rel.lead_id = lead.id))
            """
        )
        self.assertEqual(cr.fetchall(), [], "3. a lead not won has no won data")


@tagged("post_install", "-at_install")
class TestWinPaths(WinsCommon):
    """Every path that wins or un-wins a lead, and the invariants after it."""

    # ------------------------------------------------------------
    # Stock's API
    # ------------------------------------------------------------

    def test_action_set_won_opens_one_win(self):
        """``action_set_won`` (stock's API) wins the lead and opens its win
        record, a snapshot of the lead when it was won."""
        lead = self.opportunity
        lead.partner_id = self.env["res.partner"].create({"name": "CLM Buyer"})
        with freeze_time(NOW):
            self.assertIs(lead.with_user(self.user_sales_own).action_set_won(), True)
        win = self._assert_won(lead)
        self.assertRecordValues(
            win,
            [
                {
                    "state": "won",
                    "won_date": NOW,
                    "won_by_id": self.user_sales_own.id,
                    "user_id": self.user_sales_own.id,
                    "team_id": self.team_1.id,
                    "partner_id": lead.partner_id.id,
                    "stage_id": self.stage_won.id,
                    "lead_type": "opportunity",
                    "expected_revenue": 1000.0,
                    "currency_id": self.company.currency_id.id,
                    "company_id": self.company.id,
                    "reopened_date": False,
                    "reopened_by_id": False,
                }
            ],
        )
        self.assertEqual(lead.win_count, 1)
        # already won: nothing more
        lead.action_set_won()
        self._assert_won(lead)
        self._assert_invariants()

    def test_stock_api_ignores_the_setting(self):
        """With *Won Reason Required*, stock's API still wins without a reason
        (other modules and RPC clients call it): the setting concerns the
        user interface."""
        self._require_won_reason()
        leads = self.opportunity | self.opportunity_2
        self.assertIs(leads.action_set_won(), True)
        for lead in leads:
            self._assert_won(lead)
        result = self.lead.action_set_won_rainbowman()
        self._assert_won(self.lead)
        self.assertTrue(result is True or "effect" in result)
        self._assert_invariants()

    def test_action_set_won_with_context_values(self):
        """``action_set_won`` takes the values of a win from the context
        (``crm_won_values``, as the dialog passes them): the win opens with
        them."""
        values = {
            "won_reason_id": self.won_price.id,
            "won_note": "<p>Signed on the spot</p>",
            "won_competitor_ids": [Command.set(self.competitor.ids)],
        }
        self.opportunity.with_context(crm_won_values=values).action_set_won()
        self._assert_won(
            self.opportunity,
            self.won_price,
            "Signed on the spot",
            self.competitor,
        )
        self._assert_invariants()

    # ------------------------------------------------------------
    # The Won button and the Mark as Won dialog
    # ------------------------------------------------------------

    @users("clm_sales_own")
    def test_won_button_without_setting(self):
        """Setting off: the Won button wins at once, with the rainbow man, as
        stock's button."""
        lead = self.opportunity.with_env(self.env)
        result = lead.action_crm_won()
        self.assertEqual(result["effect"]["type"], "rainbow_man")
        self._assert_won(lead)
        self._assert_invariants()

    @users("clm_sales_own")
    def test_won_button_with_setting_opens_dialog(self):
        """Setting on: the Won button opens the Mark as Won dialog and writes
        nothing; the dialog cannot be confirmed without a reason; with one it
        wins the lead (rainbow man once the dialog closes)."""
        self._require_won_reason()
        lead = self.opportunity.with_env(self.env)
        before = self._snapshot(lead)
        action = lead.action_crm_won()
        self.assertEqual(action["res_model"], "crm.lead.won")
        self.assertEqual(action["target"], "new")
        self.assertEqual(action["context"]["default_lead_ids"], lead.ids)
        self.assertEqual(self._snapshot(lead), before, "the button wrote nothing")

        form = Form(self.env["crm.lead.won"].with_context(**action["context"]))
        self.assertTrue(form.reason_required)
        with self.assertRaisesRegex(AssertionError, "won_reason_id"):
            form.save()
        form.won_reason_id = self.won_price.with_env(self.env)
        self.assertEqual(form.reason_description, "Cheapest offer")
        form.won_note = "<p>Their budget fitted</p>"
        form.won_competitor_ids.add(self.competitor.with_env(self.env))
        result = form.save().action_won_reason_apply()
        self.assertEqual(result["type"], "ir.actions.act_window_close")
        self.assertEqual(result["effect"]["type"], "rainbow_man")
        self.env.invalidate_all()
        win = self._assert_won(
            lead, self.won_price, "Their budget fitted", self.competitor
        )
        self.assertEqual(win.won_by_id, self.user_sales_own)
        self._assert_invariants()

    @users("clm_sales_own")
    def test_dialog_reason_optional_without_setting(self):
        """Setting off: the dialog may be confirmed without a reason."""
        lead = self.opportunity.with_env(self.env)
        form = Form(
            self.env["crm.lead.won"].with_context(
                **lead.action_open_won_wizard()["context"]
            )
        )
        self.assertFalse(form.reason_required)
        form.save().action_won_reason_apply()
        self.env.invalidate_all()
        self._assert_won(lead)
        self._assert_invariants()

    @users("clm_sales_all")
    def test_dialog_batch(self):
        """A selection (list action): every lead won at once with the same
        reason, note and competitors, one win each; no rainbow man."""
        self._require_won_reason()
        leads = (self.opportunity | self.opportunity_2 | self.lead).with_env(self.env)
        result = self._won_form(
            leads,
            self.won_fit,
            "<p>Best demo</p>",
            self.competitor | self.competitor_2,
        )
        self.assertEqual(result, {"type": "ir.actions.act_window_close"})
        for lead in leads:
            self._assert_won(
                lead, self.won_fit, "Best demo", self.competitor | self.competitor_2
            )
        self.assertEqual(self.opportunity.stage_id, self.stage_won)
        self._assert_invariants()

    @users("clm_sales_all")
    def test_dialog_offers_reasons_of_the_leads_company(self):
        """The dialog offers the shared reasons and those of the leads'
        company; active ones only."""
        wizard = self.env["crm.lead.won"].create(
            {"lead_ids": [Command.set(self.opportunity.ids)]}
        )
        offered = wizard.available_reason_ids
        self.assertIn(self.won_price, offered)
        self.assertNotIn(self.won_c2, offered)
        self.assertNotIn(self.won_archived, offered)

    def test_dialog_all_or_nothing(self):
        """One bad lead in the selection: the dialog refuses the whole call
        with a clear error (naming the leads and the fix) and writes
        nothing, not even on the good leads."""
        good = self.opportunity | self.opportunity_2
        self._require_won_reason(self.company_2, False)
        cases = {
            "reason of another company": (
                good | self.opportunity_c2,
                {"won_reason_id": self.won_c2.id},
                "belongs to the company",
                self.opportunity,
            ),
            "competitor of another company": (
                good | self.opportunity_c2,
                {
                    "won_reason_id": self.won_price.id,
                    "won_competitor_ids": [Command.set(self.competitor_c2.ids)],
                },
                "belongs to the company",
                self.opportunity,
            ),
            # Fixed: without a reason the dialog did not check the
            # competitors; the write refused them after winning some leads
            "competitor of another company, no reason": (
                good | self.opportunity_c2,
                {"won_competitor_ids": [Command.set(self.competitor_c2.ids)]},
                "belongs to the company",
                self.opportunity,
            ),
            "archived reason": (
                good,
                {"won_reason_id": self.won_archived.id},
                "is archived",
                None,
            ),
            # Fixed: the dialog dropped an archived competitor silently
            "archived competitor": (
                good,
                {
                    "won_reason_id": self.won_price.id,
                    "won_competitor_ids": [Command.set(self.competitor_2.ids)],
                },
                "is archived",
                None,
            ),
            "not a won stage": (
                good,
                {"won_reason_id": self.won_price.id, "stage_id": self.stage_new.id},
                "is not a won stage",
                None,
            ),
            "no reason, one company requires it": (
                good | self.opportunity_c2,
                {},
                REQUIRED_ERROR,
                self.opportunity_c2,
            ),
        }
        for case, (leads, values, pattern, named) in cases.items():
            with self.subTest(case=case), self.env.cr.savepoint() as sp:
                self._require_won_reason(required=case.startswith("no reason"))
                if case == "archived competitor":
                    self.competitor_2.active = False
                before = self._snapshot(leads)
                message = self._error(UserError, self._won_wizard, leads, **values)
                self.assertIn(pattern, message)
                if named:
                    self.assertIn(named.name, message)
                self.assertEqual(self._snapshot(leads), before, "nothing written")
                sp.rollback()

    @users("clm_sales_own")
    def test_dialog_all_or_nothing_access(self):
        """Sally (own documents) selects her lead and Sam's: refused on access
        rights, her lead is not won either."""
        leads = self.opportunity | self.opportunity_2
        before = self._snapshot(leads)
        self._error(
            AccessError,
            self._won_wizard,
            leads.with_env(self.env),
            won_reason_id=self.won_price.id,
        )
        self.assertEqual(self._snapshot(leads), before)

    @users("clm_sales_all")
    def test_dialog_with_stage(self):
        """The pipeline's drag and drop into a won stage opens the dialog with
        that stage: the leads move there, lost ones are restored first; a
        lead won already gets the new reason on its open win, no new win."""
        self._require_won_reason()
        already_won = self.opportunity.with_env(self.env)
        already_won.action_set_won()
        lost = self.opportunity_2.with_env(self.env)
        self._lose(lost, self.reason_plain)
        leads = already_won | lost | self.lead.with_env(self.env)
        result = self._won_form(
            leads, self.won_fit, default_stage_id=self.stage_won_2.id
        )
        self.assertEqual(result, {"type": "ir.actions.act_window_close"})
        for lead in leads:
            self.assertEqual(lead.stage_id, self.stage_won_2)
            self._assert_won(lead, self.won_fit)
        self.assertTrue(lost.active)
        self.assertEqual(self._losses(lost).state, "won_back")
        self._assert_invariants()

    def test_dialog_on_won_lead_updates_its_open_win(self):
        """Mark as Won on a lead won already: its open win gets the reason,
        note and competitors; no second win."""
        lead = self.opportunity
        lead.action_set_won()
        self._won_form(lead, self.won_price, "<p>Now we know why</p>", self.competitor)
        self._assert_won(lead, self.won_price, "Now we know why", self.competitor)
        self._assert_invariants()

    # ------------------------------------------------------------
    # Stages
    # ------------------------------------------------------------

    def test_stage_moves_open_and_close_wins(self):
        """Into a won stage: won (one open win). Editing the won fields of a
        won lead updates its open win. Out of the won stage: the win is closed
        (*Reopened*, by whom, when) and the lead's won fields cleared. Won
        again: a second win; the first keeps its reason."""
        lead = self.opportunity.with_user(self.user_sales_own)
        with freeze_time(NOW):
            lead.write({"stage_id": self.stage_won.id})
        self._assert_won(lead)
        lead.write(
            {
                "won_reason_id": self.won_price.id,
                "won_note": "<p>First deal</p>",
                "won_competitor_ids": [Command.link(self.competitor.id)],
            }
        )
        first = self._assert_won(lead, self.won_price, "First deal", self.competitor)
        # from one won stage to another: still the same win
        lead.write({"stage_id": self.stage_won_2.id})
        self.assertEqual(
            self._assert_won(lead, self.won_price, "First deal", self.competitor),
            first,
        )
        with freeze_time(LATER):
            lead.with_user(self.user_sales_all).write({"stage_id": self.stage_new.id})
        self._assert_not_won(lead)
        self.assertRecordValues(
            first,
            [
                {
                    "state": "reopened",
                    "reopened_date": LATER,
                    "reopened_by_id": self.user_sales_all.id,
                    "won_reason_id": self.won_price.id,
                    "competitor_ids": self.competitor.ids,
                }
            ],
        )
        self.assertIn("First deal", first.won_note)
        lead.with_context(
            crm_won_values={"won_reason_id": self.won_fit.id}
        ).action_set_won()
        second = self._assert_won(lead, self.won_fit, wins=2)
        self.assertNotEqual(second, first)
        self.assertEqual(first.won_reason_id, self.won_price, "history kept")
        self.assertEqual(lead.win_count, 2)
        self._assert_invariants()

    def test_won_data_refused_on_a_lead_not_won(self):
        """A won reason, note or competitor cannot be given to a lead that is
        not won (write, create): a clear error, nothing written."""
        lead = self.opportunity
        for values in (
            {"won_reason_id": self.won_price.id},
            {"won_note": "<p>Not yet</p>"},
            {"won_competitor_ids": [Command.set(self.competitor.ids)]},
        ):
            with self.subTest(values=values):
                message = self._error(UserError, lead.write, values)
                self.assertIn(NOT_WON_ERROR, message)
                self.assertIn(lead.name, message)
                self._assert_not_won(lead)
                message = self._error(
                    UserError,
                    self.env["crm.lead"].create,
                    {"name": "CLM Created open with a reason", **values},
                )
                self.assertIn("is not won", message)
        # leaving the won stage and giving a reason in the same write
        lead.action_set_won()
        message = self._error(
            UserError,
            lead.write,
            {"stage_id": self.stage_new.id, "won_reason_id": self.won_price.id},
        )
        self.assertIn(NOT_WON_ERROR, message)
        self._assert_won(lead)
        self._assert_invariants()

    def test_empty_win_note_is_no_note(self):
        """FINDING (state machine: edit_won_fields, invariant 10). The editor's
        empty note (``<p><br></p>``) written on a lead that is not won (RPC,
        import) was stored: the lead carried a win note without being won.
        Fixed: an empty note is no note, on any lead."""
        lead = self.opportunity
        lead.write({"won_note": "<p><br></p>"})
        self._assert_not_won(lead)
        self.env["crm.lead"].create(
            {"name": "CLM Created with an empty note", "won_note": "<p><br></p>"}
        )
        lead.action_set_won()
        lead.write({"won_note": "<p>Signed</p>"})
        lead.write({"won_note": "<p><br></p>"})
        self._assert_won(lead)
        self._assert_invariants()

    def test_won_reason_of_another_company_refused(self):
        """A won lead cannot be given a reason of another company, nor an
        archived one (RPC): a clear error naming the lead."""
        lead = self.opportunity
        lead.action_set_won()
        for reason, pattern in (
            (self.won_c2, "belongs to the company"),
            (self.won_archived, "is archived"),
        ):
            with self.subTest(reason=reason.name):
                message = self._error(
                    ValidationError, lead.write, {"won_reason_id": reason.id}
                )
                self.assertIn(pattern, message)
                self._assert_won(lead)
        message = self._error(ValidationError, lead.write, {"won_reason_id": 999999})
        self.assertIn("999999", message)

    def test_stage_becomes_won_stage(self):
        """A stage that becomes a won stage wins its active leads (lost ones
        stay lost); when it stops being one, their wins are closed and their
        won data cleared."""
        stage = self.env["crm.stage"].create({"name": "CLM Signing", "sequence": 40})
        leads = self.opportunity | self.opportunity_2
        leads.write({"stage_id": stage.id})
        lost = self._opportunity("CLM Lost in signing", stage_id=stage.id)
        self._lose(lost, self.reason_plain)
        stage.is_won = True
        for lead in leads:
            self._assert_won(lead)
        self._assert_not_won(lost)
        self.assertFalse(self._wins(lost))
        self.opportunity.won_reason_id = self.won_price
        self._assert_invariants()
        stage.is_won = False
        for lead in leads:
            self._assert_not_won(lead)
            self.assertEqual(self._wins(lead).state, "reopened")
        self.assertEqual(self._wins(self.opportunity).won_reason_id, self.won_price)
        self._assert_invariants()

    # ------------------------------------------------------------
    # Lose a won lead, restore it
    # ------------------------------------------------------------

    def test_lose_won_lead(self):
        """A won lead lost (Mark as Lost, stock API, archive): its win is
        closed, its won data cleared, a loss opened."""
        paths = {
            "dialog": lambda lead: self._lose(lead, self.reason_plain),
            "action_set_lost": lambda lead: lead.action_set_lost(
                lost_reason_id=self.reason_plain.id
            ),
            "archive": lambda lead: lead.action_archive(),
        }
        for path, lose in paths.items():
            with self.subTest(path=path):
                lead = self._opportunity(f"CLM Won then lost ({path})")
                self._won_form(lead, self.won_price, "<p>Won</p>", self.competitor)
                win = self._open_win(lead)
                lose(lead)
                self.assertFalse(lead.active)
                self._assert_not_won(lead)
                self.assertEqual(win.state, "reopened")
                self.assertEqual(win.won_reason_id, self.won_price)
                loss = self._losses(lead)
                self.assertEqual(loss.state, "lost")
                self.assertEqual(loss.stage_id, self.stage_won)
        self._assert_invariants()

    def test_restore_lead_lost_from_won_stage(self):
        """A lead lost while won, restored (Restore dialog, Unarchive): back in
        its won stage, it is won again with a new win (two in all) that gets
        the reason, note and competitors of the win the loss closed (the
        restore undoes the loss); its loss is *won back*."""
        paths = {
            "dialog": lambda lead: self._restore(lead, note="Back"),
            "unarchive": lambda lead: lead.action_unarchive(),
        }
        for path, restore in paths.items():
            with self.subTest(path=path):
                lead = self._opportunity(f"CLM Lost while won ({path})")
                self._won_form(lead, self.won_price, "<p>Won</p>", self.competitor)
                self._lose(lead, self.reason_plain)
                restore(lead)
                self.env.invalidate_all()
                self.assertEqual(lead.stage_id, self.stage_won)
                self._assert_won(
                    lead, self.won_price, "<p>Won</p>", self.competitor, wins=2
                )
                self.assertEqual(self._losses(lead).state, "won_back")
        self._assert_invariants()

    def test_restore_won_lead_to_another_stage(self):
        """Restored to a stage that is not won: not won, its wins closed."""
        lead = self.opportunity
        self._won_form(lead, self.won_price)
        self._lose(lead, self.reason_plain)
        self._restore(lead, stage=self.stage_new)
        self._assert_not_won(lead)
        self.assertEqual(self._wins(lead).state, "reopened")
        self._assert_invariants()

    def test_restore_dialog_into_won_stage_with_setting(self):
        """Setting on: the Restore dialog is a user interface path; restoring
        into a won stage a lead without a reason is refused clearly, nothing
        written (Mark as Won is the way). A lead lost from a won stage and
        restored there gets back the reason of its last win."""
        self._require_won_reason()
        lead = self.opportunity
        self._lose(lead, self.reason_plain)
        before = self._snapshot(lead)
        message = self._error(UserError, self._restore, lead, stage=self.stage_won)
        self.assertIn(REQUIRED_ERROR, message)
        self.assertIn(lead.name, message)
        self.assertEqual(self._snapshot(lead), before)
        # the Mark as Won dialog restores and wins it
        self._won_form(lead, self.won_price)
        self._assert_won(lead, self.won_price)
        # lost from a won stage, restored there: its reason comes back
        self._lose(lead, self.reason_plain)
        self._restore(lead)
        self._assert_won(lead, self.won_price, wins=2)
        # won without a reason before the setting: restored there, refused
        self._require_won_reason(required=False)
        other = self._opportunity("CLM Won before the setting")
        other.action_set_won()
        self._lose(other, self.reason_plain)
        self._require_won_reason()
        before = self._snapshot(other)
        message = self._error(UserError, self._restore, other)
        self.assertIn(REQUIRED_ERROR, message)
        self.assertEqual(self._snapshot(other), before)
        self._assert_invariants()

    # ------------------------------------------------------------
    # Create, import, copy
    # ------------------------------------------------------------

    @users("clm_sales_own")
    def test_create_in_won_stage(self):
        """Created in a won stage: won, one open win by the creator, with the
        win data given."""
        Lead = self.env["crm.lead"]
        plain = Lead.create({"name": "CLM Created won", "stage_id": self.stage_won.id})
        win = self._assert_won(plain)
        self.assertEqual(win.won_by_id, self.user_sales_own)
        with_data = Lead.create(
            {
                "name": "CLM Created won with a reason",
                "type": "opportunity",
                "stage_id": self.stage_won.id,
                "won_reason_id": self.won_fit.id,
                "won_competitor_ids": [Command.set(self.competitor.ids)],
            }
        )
        self._assert_won(with_data, self.won_fit, competitors=self.competitor)
        archived = Lead.create(
            {"name": "CLM Created lost in won stage", "stage_id": self.stage_won.id}
        )
        archived.action_archive()
        self._assert_not_won(archived)
        self._assert_invariants()

    @users("clm_manager")
    def test_import_won_leads(self):
        """Odoo's import (``load`` with ``import_file``) of won leads: won,
        with their reason. Setting on: a won lead without a reason is refused
        in the import result (clear error), nothing imported; the same for an
        existing lead moved into a won stage by the import."""
        Lead = self.env["crm.lead"].with_context(import_file=True, tz="UTC")
        fields_ = ["name", "type", "stage_id", "won_reason_id"]
        result = Lead.load(
            fields_,
            [
                ["CLM Imported won 1", "opportunity", "CLM Won", "CLM Best price"],
                ["CLM Imported won 2", "opportunity", "CLM Won", ""],
            ],
        )
        self.assertEqual(result["messages"], [])
        first, second = Lead.browse(result["ids"])
        self._assert_won(first, self.won_price)
        self._assert_won(second)

        self._require_won_reason()
        result = Lead.load(
            fields_,
            [
                ["CLM Imported won 3", "opportunity", "CLM Won", "CLM Product fit"],
                ["CLM Imported won 4", "opportunity", "CLM Won", ""],
            ],
        )
        self.assertFalse(result["ids"], "nothing imported")
        messages = [message["message"] for message in result["messages"]]
        self.assertTrue(
            any(
                REQUIRED_ERROR in message and "CLM Imported won 4" in message
                for message in messages
            ),
            messages,
        )
        self.assertFalse(
            Lead.search([("name", "in", ["CLM Imported won 3", "CLM Imported won 4"])])
        )
        # an update of an existing lead (its external id) into a won stage
        existing = self.opportunity_2.with_env(self.env)
        before = self._snapshot(existing)
        result = Lead.load([".id", "stage_id"], [[str(existing.id), "CLM Won"]])
        self.assertFalse(result["ids"])
        messages = [message["message"] for message in result["messages"]]
        # Fixed: the import updated the lead into the won stage without a
        # reason (only creation checked the setting): won without a reason
        # from the user interface.
        self.assertTrue(any(REQUIRED_ERROR in message for message in messages))
        self.assertEqual(self._snapshot(existing), before)
        result = Lead.load(
            [".id", "stage_id", "won_reason_id"],
            [[str(existing.id), "CLM Won", "CLM Best price"]],
        )
        self.assertEqual(result["messages"], [])
        self._assert_won(existing, self.won_price)
        self._assert_invariants()

    def test_copy_won_lead(self):
        """A won lead duplicated: the copy is open (stock gives it the first
        stage), without won data nor wins; the original keeps its one win.
        Copied into a won stage: the copy is won with the same data and its
        own win."""
        lead = self.opportunity
        self._won_form(lead, self.won_price, "<p>Deal</p>", self.competitor)
        copy = lead.copy()
        self._assert_not_won(copy)
        self.assertFalse(self._wins(copy))
        self._assert_won(lead, self.won_price, "Deal", self.competitor)
        won_copy = lead.copy({"stage_id": self.stage_won_2.id})
        self._assert_won(won_copy, self.won_price, "Deal", self.competitor)
        self.assertNotEqual(self._open_win(won_copy), self._open_win(lead))
        self._assert_invariants()

    # ------------------------------------------------------------
    # Merge
    # ------------------------------------------------------------

    def _merge(self, leads, **kwargs):
        """Merge as an RPC call does: in a new request, nothing in the cache."""
        self.env.flush_all()
        self.env.invalidate_all()
        return leads._merge_opportunity(**kwargs)

    def test_merge_moves_wins(self):
        """Merged leads' wins go to the lead they are merged into; their open
        wins are closed with "Merged into ..."; the result keeps its own state
        and current win."""
        head = self._opportunity("CLM Merge head", stage_id=self.stage_won_2.id)
        head.won_reason_id = self.won_fit
        tail = self._opportunity("CLM Merge tail")
        self._won_form(tail, self.won_price)
        tail_win = self._open_win(tail)
        result = self._merge(head | tail)
        self.assertEqual(result, head)
        self.assertFalse(tail.exists())
        self._assert_won(head, self.won_fit, wins=2)
        self.assertEqual(tail_win.lead_id, head)
        self.assertEqual(tail_win.state, "reopened")
        self.assertIn("Merged into", tail_win.reopen_note)
        self.assertIn("CLM Merge head", tail_win.reopen_note)
        self._assert_invariants()

    def test_merge_won_lead_into_open_lead(self):
        """A won lead merged into an open one: stock keeps the stage of the
        lead merged into (open), which gets the closed win, no current win."""
        head = self._opportunity("CLM Open head", type="opportunity")
        tail = self._opportunity("CLM Won lead", type="lead")
        self._won_form(tail, self.won_price)
        result = self._merge(head | tail)
        self.assertEqual(result, head)
        self.assertFalse(head._crm_lost_is_won())
        self._assert_not_won(head)
        self.assertEqual(self._wins(head).state, "reopened")
        self._assert_invariants()

    def test_merge_into_won_lead_other_team(self):
        """Merged into a won lead with another sales team whose stages do not
        include its won stage: stock moves the result to that team's first
        stage; it is no longer won (win closed), and the merge works."""
        team_stage = self.env["crm.stage"].create(
            {
                "name": "CLM East won",
                "sequence": 60,
                "is_won": True,
                "team_id": self.team_1.id,
            }
        )
        head = self._opportunity("CLM Won East", stage_id=team_stage.id)
        head.won_reason_id = self.won_price
        tail = self._opportunity("CLM West tail", team_id=self.team_2.id)
        result = self._merge(head | tail, team_id=self.team_2.id)
        self.assertEqual(result, head)
        self.assertNotEqual(head.stage_id, team_stage)
        self._assert_not_won(head)
        self.assertEqual(self._wins(head).state, "reopened")
        self._assert_invariants()

    def test_merge_wizard_leaves_won_leads_out(self):
        """The Merge action of the list (``crm.merge.opportunity``) leaves won
        leads out of the selection, as stock (probability 100): the won lead
        keeps its win; a won result of merged open leads is won once."""
        won = self._opportunity("CLM Wizard won", stage_id=self.stage_won.id)
        open_1 = self._opportunity("CLM Wizard open 1", stage_id=self.stage_won.id)
        open_1.write({"stage_id": self.stage_qualified.id})  # a closed win
        open_2 = self._opportunity("CLM Wizard open 2")
        form = Form(
            self.env["crm.merge.opportunity"].with_context(
                active_model="crm.lead", active_ids=(won | open_1 | open_2).ids
            )
        )
        self.assertEqual(form.opportunity_ids[:], open_1 | open_2)
        merged = self.env["crm.lead"].browse(form.save().action_merge()["res_id"])
        self.assertIn(merged, open_1 | open_2)
        self.assertEqual(self._wins(merged).state, "reopened")
        self._assert_not_won(merged)
        self._assert_won(won)
        self._assert_invariants()

    # ------------------------------------------------------------
    # Company change, deletion of what wins point to
    # ------------------------------------------------------------

    @users("clm_win_manager_mc")
    def test_company_change_moves_wins(self):
        """A won lead moved to another company takes its wins along: the old
        company's users no longer read them, the new company's do."""
        lead = self.opportunity.with_env(self.env)
        lead.write({"user_id": self.user_sales_all.id})
        self._won_form(lead, self.won_price)
        lead.write({"stage_id": self.stage_new.id})
        self._won_form(lead, self.won_fit)
        wins = self._wins(lead)
        self.assertEqual(len(wins), 2)
        Win = self.env["crm.lead.win"]
        old_user = Win.with_user(self.user_sales_all)
        new_user = Win.with_user(self.user_company_2)
        self.assertEqual(old_user.search([("id", "in", wins.ids)]), wins)
        self.assertFalse(new_user.search([("id", "in", wins.ids)]))
        lead.write(
            {
                "company_id": self.company_2.id,
                "team_id": self.team_c2.id,
                "user_id": self.user_company_2.id,
            }
        )
        self.env.invalidate_all()
        self.assertEqual(wins.company_id, self.company_2)
        self._assert_won(lead, self.won_fit, wins=2)
        self.assertFalse(old_user.search([("id", "in", wins.ids)]))
        with self.assertRaises(AccessError):
            old_user.browse(wins.ids).read(["state"])
        self.assertEqual(new_user.search([("id", "in", wins.ids)]), wins)
        self._assert_invariants()

    def test_company_change_refused_with_reason_of_the_company(self):
        """A won lead with a reason limited to its company cannot move to
        another company keeping it: a clear error."""
        reason_c1 = self.env["crm.won.reason"].create(
            {"name": "CLM Co1 reason", "company_id": self.company.id}
        )
        lead = self.opportunity
        self._won_form(lead, reason_c1)
        with self.assertRaises(UserError), self.env.cr.savepoint():
            lead.write({"company_id": self.company_2.id, "team_id": self.team_c2.id})
        self.assertEqual(lead.company_id, self.company)

    def test_delete_used_won_reason_category_competitor_refused(self):
        """Won reasons, categories and competitors used by wins (history
        included) or won leads cannot be deleted: a clear error naming them;
        unused ones can."""
        lead = self.opportunity
        self._won_form(lead, self.won_price, competitors=self.competitor_2)
        lead.write({"stage_id": self.stage_new.id})  # only history uses them now
        for record, pattern in (
            (self.won_price, "You cannot delete the won reasons"),
            (self.category_price, "You cannot delete the reason categories"),
            (self.competitor_2, "You cannot delete the competitor"),
        ):
            with self.subTest(record=record.display_name):
                message = self._error(UserError, record.unlink)
                self.assertIn(pattern, message)
                self.assertIn(record.name, message)
                self.assertTrue(record.exists())
        # a category used only by a won reason
        category = self.env["crm.lost.reason.category"].create({"name": "CLM Won only"})
        self.won_fit.category_id = category
        self.assertIn(
            "You cannot delete the reason categories",
            self._error(UserError, category.unlink),
        )
        # a competitor used only by a won lead
        lead.action_set_won()
        rival = self.env["crm.lost.competitor"].create({"name": "CLM Won against"})
        lead.won_competitor_ids = rival
        self.assertIn(
            "You cannot delete the competitor", self._error(UserError, rival.unlink)
        )
        unused = self.env["crm.won.reason"].create({"name": "CLM Unused"})
        unused.unlink()
        self.assertFalse(unused.exists())
        self._assert_invariants()

    # ------------------------------------------------------------
    # Won, reopened, won again; setting; web client
    # ------------------------------------------------------------

    def test_won_reopened_won_again_keeps_both(self):
        """Won for price, reopened, won again for fit: two wins, each with its
        reason; one open; the lead shows the second."""
        lead = self.opportunity
        with freeze_time(NOW):
            self._won_form(lead, self.won_price)
        with freeze_time(LATER):
            lead.write({"stage_id": self.stage_qualified.id})
            self._won_form(lead, self.won_fit)
        first, second = self._wins(lead)
        self.assertRecordValues(
            first | second,
            [
                {"state": "reopened", "won_reason_id": self.won_price.id},
                {"state": "won", "won_reason_id": self.won_fit.id},
            ],
        )
        self.assertEqual(first.won_date, NOW)
        self.assertEqual(first.reopened_date, LATER)
        self.assertEqual(second.won_date, LATER)
        self._assert_won(lead, self.won_fit, wins=2)
        self.assertEqual(self.won_price.win_count, 1)
        self.assertEqual(self.won_fit.win_count, 1)
        self._assert_invariants()

    @users("clm_sales_own")
    def test_web_save_guard(self):
        """Setting on: a save of the web client (form statusbar, list, kanban
        card) that wins a lead without a reason is refused with a clear
        error, nothing written; with a reason it wins. Other saves work."""
        self._require_won_reason()
        lead = self.opportunity.with_env(self.env)
        before = self._snapshot(lead)
        message = self._error(
            UserError, lead.web_save, {"stage_id": self.stage_won.id}, {}
        )
        self.assertIn(REQUIRED_ERROR, message)
        self.assertIn(lead.name, message)
        self.assertIn("Mark as Won", message)
        self.assertEqual(self._snapshot(lead), before, "nothing written")
        lead.web_save({"name": "CLM Opportunity Sally (renamed)"}, {})
        lead.web_save(
            {"stage_id": self.stage_won.id, "won_reason_id": self.won_price.id}, {}
        )
        self.env.invalidate_all()
        self._assert_won(lead, self.won_price)
        # a won lead's save that keeps it won needs nothing more
        lead.web_save({"stage_id": self.stage_won_2.id}, {})
        # a new lead created won by the web client
        message = self._error(
            UserError,
            self.env["crm.lead"].web_save,
            {"name": "CLM New won card", "stage_id": self.stage_won.id},
            {},
        )
        self.assertIn(REQUIRED_ERROR, message)
        self.assertFalse(
            self.env["crm.lead"].search([("name", "=", "CLM New won card")])
        )
        self._assert_invariants()

    @users("clm_sales_own")
    def test_web_save_without_setting(self):
        lead = self.opportunity.with_env(self.env)
        lead.web_save({"stage_id": self.stage_won.id}, {})
        self.env.invalidate_all()
        self._assert_won(lead)

    @users("clm_sales_own")
    def test_crm_won_reason_required(self):
        """``crm_won_reason_required()``: what the web client asks before a
        drag and drop; read-only (``@api.readonly``), changes nothing."""
        Lead = self.env["crm.lead"]
        self.assertTrue(getattr(type(Lead).crm_won_reason_required, "_readonly", False))
        lead = self.opportunity.with_env(self.env)
        self.assertFalse(lead.crm_won_reason_required())
        self._require_won_reason()
        self.assertTrue(lead.crm_won_reason_required())
        self.assertFalse(Lead.crm_won_reason_required(), "nothing selected")
        before = self._snapshot(lead)
        lead.crm_won_reason_required()
        self.assertEqual(self._snapshot(lead), before)

    def test_won_reason_required_per_company(self):
        """The setting is per company: the other company's leads are won
        without a reason from the user interface."""
        self._require_won_reason()
        self.assertFalse(self.opportunity_c2.crm_won_reason_required())
        self.assertTrue(
            (self.opportunity | self.opportunity_c2).crm_won_reason_required()
        )
        self.opportunity_c2.with_user(self.user_company_2).web_save(
            {"stage_id": self.stage_won.id}, {}
        )
        self._assert_won(self.opportunity_c2)


@tagged("post_install", "-at_install")
class TestWinReport(WinsCommon):
    """Win/Loss by outcome reason: won and lost reasons in one column."""

    def test_group_by_outcome_reason(self):
        """Hand-computed: a won reason and a lost reason with the same name
        group together; counts and revenue per outcome; in Chinese, the
        translated names group."""
        lost_price = self.env["crm.lost.reason"].create(
            {"name": "CLM Best price", "category_id": self.category_price.id}
        )
        leads = self.env["crm.lead"].create(
            [
                {
                    "name": f"CLM Report {index}",
                    "type": "opportunity",
                    "team_id": self.team_2.id,
                    "stage_id": self.stage_qualified.id,
                    "expected_revenue": 100.0 * (index + 1),
                }
                for index in range(6)
            ]
        )
        self._won_form(leads[0:2], self.won_price)  # 100 + 200
        self._won_form(leads[2], self.won_fit)  # 300
        self._lose(leads[3], lost_price)  # 400
        self._lose(leads[4], self.reason_competitor, competitor=self.competitor)
        # leads[5] stays open: no outcome reason
        Report = self.env["crm.win.loss.report"]
        domain = [("lead_id", "in", leads.ids)]

        def groups(report, groupby):
            return {
                group[groupby]
                if not isinstance(group[groupby], tuple)
                else group[groupby][0]: (
                    group["won_count"],
                    group["lost_count"],
                    group["open_count"],
                    group["won_revenue"],
                    group["lost_revenue"],
                )
                for group in report.read_group(
                    domain,
                    [
                        "won_count:sum",
                        "lost_count:sum",
                        "open_count:sum",
                        "won_revenue:sum",
                        "lost_revenue:sum",
                    ],
                    [groupby],
                )
            }

        expected = {
            "CLM Best price": (2, 1, 0, 300.0, 400.0),
            "CLM Product fit": (1, 0, 0, 300.0, 0.0),
            "CLM Chose a competitor": (0, 1, 0, 0.0, 500.0),
            False: (0, 0, 1, 0.0, 0.0),
        }
        self.assertEqual(groups(Report, "outcome_reason"), expected)
        self.assertEqual(
            groups(Report, "outcome_reason_category_id"),
            {
                self.category_price.id: (2, 1, 0, 300.0, 400.0),
                self.category_competition.id: (1, 1, 0, 300.0, 500.0),
                False: (0, 0, 1, 0.0, 0.0),
            },
        )
        self.assertEqual(
            groups(Report, "won_reason_id"),
            {
                self.won_price.id: (2, 0, 0, 300.0, 0.0),
                self.won_fit.id: (1, 0, 0, 300.0, 0.0),
                False: (0, 2, 1, 0.0, 900.0),
            },
        )

        # translated: both reasons named 最优价格 in Chinese group together,
        # the untranslated one keeps its English name
        self.env["res.lang"]._activate_lang("zh_CN")
        for record in (self.won_price, lost_price):
            record.update_field_translations("name", {"zh_CN": "最优价格"})
        self.env.flush_all()
        zh = groups(Report.with_context(lang="zh_CN"), "outcome_reason")
        self.assertEqual(
            zh,
            {
                "最优价格": (2, 1, 0, 300.0, 400.0),
                "CLM Product fit": (1, 0, 0, 300.0, 0.0),
                "CLM Chose a competitor": (0, 1, 0, 0.0, 500.0),
                False: (0, 0, 1, 0.0, 0.0),
            },
        )
        row = Report.with_context(lang="zh_CN").search([("lead_id", "=", leads[0].id)])
        self.assertEqual(row.outcome_reason, "最优价格")
        self.assertEqual(row.outcome, "won")
        # a lead reopened leaves the won rows
        leads[2].write({"stage_id": self.stage_new.id})
        self.env.flush_all()
        self.assertNotIn("CLM Product fit", groups(Report, "outcome_reason"))


@tagged("post_install", "-at_install")
class TestWinAccess(WinsCommon):
    """Who reads and changes wins and won reasons."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user_colleague = mail_new_test_user(
            cls.env,
            login="clm_win_colleague",
            name="Colin Colleague",
            email="colin.win@example.com",
            company_id=cls.company.id,
            groups="sales_team.group_sale_salesman",
        )
        cls.lead_colleague = cls.env["crm.lead"].create(
            {
                "name": "CLM Colleague's deal",
                "type": "opportunity",
                "user_id": cls.user_colleague.id,
                "team_id": cls.team_1.id,
                "stage_id": cls.stage_qualified.id,
            }
        )
        leads = cls.opportunity | cls.lead_colleague | cls.opportunity_c2
        leads.with_context(
            crm_won_values={"won_reason_id": cls.won_price.id}
        ).action_set_won()
        cls.win_own, cls.win_colleague, cls.win_c2 = (
            cls.env["crm.lead.win"].search([("lead_id", "=", lead.id)])
            for lead in leads
        )

    @users("clm_sales_own")
    def test_own_documents_salesperson_reads_own_wins_only(self):
        Win = self.env["crm.lead.win"]
        visible = Win.search([("id", "in", (self.win_own | self.win_colleague).ids)])
        self.assertEqual(visible, self.win_own)
        with self.assertRaises(AccessError):
            self.win_colleague.with_env(self.env).read(["won_reason_id"])
        self.assertEqual(
            Win.read_group(
                [("won_reason_id", "=", self.won_price.id)],
                ["expected_revenue:sum"],
                ["won_reason_id"],
            )[0]["won_reason_id_count"],
            1,
        )

    @users("clm_sales_all")
    def test_all_documents_salesperson_reads_company_wins(self):
        visible = self.env["crm.lead.win"].search(
            [("id", "in", (self.win_own | self.win_colleague | self.win_c2).ids)]
        )
        self.assertEqual(visible, self.win_own | self.win_colleague)
        with self.assertRaises(AccessError):
            self.win_c2.with_env(self.env).read(["state"])

    @users("clm_sales_c2")
    def test_other_company_reads_its_wins_only(self):
        visible = self.env["crm.lead.win"].search([("id", "in", self._all_wins())])
        self.assertEqual(visible, self.win_c2)
        # a shared reason is readable, one of another company is not
        self.won_price.with_env(self.env).read(["name"])
        reason_c1 = (
            self.env["crm.won.reason"]
            .sudo()
            .create({"name": "CLM Co1 only", "company_id": self.company.id})
        )
        with self.assertRaises(AccessError):
            reason_c1.with_env(self.env).read(["name"])

    def _all_wins(self):
        return (self.win_own | self.win_colleague | self.win_c2).ids

    @users("clm_sales_own", "clm_sales_all", "clm_manager")
    def test_nobody_writes_wins(self):
        """Wins are the module's: nobody creates, edits or deletes them by
        hand, sales managers included."""
        win = self.win_own.with_env(self.env)
        with self.assertRaises(AccessError):
            win.write({"won_reason_id": self.won_fit.id})
        with self.assertRaises(AccessError):
            win.unlink()
        with self.assertRaises(AccessError):
            self.env["crm.lead.win"].create({"lead_id": self.lead.id})
        self.assertEqual(self.win_own.won_reason_id, self.won_price)

    @users("clm_sales_own", "clm_sales_all")
    def test_salespeople_cannot_configure_won_reasons(self):
        Reason = self.env["crm.won.reason"]
        self.assertIn(self.won_price, Reason.search([]))
        with self.assertRaises(AccessError):
            Reason.create({"name": "CLM Salesperson's reason"})
        with self.assertRaises(AccessError):
            self.won_fit.with_env(self.env).write({"description": "Changed"})
        with self.assertRaises(AccessError):
            self.won_fit.with_env(self.env).unlink()

    @users("clm_manager")
    def test_managers_manage_won_reasons(self):
        Reason = self.env["crm.won.reason"]
        reason = Reason.create(
            {"name": "CLM Manager's reason", "category_id": self.category_price.id}
        )
        reason.write({"description": "When the deal closed on price", "sequence": 1})
        reason.action_archive()
        self.assertFalse(reason.active)
        reason.unlink()
        self.assertFalse(reason.exists())

    @users("clm_sales_own")
    def test_salesperson_wins_own_lead_only(self):
        self._won_form(self.lead.with_env(self.env), self.won_fit)
        self._assert_won(self.lead, self.won_fit)
        with self.assertRaises(AccessError):
            self._won_wizard(
                self.opportunity_2.with_env(self.env), won_reason_id=self.won_fit.id
            )


@tagged("post_install", "-at_install")
class TestWinCost(WinsCommon):
    """The Mark as Won dialog does not cost more queries for 100 opportunities
    than for 10 (``assertQueryCount`` per user and size, as
    ``TestLossRecordsCost`` does for Mark as Lost): it works in batches.

    Measured (Odoo 18.0, crm_lost_management 18.0.1.2.0), for 1 / 10 / 100
    opportunities: 50 / 49 / 49 queries for Sally (own documents), 52 / 51 /
    51 for Sam (all documents) and Martha (sales manager); one lead costs one
    query more for its rainbow man. Of these, 4 are the competition's: the
    dialog reads the competitors the leads face, and the competitor won
    against, missing from their Competition tab, is added to it. Stock's
    ``action_set_won`` searches the won stages once per lead (10 / 100
    leads: 54 / 144 queries for Sally before ``crm.lead.action_set_won``
    looked them up once per batch). Going over a budget fails; going under
    only logs (Odoo's rule): lower the budget then."""

    SIZES = (1, 10, 100)

    def _cost_leads(self, count):
        leads = (
            self.env["crm.lead"]
            .sudo()
            .create(
                [
                    {
                        "name": f"CLM Win cost {count}-{index}",
                        "type": "opportunity",
                        "user_id": self.user_sales_own.id,
                        "team_id": self.team_1.id,
                        "stage_id": self.stage_qualified.id,
                        "expected_revenue": 100.0 * (index + 1),
                    }
                    for index in range(count)
                ]
            )
        )
        return leads.with_env(self.env)

    def _won_dialog(self, leads):
        form = Form(
            self.env["crm.lead.won"].with_context(
                active_ids=leads.ids,
                active_model="crm.lead",
                default_lead_ids=leads.ids,
            )
        )
        form.won_reason_id = self.won_price
        form.won_competitor_ids.add(self.competitor)
        form.won_note = "<p>Cost check</p>"
        form.save().action_won_reason_apply()

    @users("clm_sales_own", "clm_sales_all", "clm_manager")
    @warmup
    def test_cost_mark_as_won_dialog(self):
        """The Mark as Won dialog (open, fill, save, apply), reason required."""
        budgets = {
            "clm_sales_own": (51, 50, 50),
            "clm_sales_all": (53, 52, 52),
            "clm_manager": (53, 52, 52),
        }[self.env.user.login]
        self._require_won_reason()
        first = self._cost_leads(2)
        self._won_dialog(first)  # the PLS frequency rows, unmeasured
        for count, budget in zip(self.SIZES, budgets, strict=True):
            leads = self._cost_leads(count)
            self.env.flush_all()
            self.env.invalidate_all()
            with self.subTest(count=count), self.assertQueryCount(budget):
                self._won_dialog(leads)
            wins = self._wins(leads)
            self.assertEqual(len(wins), count)
            self.assertEqual(set(wins.mapped("state")), {"won"})
            self.assertEqual(wins.won_reason_id, self.won_price)
            self.assertEqual(wins.competitor_ids, self.competitor)
