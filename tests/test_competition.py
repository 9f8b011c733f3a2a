# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Competitors on open deals: the Competition tab (``crm.lead.competitor``),
what Mark as Lost proposes, and what every other path does with the lines
(lose to a competitor not on the tab, duplicate, merge, company change,
competitor deletion)."""

from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged, users
from odoo.tools import mute_logger

from .common import CrmLostCommon


@tagged("post_install", "-at_install")
class TestCompetition(CrmLostCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Competitor = cls.env["crm.lost.competitor"]
        cls.rival_a = cls.competitor  # CLM Rival Inc
        cls.rival_b = Competitor.create({"name": "CLM Bravo Ltd"})
        cls.rival_c = Competitor.create({"name": "CLM Charlie Co"})
        cls.rival_company_2 = Competitor.create(
            {"name": "CLM Co2 Rival", "company_id": cls.company_2.id}
        )
        cls.rival_company_1 = Competitor.create(
            {"name": "CLM Main Co Rival", "company_id": cls.company.id}
        )

    # helpers

    def _face(self, lead, *competitors, **values):
        return self.env["crm.lead.competitor"].create(
            [
                {"lead_id": lead.id, "competitor_id": competitor.id, **values}
                for competitor in competitors
            ]
        )

    def _faced(self, lead):
        return (
            self.env["crm.lead.competitor"]
            .sudo()
            .search([("lead_id", "=", lead.id)])
            .competitor_id
        )

    def _lost_form(self, leads):
        return Form(
            self.env["crm.lead.lost"].with_context(
                active_ids=leads.ids,
                active_model="crm.lead",
                default_lead_ids=leads.ids,
            )
        )

    # ------------------------------------------------------------
    # The Competition tab
    # ------------------------------------------------------------

    @users("clm_sales_own")
    def test_salesperson_fills_the_tab(self):
        """The salesperson adds the competitors of her opportunity in its form,
        with their strengths and weaknesses on this deal."""
        opportunity = self.opportunity.with_env(self.env)
        with Form(opportunity) as form:
            with form.competitor_line_ids.new() as line:
                line.competitor_id = self.rival_a.with_env(self.env)
                line.strengths = "Cheaper by 10%"
                line.weaknesses = "No local support"
            with form.competitor_line_ids.new() as line:
                line.competitor_id = self.rival_b.with_env(self.env)
                line.note = "Incumbent supplier"
        lines = opportunity.competitor_line_ids
        self.assertEqual(lines.competitor_id, self.rival_a | self.rival_b)
        line_a = lines.filtered(lambda line: line.competitor_id == self.rival_a)
        self.assertEqual(line_a.strengths, "Cheaper by 10%")
        self.assertEqual(line_a.weaknesses, "No local support")
        self.assertEqual(line_a.company_id, self.company)
        # still open: nothing lost, nothing decided
        self.assertTrue(opportunity.active)
        self.assertFalse(opportunity.lost_competitor_id)

    def test_competitor_once_per_deal(self):
        self._face(self.opportunity, self.rival_a)
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError):
            self._face(self.opportunity, self.rival_a)
        # another deal may face it
        self.assertTrue(self._face(self.opportunity_2, self.rival_a))

    def test_tab_readonly_once_lost(self):
        """The form edits the tab of open deals only: a lost deal's tab is what
        it faced when it was lost (restore it to change it)."""
        self._face(self.opportunity, self.rival_a)
        self._lose(self.opportunity, self.reason_plain)
        form = Form(self.opportunity)
        with self.assertRaises(AssertionError):
            form.competitor_line_ids.new()
        self._restore(self.opportunity)
        with Form(self.opportunity) as form:
            form.competitor_line_ids.remove(0)
        self.assertFalse(self.opportunity.competitor_line_ids)

    def test_tab_readonly_once_won(self):
        won_stage = self.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        self.opportunity.stage_id = won_stage
        form = Form(self.opportunity)
        with self.assertRaises(AssertionError):
            form.competitor_line_ids.new()

    def test_tab_for_opportunities_only(self):
        view = self.env.ref("crm.crm_lead_view_form")
        (page,) = view._get_combined_arch().xpath("//page[@name='competition']")
        self.assertEqual(page.get("invisible"), "type == 'lead'")

    def test_lines_go_with_their_lead(self):
        lines = self._face(self.opportunity, self.rival_a, self.rival_b)
        self.opportunity.unlink()
        self.assertFalse(lines.exists())

    # ------------------------------------------------------------
    # Access (the matrix has the rows; these are the details)
    # ------------------------------------------------------------

    def test_salesperson_own_documents(self):
        own = self._face(self.opportunity, self.rival_a)  # Sally's
        other = self._face(self.opportunity_2, self.rival_a)  # Sam's
        env = self.env(user=self.user_sales_own)
        Line = env["crm.lead.competitor"]
        self.assertEqual(Line.search([("id", "in", (own | other).ids)]), own)
        own.with_env(env).write({"note": "Met them at the demo"})
        with self.assertRaises(AccessError):
            other.with_env(env).write({"note": "Not mine"})
        with self.assertRaises(AccessError):
            Line.create(
                {"lead_id": self.opportunity_2.id, "competitor_id": self.rival_b.id}
            )
        # all documents: every line of the company
        env_all = self.env(user=self.user_sales_all)
        self.assertEqual(
            env_all["crm.lead.competitor"].search([("id", "in", (own | other).ids)]),
            own | other,
        )
        # another company: none
        env_c2 = self.env(user=self.user_company_2)
        self.assertFalse(
            env_c2["crm.lead.competitor"].search([("id", "in", (own | other).ids)])
        )

    def test_portal_has_no_access(self):
        line = self._face(self.opportunity, self.rival_a)
        with self.assertRaises(AccessError):
            line.with_user(self.user_portal).read(["competitor_id"])

    # ------------------------------------------------------------
    # Mark as Lost proposes the deal's competitors
    # ------------------------------------------------------------

    @users("clm_sales_own")
    def test_single_competitor_proposed(self):
        """Every deal of the selection faces the same single competitor: the
        dialog shows the competitor field with it."""
        opportunity = self.opportunity.with_env(self.env)
        self._face(self.opportunity, self.rival_b)
        form = self._lost_form(opportunity)
        self.assertEqual(form.proposed_competitor_ids[:], self.rival_b)
        self.assertEqual(form.lost_competitor_id, self.rival_b)
        form.lost_reason_id = self.reason_competitor.with_env(self.env)
        form.save().action_lost_reason_apply()
        self.assertFalse(opportunity.active)
        self.assertEqual(opportunity.lost_competitor_id, self.rival_b)
        self.assertEqual(self._losses(opportunity).competitor_id, self.rival_b)

    def test_several_competitors_proposed_none_chosen(self):
        self._face(self.opportunity, self.rival_a, self.rival_b)
        form = self._lost_form(self.opportunity)
        self.assertEqual(form.proposed_competitor_ids[:], self.rival_a | self.rival_b)
        self.assertFalse(form.lost_competitor_id)
        # the reason requires one: picked among them (or any other)
        form.lost_reason_id = self.reason_competitor
        form.lost_competitor_id = self.rival_a
        form.save().action_lost_reason_apply()
        self.assertEqual(self.opportunity.lost_competitor_id, self.rival_a)

    def test_selection_facing_different_competitors(self):
        """The proposal is the union of what the selection faces; a competitor
        is chosen for them only when every deal faces exactly that one."""
        self._face(self.opportunity, self.rival_a)
        form = self._lost_form(self.opportunity | self.opportunity_2)
        self.assertEqual(form.proposed_competitor_ids[:], self.rival_a)
        self.assertFalse(form.lost_competitor_id, "Sam's deal does not face it")
        self._face(self.opportunity_2, self.rival_a)
        form = self._lost_form(self.opportunity | self.opportunity_2)
        self.assertEqual(form.lost_competitor_id, self.rival_a)

    def test_proposal_can_be_cleared(self):
        """Lost for another reason than the competitor faced."""
        self._face(self.opportunity, self.rival_a)
        form = self._lost_form(self.opportunity)
        self.assertEqual(form.lost_competitor_id, self.rival_a)
        form.lost_competitor_id = self.env["crm.lost.competitor"]
        form.lost_reason_id = self.reason_plain
        form.save().action_lost_reason_apply()
        self.assertFalse(self.opportunity.active)
        self.assertFalse(self.opportunity.lost_competitor_id)
        self.assertFalse(self._losses(self.opportunity).competitor_id)

    def test_given_competitor_wins_over_proposal(self):
        """An RPC client creating the dialog with a competitor keeps it."""
        self._face(self.opportunity, self.rival_a)
        self._lose(self.opportunity, self.reason_competitor, competitor=self.rival_b)
        self.assertEqual(self.opportunity.lost_competitor_id, self.rival_b)

    def test_competitor_field_shown_when_proposed(self):
        view = self.env.ref("crm.crm_lead_lost_view_form")
        arch = view._get_combined_arch()
        (field,) = arch.xpath("//field[@name='lost_competitor_id']")
        self.assertEqual(
            field.get("invisible"),
            "not competitor_required and not proposed_competitor_ids",
        )

    # ------------------------------------------------------------
    # Mark as Won records the competitors faced
    # ------------------------------------------------------------

    def _won_form(self, leads):
        return Form(
            self.env["crm.lead.won"].with_context(
                active_ids=leads.ids,
                active_model="crm.lead",
                default_lead_ids=leads.ids,
            )
        )

    @users("clm_sales_own")
    def test_won_against_faced_competitors(self):
        opportunity = self.opportunity.with_env(self.env)
        self._face(self.opportunity, self.rival_a, self.rival_b)
        form = self._won_form(opportunity)
        self.assertEqual(form.won_competitor_ids[:], self.rival_a | self.rival_b)
        form.save().action_won_reason_apply()
        self.assertTrue(opportunity._crm_lost_is_won())
        self.assertEqual(opportunity.won_competitor_ids, self.rival_a | self.rival_b)
        self.assertEqual(
            self.env["crm.lead.win"]
            .search([("lead_id", "=", opportunity.id)])
            .competitor_ids,
            self.rival_a | self.rival_b,
        )

    def test_won_selection_proposes_common_competitors(self):
        """A selection is won against the competitors every deal faced."""
        self._face(self.opportunity, self.rival_a, self.rival_b)
        self._face(self.opportunity_2, self.rival_b, self.rival_c)
        form = self._won_form(self.opportunity | self.opportunity_2)
        self.assertEqual(form.won_competitor_ids[:], self.rival_b)
        self._face(self.lead, self.rival_a)
        form = self._won_form(self.opportunity | self.lead)
        self.assertEqual(form.won_competitor_ids[:], self.rival_a)
        form = self._won_form(self.opportunity_2 | self.lead)
        self.assertFalse(form.won_competitor_ids[:])

    def test_won_against_unlisted_competitor_added_to_tab(self):
        self._face(self.opportunity, self.rival_a)
        form = self._won_form(self.opportunity)
        form.won_competitor_ids.add(self.rival_c)
        form.save().action_won_reason_apply()
        both = self.rival_a | self.rival_c
        self.assertEqual(self.opportunity.won_competitor_ids, both)
        self.assertEqual(self._faced(self.opportunity), both)
        # kept when the deal is reopened (moved back to an open stage)
        self.opportunity.stage_id = self.stage_qualified
        self.assertFalse(self.opportunity.won_competitor_ids)
        self.assertEqual(self._faced(self.opportunity), both)

    # ------------------------------------------------------------
    # Lost to a competitor not on the tab
    # ------------------------------------------------------------

    def test_lost_to_unlisted_competitor_added_to_tab(self):
        """Lost to a competitor the tab did not list: it competed, so it is
        added to the tab (and stays there if the deal is restored)."""
        self._face(self.opportunity, self.rival_a, note="Our main rival")
        self._lose(self.opportunity, self.reason_competitor, competitor=self.rival_b)
        self.assertEqual(self._faced(self.opportunity), self.rival_a | self.rival_b)
        self._restore(self.opportunity)
        self.assertFalse(self.opportunity.lost_competitor_id)
        self.assertEqual(self._faced(self.opportunity), self.rival_a | self.rival_b)

    def test_lost_to_listed_competitor_not_added_twice(self):
        self._face(self.opportunity, self.rival_a, note="Our main rival")
        self._lose(self.opportunity, self.reason_competitor, competitor=self.rival_a)
        self.assertEqual(len(self.opportunity.competitor_line_ids), 1)
        self.assertEqual(self.opportunity.competitor_line_ids.note, "Our main rival")

    def test_lost_to_competitor_every_path(self):
        """action_set_lost, a correction on the lost lead, an import of a lost
        lead: the competitor lost to is on the tab."""
        self.opportunity.action_set_lost(
            lost_reason_id=self.reason_competitor.id,
            lost_competitor_id=self.rival_a.id,
        )
        self.assertEqual(self._faced(self.opportunity), self.rival_a)
        self.opportunity.lost_competitor_id = self.rival_b
        self.assertEqual(self._faced(self.opportunity), self.rival_a | self.rival_b)
        imported = self.env["crm.lead"].create(
            {
                "name": "CLM Imported lost deal",
                "type": "opportunity",
                "active": False,
                "lost_reason_id": self.reason_competitor.id,
                "lost_competitor_id": self.rival_c.id,
            }
        )
        self.assertEqual(self._faced(imported), self.rival_c)

    @users("clm_sales_own")
    def test_lost_to_unlisted_competitor_as_salesperson(self):
        opportunity = self.opportunity.with_env(self.env)
        self._lose(
            opportunity,
            self.reason_competitor.with_env(self.env),
            competitor=self.rival_c.with_env(self.env),
        )
        self.assertEqual(opportunity.competitor_line_ids.competitor_id, self.rival_c)

    # ------------------------------------------------------------
    # Duplicate, merge
    # ------------------------------------------------------------

    def test_duplicate_copies_competition(self):
        self._face(self.opportunity, self.rival_a, strengths="Cheaper")
        copy = self.opportunity.copy()
        self.assertEqual(copy.competitor_line_ids.competitor_id, self.rival_a)
        self.assertEqual(copy.competitor_line_ids.strengths, "Cheaper")
        self.assertNotEqual(
            copy.competitor_line_ids, self.opportunity.competitor_line_ids
        )

    def test_duplicate_lost_deal(self):
        """A lost deal is duplicated lost (with its competitor lost to): its
        lines are copied once."""
        self._face(self.opportunity, self.rival_a)
        self._lose(self.opportunity, self.reason_competitor, competitor=self.rival_a)
        copy = self.opportunity.copy()
        self.assertFalse(copy.active)
        self.assertEqual(copy.lost_competitor_id, self.rival_a)
        self.assertEqual(len(copy.competitor_line_ids), 1)

    def _merge_pair(self):
        ahead = self.opportunity  # qualified: the lead merged into
        behind = self.opportunity_2
        behind.stage_id = self.stage_new
        ahead.probability, behind.probability = 60, 10
        return ahead, behind

    def test_merge_gathers_competition(self):
        """Merged: the result faces every competitor of the merged deals; a
        competitor on both keeps one line with both texts."""
        ahead, behind = self._merge_pair()
        self._face(ahead, self.rival_a, strengths="Cheaper", note="Seen in March")
        self._face(behind, self.rival_a, strengths="Cheaper", note="Met the CEO")
        self._face(behind, self.rival_b, weaknesses="Slow delivery")
        result = (ahead | behind).merge_opportunity()
        self.assertEqual(result, ahead)
        self.assertFalse(behind.exists())
        line_a, line_b = (
            result.competitor_line_ids.filtered(
                lambda line, c=c: line.competitor_id == c
            )
            for c in (self.rival_a, self.rival_b)
        )
        self.assertEqual(len(result.competitor_line_ids), 2)
        self.assertEqual(line_a.strengths, "Cheaper")
        self.assertEqual(line_a.note, "Seen in March\n\nMet the CEO")
        self.assertEqual(line_b.weaknesses, "Slow delivery")

    def test_merge_wizard_as_salesperson(self):
        ahead, behind = self._merge_pair()
        behind.user_id = self.user_sales_all
        self._face(behind, self.rival_c)
        env = self.env(user=self.user_sales_all)
        leads = (ahead | behind).with_env(env)
        form = Form(
            env["crm.merge.opportunity"].with_context(
                active_model="crm.lead", active_ids=leads.ids, active_id=leads.ids[0]
            )
        )
        result = env["crm.lead"].browse(form.save().action_merge()["res_id"])
        self.assertEqual(result, ahead)
        self.assertEqual(self._faced(result), self.rival_c)

    def test_merge_without_unlink_keeps_lines(self):
        ahead, behind = self._merge_pair()
        self._face(behind, self.rival_b)
        result = (ahead | behind)._merge_opportunity(auto_unlink=False)
        self.assertEqual(self._faced(result), self.rival_b)
        self.assertEqual(self._faced(behind), self.rival_b)

    # ------------------------------------------------------------
    # Companies, competitor deletion
    # ------------------------------------------------------------

    def test_company_change_with_company_limited_competitor(self):
        self._face(self.opportunity, self.rival_company_1, self.rival_a)
        with self.assertRaises(ValidationError) as caught:
            self.opportunity.write(
                {
                    "company_id": self.company_2.id,
                    "team_id": self.team_c2.id,
                    "user_id": self.user_company_2.id,
                }
            )
        message = caught.exception.args[0]
        self.assertIn(self.opportunity.name, message)
        self.assertIn(self.rival_company_1.name, message)
        self.assertIn("Competition tab", message)
        self.assertNotIn(self.rival_a.name, message)
        # without it, the deal moves and its lines follow
        self.opportunity.competitor_line_ids.filtered(
            lambda line: line.competitor_id == self.rival_company_1
        ).unlink()
        self.opportunity.write(
            {
                "company_id": self.company_2.id,
                "team_id": self.team_c2.id,
                "user_id": self.user_company_2.id,
            }
        )
        self.assertEqual(
            self.opportunity.competitor_line_ids.company_id, self.company_2
        )

    def test_competitor_of_another_company_refused(self):
        with self.assertRaises(UserError):
            self._face(self.opportunity, self.rival_company_2)

    def test_competitor_limited_while_faced_elsewhere(self):
        self._face(self.opportunity, self.rival_a)
        with self.assertRaises(ValidationError) as caught:
            self.rival_a.company_id = self.company_2
        self.assertIn(self.opportunity.name, caught.exception.args[0])
        self.rival_a.company_id = self.company  # the deal's company: fine

    def test_faced_competitor_cannot_be_deleted(self):
        line = self._face(self.opportunity, self.rival_c)
        with self.assertRaises(UserError) as caught:
            self.rival_c.unlink()
        self.assertIn(self.rival_c.name, caught.exception.args[0])
        self.assertIn("Archive them instead", caught.exception.args[0])
        line.unlink()
        self.rival_c.unlink()
        self.assertFalse(self.rival_c.exists())
