# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import unittest
from contextlib import contextmanager

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged
from odoo.tests.common import users

from .common import CrmLostCommon


@tagged("post_install", "-at_install")
class TestCrmLostAccess(CrmLostCommon):
    """Who may lose, restore, read and configure what.

    Inside a ``@users`` test ``self.env`` acts as that user; the fixtures of
    the class stay bound to the superuser and serve to check what was really
    written."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Lead = cls.env["crm.lead"]
        cls.opportunity_sally_lost = Lead.create(
            {
                "name": "CLM Lost Sally",
                "type": "opportunity",
                "user_id": cls.user_sales_own.id,
                "team_id": cls.team_1.id,
                "stage_id": cls.stage_qualified.id,
            }
        )
        cls.opportunity_sam_lost = Lead.create(
            {
                "name": "CLM Lost Sam",
                "type": "opportunity",
                "user_id": cls.user_sales_all.id,
                "team_id": cls.team_2.id,
                "stage_id": cls.stage_new.id,
            }
        )
        cls.opportunity_c2_lost = Lead.create(
            {
                "name": "CLM Lost Carla",
                "type": "opportunity",
                "user_id": cls.user_company_2.id,
                "team_id": cls.team_c2.id,
                "company_id": cls.company_2.id,
            }
        )
        cls.opportunity_c2 = Lead.create(
            {
                "name": "CLM Opportunity Carla",
                "type": "opportunity",
                "user_id": cls.user_company_2.id,
                "team_id": cls.team_c2.id,
                "company_id": cls.company_2.id,
            }
        )
        lost = cls.opportunity_sally_lost | cls.opportunity_sam_lost
        lost |= cls.opportunity_c2_lost
        lost.action_set_lost(lost_reason_id=cls.reason_plain.id)
        Loss = cls.env["crm.lead.loss"]
        cls.loss_sally = Loss.search([("lead_id", "=", cls.opportunity_sally_lost.id)])
        cls.loss_sam = Loss.search([("lead_id", "=", cls.opportunity_sam_lost.id)])
        cls.loss_c2 = Loss.search([("lead_id", "=", cls.opportunity_c2_lost.id)])
        cls.fixture_losses = cls.loss_sally | cls.loss_sam | cls.loss_c2

    def test_fixture_losses(self):
        self.assertEqual(len(self.fixture_losses), 3)
        self.assertEqual(self.loss_sally.company_id, self.company)
        self.assertEqual(self.loss_sam.company_id, self.company)
        self.assertEqual(self.loss_c2.company_id, self.company_2)
        self.assertEqual(set(self.fixture_losses.mapped("state")), {"lost"})

    # helpers

    @contextmanager
    def _assert_denied(self, exception, model=None):
        """Assert that the block raises ``exception`` (about ``model``: the
        technical name Odoo puts in access error messages).

        Unlike ``BaseCase.assertRaises`` this does not roll back to a
        savepoint: whatever the denied call wrote before failing stays in the
        transaction, so the checks that follow prove nothing was written. The
        cache is emptied first so that records cached by the superuser cannot
        hide an access error."""
        self.env.flush_all()
        self.env.invalidate_all()
        with unittest.TestCase.assertRaises(self, exception) as catcher:
            yield catcher
        if model:
            self.assertIn(f"({model})", str(catcher.exception))

    def _lose_with_form(self, leads, reason, feedback=False):
        """Mark ``leads`` lost with the Mark Lost wizard, as the list or the
        form view opens it, acting as the current user."""
        context = {
            "active_ids": leads.ids,
            "active_model": "crm.lead",
            "default_lead_ids": leads.ids,
        }
        with Form(self.env["crm.lead.lost"].with_context(**context)) as form:
            form.lost_reason_id = reason.with_env(self.env)
            if feedback:
                form.lost_feedback = feedback
        return form.record.action_lost_reason_apply()

    def _restore_with_form(self, leads, note=False, stage=None):
        context = {"active_ids": leads.ids, "default_lead_ids": leads.ids}
        with Form(self.env["crm.lead.restore"].with_context(**context)) as form:
            if note:
                form.restore_note = note
            if stage:
                form.stage_id = stage.with_env(self.env)
        return form.record.action_restore()

    def _visible_fixture_losses(self):
        return self.env["crm.lead.loss"].search([("id", "in", self.fixture_losses.ids)])

    # ------------------------------------------------------------
    # Salesperson, own documents
    # ------------------------------------------------------------

    @users("clm_sales_own")
    def test_sales_own_loses_and_restores_own_opportunity(self):
        opportunity = self.opportunity.with_env(self.env)
        self._lose_with_form(opportunity, self.reason_plain, "<p>Over budget</p>")
        self.assertFalse(opportunity.active)
        self.assertEqual(opportunity.lost_reason_id, self.reason_plain)
        self.assertEqual(opportunity.lost_by_id, self.env.user)
        self.assertEqual(opportunity.lost_note, "Over budget")
        # the loss record, created in sudo by the flow, is readable by her
        loss = self.env["crm.lead.loss"].search([("lead_id", "=", opportunity.id)])
        self.assertEqual(len(loss), 1)
        self.assertEqual(loss.state, "lost")
        self.assertEqual(loss.lost_by_id, self.env.user)
        self.assertEqual(loss.user_id, self.env.user)
        self.assertEqual(loss.stage_id, self.stage_qualified)
        self.assertEqual(loss.closing_note_text, "Over budget")
        self.assertEqual(opportunity.loss_count, 1)

        self._restore_with_form(opportunity, note="Budget is back")
        self.assertTrue(opportunity.active)
        self.assertFalse(opportunity.lost_reason_id)
        self.assertEqual(opportunity.stage_id, self.stage_qualified)
        self.assertEqual(loss.state, "recovered")
        self.assertEqual(loss.restored_by_id, self.env.user)
        self.assertEqual(loss.restore_note, "Budget is back")

    @users("clm_sales_own")
    def test_sales_own_edits_lost_opportunity_and_wins_it_back(self):
        # the loss record follows her edits and her win although she may
        # only read loss records
        lost = self.opportunity_sally_lost.with_env(self.env)
        lost.write(
            {
                "lost_feedback": "<p>They signed with a rival</p>",
                "lost_competitor_id": self.competitor.id,
            }
        )
        self.assertEqual(self.loss_sally.closing_note_text, "They signed with a rival")
        self.assertEqual(self.loss_sally.competitor_id, self.competitor)

        self._restore_with_form(lost)
        self.assertEqual(self.loss_sally.state, "recovered")
        lost.action_set_won()
        self.assertEqual(lost.probability, 100)
        self.assertEqual(self.loss_sally.state, "won_back")

    @users("clm_sales_own")
    def test_sales_own_restore_active_lead_refused(self):
        opportunity = self.opportunity.with_env(self.env)
        with self._assert_denied(UserError) as catcher:
            self._restore_with_form(opportunity, note="Nothing to restore")
        self.assertIn("CLM Opportunity Sally", str(catcher.exception))
        self.assertTrue(self.opportunity.active)
        self.assertFalse(self._losses(self.opportunity))

    @users("clm_sales_own")
    def test_sales_own_cannot_read_or_lose_others_opportunity(self):
        opportunity_2 = self.opportunity_2.with_env(self.env)
        Lead = self.env["crm.lead"]
        self.assertFalse(Lead.search([("id", "=", opportunity_2.id)]))
        self.assertEqual(
            Lead.search([("id", "in", (self.opportunity | opportunity_2).ids)]),
            self.opportunity,
        )
        with self._assert_denied(AccessError, "crm.lead"):
            opportunity_2.read(["name"])

        with self._assert_denied(AccessError, "crm.lead"):
            self._lose(opportunity_2, self.reason_plain, "<p>Not mine</p>")
        with self._assert_denied(AccessError, "crm.lead"):
            opportunity_2.action_set_lost(lost_reason_id=self.reason_plain.id)
        with self._assert_denied(AccessError, "crm.lead"):
            opportunity_2.write({"active": False})

        self.assertTrue(self.opportunity_2.active)
        self.assertFalse(self.opportunity_2.lost_reason_id)
        self.assertFalse(self.opportunity_2.lost_date)
        self.assertFalse(self._losses(self.opportunity_2))

    @users("clm_sales_own")
    def test_sales_own_cannot_restore_others_opportunity(self):
        lost = self.opportunity_sam_lost.with_env(self.env)
        with self._assert_denied(AccessError, "crm.lead"):
            self._restore(lost, note="Stolen back")
        self.assertFalse(self.opportunity_sam_lost.active)
        self.assertEqual(self.loss_sam.state, "lost")
        self.assertFalse(self.loss_sam.restore_note)
        self.assertFalse(self.loss_sam.restored_by_id)

    @users("clm_sales_own")
    def test_sales_own_sees_only_losses_of_readable_leads(self):
        Loss = self.env["crm.lead.loss"]
        self.assertEqual(self._visible_fixture_losses(), self.loss_sally)
        # whatever else exists (demo data), she only gets losses of her leads
        # or of unassigned ones
        losses = Loss.search([])
        self.assertIn(self.loss_sally, losses)
        self.assertNotIn(self.loss_sam, losses)
        self.assertLessEqual(losses.sudo().lead_id.user_id, self.env.user)
        self.assertEqual(Loss.search_count([("id", "=", self.loss_sam.id)]), 0)

        self.loss_sally.with_env(self.env).read(["lead_id", "state"])
        with self._assert_denied(AccessError, "crm.lead.loss"):
            self.loss_sam.with_env(self.env).read(["lead_id", "state"])

        # statistics are computed on what she may read
        reason = self.reason_plain.with_env(self.env)
        self.assertEqual(reason.loss_count, 1)

    @users("clm_sales_own", "clm_sales_all")
    def test_salesperson_cannot_create_write_unlink_losses(self):
        Loss = self.env["crm.lead.loss"]
        loss = self.loss_sally.with_env(self.env)
        with self._assert_denied(AccessError, "crm.lead.loss"):
            Loss.create(
                {
                    "lead_id": self.opportunity.id,
                    "lead_type": "opportunity",
                    "lost_reason_id": self.reason_plain.id,
                }
            )
        with self._assert_denied(AccessError, "crm.lead.loss"):
            loss.write({"restore_note": "Rewritten history", "state": "won_back"})
        with self._assert_denied(AccessError, "crm.lead.loss"):
            loss.unlink()

        self.assertFalse(self._losses(self.opportunity))
        self.assertTrue(self.loss_sally.exists())
        self.assertEqual(self.loss_sally.state, "lost")
        self.assertFalse(self.loss_sally.restore_note)

    @users("clm_sales_own", "clm_sales_all")
    def test_salesperson_reads_but_cannot_configure_reasons(self):
        Reason = self.env["crm.lost.reason"]
        Category = self.env["crm.lost.reason.category"]
        reasons = self.reason_plain | self.reason_note | self.reason_competitor
        self.assertEqual(Reason.search([("id", "in", reasons.ids)]), reasons)
        reason = self.reason_plain.with_env(self.env)
        reason.read(["name", "category_id", "note_required", "applies_to"])
        self.assertEqual(reason.category_id.name, "CLM Price")
        categories = self.category_price | self.category_competition
        self.assertEqual(Category.search([("id", "in", categories.ids)]), categories)
        category = self.category_price.with_env(self.env)
        category.read(["name", "reason_count"])

        with self._assert_denied(AccessError, "crm.lost.reason"):
            Reason.create({"name": "CLM Sneaky reason"})
        with self._assert_denied(AccessError, "crm.lost.reason"):
            reason.write({"note_required": True, "name": "CLM Renamed"})
        with self._assert_denied(AccessError, "crm.lost.reason"):
            reason.unlink()
        with self._assert_denied(AccessError, "crm.lost.reason.category"):
            Category.create({"name": "CLM Sneaky category"})
        with self._assert_denied(AccessError, "crm.lost.reason.category"):
            category.write({"name": "CLM Renamed category"})
        with self._assert_denied(AccessError, "crm.lost.reason.category"):
            category.unlink()

        SuReason = self.env["crm.lost.reason"].sudo().with_context(active_test=False)
        SuCategory = Category.sudo().with_context(active_test=False)
        self.assertFalse(SuReason.search([("name", "=", "CLM Sneaky reason")]))
        self.assertFalse(SuCategory.search([("name", "=", "CLM Sneaky category")]))
        self.assertTrue(self.reason_plain.exists())
        self.assertEqual(self.reason_plain.name, "CLM Too expensive")
        self.assertFalse(self.reason_plain.note_required)
        self.assertTrue(self.category_price.exists())
        self.assertEqual(self.category_price.name, "CLM Price")

    @users("clm_sales_own", "clm_sales_all")
    def test_salesperson_creates_competitor_but_cannot_unlink(self):
        Competitor = self.env["crm.lost.competitor"]
        competitor = self.competitor.with_env(self.env)
        self.assertEqual(Competitor.search([("id", "=", competitor.id)]), competitor)
        self.assertEqual(competitor.name, "CLM Rival Inc")

        new = Competitor.create({"name": f"CLM Newcomer {self.env.user.login}"})
        self.assertTrue(new.exists())
        new.write({"website": "https://newcomer.example.com"})

        with self._assert_denied(AccessError, "crm.lost.competitor"):
            new.unlink()
        with self._assert_denied(AccessError, "crm.lost.competitor"):
            competitor.unlink()
        self.assertTrue(new.sudo().exists())
        self.assertEqual(new.sudo().website, "https://newcomer.example.com")
        self.assertTrue(self.competitor.exists())

    # ------------------------------------------------------------
    # Salesperson, all documents
    # ------------------------------------------------------------

    @users("clm_sales_all")
    def test_sales_all_sees_and_loses_all_leads_of_her_company(self):
        Lead = self.env["crm.lead"]
        leads = self.opportunity | self.opportunity_2 | self.lead
        candidates = leads | self.opportunity_c2
        self.assertEqual(Lead.search([("id", "in", candidates.ids)]), leads)

        opportunities = (self.opportunity | self.opportunity_2).with_env(self.env)
        self._lose_with_form(opportunities, self.reason_plain, "<p>Market gone</p>")
        self.assertFalse(any(opportunities.mapped("active")))
        losses = self.env["crm.lead.loss"].search(
            [("lead_id", "in", opportunities.ids)]
        )
        self.assertEqual(losses.lead_id, opportunities)
        self.assertEqual(losses.lost_by_id, self.env.user)
        self.assertEqual(
            losses.sorted("id").mapped("user_id"),
            self.user_sales_own | self.user_sales_all,
        )

        # she may restore a colleague's lost opportunity too
        sally_lost = self.opportunity_sally_lost.with_env(self.env)
        self._restore_with_form(sally_lost, note="Reopened by Sam")
        self.assertTrue(sally_lost.active)
        self.assertEqual(self.loss_sally.state, "recovered")
        self.assertEqual(self.loss_sally.restored_by_id, self.env.user)

    @users("clm_sales_all")
    def test_sales_all_sees_all_losses_of_her_company(self):
        self.assertEqual(
            self._visible_fixture_losses(), self.loss_sally | self.loss_sam
        )
        self.loss_sally.with_env(self.env).read(["lead_id", "state"])
        self.loss_sam.with_env(self.env).read(["lead_id", "state"])
        with self._assert_denied(AccessError, "crm.lead.loss"):
            self.loss_c2.with_env(self.env).read(["lead_id"])
        self.assertEqual(self.reason_plain.with_env(self.env).loss_count, 2)

    # ------------------------------------------------------------
    # Sales manager
    # ------------------------------------------------------------

    @users("clm_manager")
    def test_manager_configures_reasons_and_categories(self):
        Reason = self.env["crm.lost.reason"]
        Category = self.env["crm.lost.reason.category"]
        category = Category.create({"name": "CLM Legal", "sequence": 3})
        reason = Reason.create(
            {
                "name": "CLM Blocked by legal",
                "category_id": category.id,
                "applies_to": "opportunity",
                "team_ids": [(6, 0, self.team_1.ids)],
                "company_id": self.company.id,
                "revisit_after_days": 30,
            }
        )
        reason.write({"note_required": True, "description": "Attach the memo."})
        category.write({"name": "CLM Legal & compliance", "color": 4})
        self.reason_plain.with_env(self.env).write({"category_id": category.id})
        self.assertEqual(category.reason_count, 2)
        self.assertTrue(reason.note_required)
        self.assertEqual(reason.description, "Attach the memo.")

        reason.action_archive()
        category.action_archive()
        self.assertFalse(reason.active)
        self.assertFalse(category.active)
        self.assertFalse(Reason.search([("id", "=", reason.id)]))
        reason.action_unarchive()
        self.assertTrue(reason.active)

        unused_reason = Reason.create({"name": "CLM Typo reason"})
        unused_category = Category.create({"name": "CLM Typo category"})
        unused_reason.unlink()
        unused_category.unlink()
        self.assertFalse(unused_reason.exists())
        self.assertFalse(unused_category.exists())

        # a reason in use is archived, not deleted
        used = self.reason_plain.with_env(self.env)
        with self._assert_denied(UserError) as catcher:
            used.unlink()
        self.assertIn("CLM Too expensive", str(catcher.exception))
        self.assertTrue(self.reason_plain.exists())
        self.assertTrue(self.reason_plain.active)

    @users("clm_manager")
    def test_manager_reads_all_losses(self):
        self.assertEqual(
            self._visible_fixture_losses(), self.loss_sally | self.loss_sam
        )
        values = (self.loss_sally | self.loss_sam).with_env(self.env).read(["state"])
        self.assertEqual([value["state"] for value in values], ["lost", "lost"])
        self.assertEqual(self.reason_plain.with_env(self.env).loss_count, 2)

    @users("admin")
    def test_settings_admin_edits_reason_required(self):
        # The CRM settings page (res.config.settings) is reserved by Odoo to
        # Settings administrators; "admin" is one, and a sales manager too.
        self.assertTrue(self.env.user.has_group("sales_team.group_sale_manager"))
        self.assertEqual(self.env.company, self.company)
        # as the settings page does: load, edit, save, execute
        with Form(self.env["res.config.settings"]) as form:
            self.assertTrue(form.crm_lost_reason_required)
            form.crm_lost_reason_required = False
        form.record.execute()
        self.assertFalse(self.company.crm_lost_reason_required)
        self.assertTrue(self.company_2.crm_lost_reason_required)

        with Form(self.env["res.config.settings"]) as form:
            self.assertFalse(form.crm_lost_reason_required)
            form.crm_lost_reason_required = True
        form.record.execute()
        self.assertTrue(self.company.crm_lost_reason_required)

    @users("clm_manager")
    def test_sales_manager_settings_page(self):
        # Sales administrators are not Settings administrators: Odoo grants
        # res.config.settings to base.group_system only.
        with self._assert_denied(AccessError, "res.config.settings"):
            settings = self.env["res.config.settings"].create({})
            settings.crm_lost_reason_required = False
            settings.execute()
        self.assertTrue(self.company.crm_lost_reason_required)

    # ------------------------------------------------------------
    # Company setting written directly
    # ------------------------------------------------------------

    @users("clm_sales_own", "clm_sales_all")
    def test_salesperson_cannot_change_reason_required(self):
        company = self.env.company
        self.assertEqual(company, self.company)
        self.assertTrue(company.crm_lost_reason_required)
        with self._assert_denied(AccessError, "res.company"):
            company.write({"crm_lost_reason_required": False})
        with self._assert_denied(AccessError, "res.config.settings"):
            settings = self.env["res.config.settings"].create({})
            settings.crm_lost_reason_required = False
            settings.execute()
        self.assertTrue(self.company.crm_lost_reason_required)

    # ------------------------------------------------------------
    # Portal
    # ------------------------------------------------------------

    @users("clm_portal")
    def test_portal_has_no_access(self):
        records = {
            "crm.lead.loss": self.loss_sally,
            "crm.lost.reason.category": self.category_price,
            "crm.lost.competitor": self.competitor,
            "crm.lost.reason": self.reason_plain,
            "crm.lead": self.opportunity,
            "crm.lead.restore": self.env["crm.lead.restore"]
            .sudo()
            .create({"lead_ids": [(6, 0, self.opportunity_sally_lost.ids)]}),
            "crm.lead.lost": self.env["crm.lead.lost"]
            .sudo()
            .create({"lead_ids": [(6, 0, self.opportunity.ids)]}),
        }
        values = {
            "crm.lead.loss": {"lead_id": self.opportunity.id},
            "crm.lost.reason.category": {"name": "CLM Portal category"},
            "crm.lost.competitor": {"name": "CLM Portal competitor"},
            "crm.lost.reason": {"name": "CLM Portal reason"},
            "crm.lead": {"name": "CLM Portal lead"},
            "crm.lead.restore": {"lead_ids": [(6, 0, self.opportunity_sally_lost.ids)]},
            "crm.lead.lost": {"lead_ids": [(6, 0, self.opportunity.ids)]},
        }
        counts = {}
        for model, record in records.items():
            Model = self.env[model].sudo().with_context(active_test=False)
            counts[model] = Model.search_count([])
            with self.subTest(model=model):
                with self._assert_denied(AccessError, model):
                    self.env[model].search([])
                with self._assert_denied(AccessError, model):
                    record.with_env(self.env).read(["display_name"])
                with self._assert_denied(AccessError, model):
                    self.env[model].create(values[model])
                with self._assert_denied(AccessError, model):
                    record.with_env(self.env).unlink()
        for model, count in counts.items():
            Model = self.env[model].sudo().with_context(active_test=False)
            self.assertEqual(Model.search_count([]), count, model)
        self.assertTrue(self.opportunity.active)

    @users("clm_portal")
    def test_portal_cannot_lose_or_restore(self):
        with self._assert_denied(AccessError, "crm.lead.lost"):
            self._lose(self.opportunity.with_env(self.env), self.reason_plain)
        with self._assert_denied(AccessError, "crm.lead.restore"):
            self._restore(self.opportunity_sally_lost.with_env(self.env))
        self.assertTrue(self.opportunity.active)
        self.assertFalse(self._losses(self.opportunity))
        self.assertFalse(self.opportunity_sally_lost.active)
        self.assertEqual(self.loss_sally.state, "lost")

    # ------------------------------------------------------------
    # Other company
    # ------------------------------------------------------------

    @users("clm_sales_c2")
    def test_other_company_does_not_see_company_1_losses(self):
        self.assertEqual(self.env.companies, self.company_2)
        self.assertEqual(self._visible_fixture_losses(), self.loss_c2)
        losses = self.env["crm.lead.loss"].search([])
        self.assertIn(self.loss_c2, losses)
        self.assertFalse(losses.sudo().company_id - self.company_2)
        with self._assert_denied(AccessError, "crm.lead.loss"):
            self.loss_sam.with_env(self.env).read(["state"])
        with self._assert_denied(AccessError, "crm.lead.loss"):
            self.loss_sally.with_env(self.env).read(["state"])
        self.assertEqual(self.reason_plain.with_env(self.env).loss_count, 1)

    @users("clm_sales_c2")
    def test_other_company_reasons(self):
        reason_company_1 = (
            self.env["crm.lost.reason"]
            .sudo()
            .create({"name": "CLM Company 1 only", "company_id": self.company.id})
        )
        Reason = self.env["crm.lost.reason"]
        candidates = reason_company_1 | self.reason_company_2 | self.reason_plain
        self.assertEqual(
            Reason.search([("id", "in", candidates.ids)]),
            self.reason_company_2 | self.reason_plain,
        )
        with self._assert_denied(AccessError, "crm.lost.reason"):
            reason_company_1.with_env(self.env).read(["name"])

        # the Mark Lost wizard offers reasons without company and her own
        context = {"default_lead_ids": self.opportunity_c2.ids}
        with Form(self.env["crm.lead.lost"].with_context(**context)) as form:
            available = form.available_reason_ids
            self.assertIn(self.reason_plain, available)
            self.assertIn(self.reason_company_2, available)
            self.assertNotIn(reason_company_1, available)
            form.lost_reason_id = self.reason_company_2.with_env(self.env)
        form.record.action_lost_reason_apply()
        opportunity = self.opportunity_c2.with_env(self.env)
        self.assertFalse(opportunity.active)
        loss = self.env["crm.lead.loss"].search([("lead_id", "=", opportunity.id)])
        self.assertEqual(loss.company_id, self.company_2)
        self.assertEqual(loss.lost_reason_id, self.reason_company_2)

    @users("clm_sales_c2")
    def test_other_company_cannot_lose_company_1_lead(self):
        opportunity = self.opportunity.with_env(self.env)
        self.assertFalse(self.env["crm.lead"].search([("id", "=", opportunity.id)]))
        with self._assert_denied(AccessError, "crm.lead"):
            self._lose(opportunity, self.reason_plain, "<p>Not my company</p>")
        with self._assert_denied(AccessError, "crm.lead"):
            opportunity.action_set_lost(lost_reason_id=self.reason_plain.id)
        self.assertTrue(self.opportunity.active)
        self.assertFalse(self.opportunity.lost_reason_id)
        self.assertFalse(self._losses(self.opportunity))


@tagged("post_install", "-at_install")
class TestLostSettingsAccess(CrmLostCommon):
    """Sales managers set "Lost Reason Required" without the Settings app."""

    @users("clm_manager")
    def test_manager_sets_reason_required(self):
        company = self.company.with_env(self.env)
        self.assertTrue(company.crm_lost_reason_required)
        with Form(self.env["crm.lost.settings"]) as settings:
            self.assertTrue(settings.crm_lost_reason_required)
            settings.crm_lost_reason_required = False
        self.assertEqual(settings.record.company_id, company)
        settings.record.action_save()
        self.assertFalse(self.company.crm_lost_reason_required)
        self.assertTrue(self.company_2.crm_lost_reason_required)

    @users("clm_manager")
    def test_manager_sets_won_reason_required(self):
        self.assertFalse(self.company.crm_won_reason_required)
        with Form(self.env["crm.lost.settings"]) as settings:
            self.assertFalse(settings.crm_won_reason_required)
            settings.crm_won_reason_required = True
        settings.record.action_save()
        self.assertTrue(self.company.crm_won_reason_required)
        self.assertFalse(self.company_2.crm_won_reason_required)

    @users("clm_sales_all", "clm_portal")
    def test_others_cannot_use_lost_settings(self):
        with self.assertRaises(AccessError):
            self.env["crm.lost.settings"].create(
                {"crm_lost_reason_required": False}
            ).action_save()
        self.assertTrue(self.company.crm_lost_reason_required)

    @users("clm_manager")
    def test_manager_cannot_set_another_company(self):
        settings = self.env["crm.lost.settings"].create(
            {"company_id": self.company_2.id, "crm_lost_reason_required": False}
        )
        with self.assertRaises(AccessError):
            settings.action_save()
        self.assertTrue(self.company_2.crm_lost_reason_required)
