# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import unittest
from contextlib import contextmanager
from datetime import timedelta

from psycopg2 import IntegrityError

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.service.model import _as_validation_error
from odoo.tests import tagged, users
from odoo.tools import mute_logger

from .common import CrmLostCommon


@tagged("post_install", "-at_install")
class TestCompetitorCategory(CrmLostCommon):
    """Competitors and reason categories in use are kept, competitor names are
    unique per company in the database, lost revenue is in one currency."""

    @contextmanager
    def _assert_refused(self, message_parts=()):
        """Assert that the block raises a ``UserError`` containing each of
        ``message_parts``. No savepoint is rolled back (unlike
        ``assertRaises``): the checks that follow see whatever the refused
        call wrote, so they prove it wrote nothing."""
        self.env.flush_all()
        with unittest.TestCase.assertRaises(self, UserError) as catcher:
            yield catcher
        message = catcher.exception.args[0]
        for part in message_parts:
            self.assertIn(part, message)
        self.env.flush_all()
        self.env.invalidate_all()

    def _lead_c2(self, **values):
        """An opportunity of the second company, which the users of the main
        company cannot see."""
        return (
            self.env["crm.lead"]
            .sudo()
            .create(
                {
                    "name": "CLM Opportunity Carla",
                    "type": "opportunity",
                    "company_id": self.company_2.id,
                    "team_id": self.team_c2.id,
                    "user_id": self.user_company_2.id,
                    "expected_revenue": 1000.0,
                    **values,
                }
            )
        )

    # ------------------------------------------------------------
    # Competitors in use cannot be deleted
    # ------------------------------------------------------------

    @users("clm_manager")
    def test_competitor_unlink_used_by_lost_lead(self):
        self._lose(self.opportunity, self.reason_competitor, competitor=self.competitor)
        competitor = self.competitor.with_env(self.env)
        with self._assert_refused([competitor.name, "Archive them instead"]):
            competitor.unlink()
        self.assertTrue(competitor.exists())
        opportunity = self.opportunity.with_env(self.env)
        self.assertFalse(opportunity.active)
        self.assertEqual(opportunity.lost_competitor_id, competitor)
        self.assertEqual(self._losses(opportunity).competitor_id, competitor)

    @users("clm_manager")
    def test_competitor_unlink_used_by_loss_record_only(self):
        """A restored lead no longer names the competitor, its loss record
        does: the history must not lose it."""
        self._lose(self.opportunity, self.reason_competitor, competitor=self.competitor)
        self._restore(self.opportunity)
        opportunity = self.opportunity.with_env(self.env)
        self.assertFalse(opportunity.lost_competitor_id)
        competitor = self.competitor.with_env(self.env)
        with self._assert_refused([competitor.name]):
            competitor.unlink()
        self.assertTrue(competitor.exists())
        self.assertEqual(self._losses(opportunity).competitor_id, competitor)

    @users("clm_manager")
    def test_competitor_unlink_used_by_archived_lead_of_another_company(self):
        """An archived lead without loss record (lost before the module was
        installed), in a company the manager does not see: it keeps its
        competitor."""
        lead = self._lead_c2(active=False, lost_competitor_id=self.competitor.id)
        self._losses(lead).unlink()
        self.assertFalse(lead.active)
        competitor = self.competitor.with_env(self.env)
        with self._assert_refused([competitor.name]):
            competitor.unlink()
        self.assertTrue(competitor.exists())
        self.assertEqual(lead.lost_competitor_id, self.competitor)

    @users("clm_manager")
    def test_competitor_unlink_names_only_used_ones(self):
        Competitor = self.env["crm.lost.competitor"]
        unused = Competitor.create({"name": "CLM Never Met"})
        used = self.competitor.with_env(self.env)
        self.opportunity.with_env(self.env).action_set_lost(lost_competitor_id=used.id)
        with self._assert_refused([used.name]) as catcher:
            (used | unused).unlink()
        self.assertNotIn(unused.name, catcher.exception.args[0])
        self.assertEqual((used | unused).exists(), used | unused)
        # unused competitors go, archived or not
        unused.action_archive()
        unused.unlink()
        self.assertFalse(unused.exists())

    # ------------------------------------------------------------
    # Categories in use cannot be deleted
    # ------------------------------------------------------------

    @users("clm_manager")
    def test_category_unlink_used_by_reason(self):
        """Used to fail on the foreign key of crm.lost.reason.category_id."""
        category = self.category_price.with_env(self.env)
        with self._assert_refused([category.name, "Archive them instead"]):
            category.unlink()
        self.assertTrue(category.exists())
        self.assertEqual(self.reason_plain.with_env(self.env).category_id, category)

    @users("clm_manager")
    def test_category_unlink_used_by_archived_reason_of_another_company(self):
        Category = self.env["crm.lost.reason.category"]
        category = Category.create({"name": "CLM Regulation"})
        reason = self.reason_company_2.sudo()
        reason.write({"category_id": category.id, "active": False})
        with self._assert_refused([category.name]):
            category.unlink()
        self.assertTrue(category.exists())
        self.assertEqual(reason.category_id, category)

    @users("clm_manager")
    def test_category_unlink_used_by_loss_record_only(self):
        """Loss records keep the category of their reason (a stored related);
        one that differs (data from before the category existed on the reason,
        written in SQL) still protects it."""
        Category = self.env["crm.lost.reason.category"]
        category = Category.create({"name": "CLM Former category"})
        self._lose(self.opportunity, self.reason_note, feedback="<p>gone</p>")
        loss = self._losses(self.opportunity)
        self.env.flush_all()
        self.env.cr.execute(
            "UPDATE crm_lead_loss SET category_id = %s WHERE id = %s",
            (category.id, loss.id),
        )
        self.env.invalidate_all()
        self.assertFalse(category.reason_ids)
        with self._assert_refused([category.name]):
            category.unlink()
        self.assertTrue(category.exists())
        self.assertEqual(loss.category_id, category)

    @users("clm_manager")
    def test_category_unlink_names_only_used_ones(self):
        Category = self.env["crm.lost.reason.category"]
        unused = Category.create({"name": "CLM Typo category"})
        used = self.category_price.with_env(self.env)
        with self._assert_refused([used.name]) as catcher:
            (used | unused).unlink()
        self.assertNotIn(unused.name, catcher.exception.args[0])
        self.assertEqual((used | unused).exists(), used | unused)
        unused.unlink()
        self.assertFalse(unused.exists())

    @users("clm_manager")
    def test_category_archive_instead(self):
        """The way out the message gives: the reasons keep their category."""
        category = self.category_price.with_env(self.env)
        category.action_archive()
        self.assertFalse(category.active)
        self.assertEqual(self.reason_plain.with_env(self.env).category_id, category)

    # ------------------------------------------------------------
    # Competitor names: a database constraint
    # ------------------------------------------------------------

    def _assert_duplicate(self, values=None, competitor=None):
        """Creating ``values`` (or writing them on ``competitor``) violates
        the name constraint; nothing is written."""
        Competitor = self.env["crm.lost.competitor"]
        with (
            self.assertRaises(IntegrityError) as catcher,
            mute_logger("odoo.sql_db"),
        ):
            if competitor:
                competitor.write(values)
            else:
                Competitor.create(values)
            self.env.flush_all()
        self.assertEqual(
            catcher.exception.diag.constraint_name,
            "crm_lost_competitor_name_company_uniq",
        )
        return catcher.exception

    @users("clm_sales_own")
    def test_competitor_name_unique(self):
        """The quick "create" of the lost dialog must not multiply a
        competitor: same name whatever the case, archived ones included."""
        Competitor = self.env["crm.lost.competitor"].with_context(active_test=False)
        name = self.competitor.name
        for duplicate in (name, name.upper(), name.lower()):
            self._assert_duplicate({"name": duplicate})
        self.competitor.sudo().action_archive()
        self._assert_duplicate({"name": name})
        self.assertEqual(Competitor.search([("name", "=ilike", name)]), self.competitor)

        # renaming into an existing name is refused as well
        other = Competitor.create({"name": "CLM Other Rival"})
        self._assert_duplicate({"name": name.upper()}, competitor=other)
        self.assertEqual(other.name, "CLM Other Rival")
        # only equal names clash (no pattern matching as with =ilike)
        Competitor.create({"name": "CLM Rival_Inc"})
        Competitor.create({"name": "CLM Rival Inc."})

    def test_competitor_name_unique_per_company(self):
        """Per company: two companies may have their own "CLM Local Rival".
        A company's own competitor may also carry the name of a competitor
        shared by all companies (no company), e.g. a local branch; the
        constraint compares a missing company as one more company."""
        Competitor = self.env["crm.lost.competitor"]
        local = Competitor.create(
            {"name": "CLM Local Rival", "company_id": self.company.id}
        )
        self._assert_duplicate(
            {"name": "clm local rival", "company_id": self.company.id}
        )
        other = Competitor.create(
            {"name": "CLM Local Rival", "company_id": self.company_2.id}
        )
        shared = Competitor.create({"name": "CLM Local Rival"})
        self.assertEqual(
            (local | other | shared).mapped("company_id"), self.company | self.company_2
        )
        self._assert_duplicate({"name": "CLM LOCAL RIVAL"})
        # moving a competitor into a company that has its name already
        self._assert_duplicate({"company_id": self.company.id}, competitor=other)
        self.assertEqual(other.company_id, self.company_2)
        self.env.flush_all()

    def test_competitor_name_unique_message(self):
        """What the user reads: RPC and the web client turn the violation into
        the constraint's message (odoo.service.model), in the user's
        language."""
        exception = self._assert_duplicate({"name": self.competitor.name})
        error = _as_validation_error(self.env, exception)
        self.assertIsInstance(error, ValidationError)
        self.assertIn("This competitor already exists", error.args[0])
        self.assertIn("Use the existing one", error.args[0])

        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"]._load_module_terms(
            ["crm_lost_management"], ["zh_CN"], overwrite=True
        )
        error = _as_validation_error(self.env(context={"lang": "zh_CN"}), exception)
        self.assertIn("该竞争对手已存在", error.args[0])

    # ------------------------------------------------------------
    # Lost revenue in the company currency
    # ------------------------------------------------------------

    def _setup_second_currency(self):
        """company_2 works in a second currency. Rates of both companies, from
        yesterday: 1 unit of the main currency = 0.8 unit of the other one."""
        main_currency = self.company.currency_id
        other_currency = self.env.ref("base.EUR")
        if other_currency == main_currency:
            other_currency = self.env.ref("base.USD")
        other_currency.active = True
        self.company_2.currency_id = other_currency
        yesterday = fields.Date.today() - timedelta(days=1)
        self.env["res.currency.rate"].create(
            [
                {
                    "name": yesterday,
                    "currency_id": currency.id,
                    "company_id": company.id,
                    "rate": rate,
                }
                for company, currency, rate in (
                    (self.company, main_currency, 1.0),
                    (self.company, other_currency, 0.8),
                    (self.company_2, main_currency, 1.25),
                    (self.company_2, other_currency, 1.0),
                )
            ]
        )
        return main_currency, other_currency

    def test_lost_revenue_in_company_currency(self):
        main_currency, other_currency = self._setup_second_currency()
        lead_c2 = self._lead_c2()
        self._lose(
            self.opportunity | lead_c2,
            self.reason_competitor,
            competitor=self.competitor,
        )
        self._lose(self.opportunity_2, self.reason_plain, competitor=self.competitor)
        loss_c2 = self._losses(lead_c2)
        self.assertEqual(loss_c2.currency_id, other_currency)
        self.assertEqual(loss_c2.expected_revenue, 1000.0)
        self.assertEqual(self._losses(self.opportunity).currency_id, main_currency)

        # main company: 1000 + 500 + 1000 / 0.8
        competitor, reasons = (
            self.competitor,
            self.reason_competitor | self.reason_plain,
        )
        competitor.invalidate_recordset()
        reasons.invalidate_recordset()
        self.assertEqual(competitor.currency_id, main_currency)
        self.assertEqual(competitor.loss_count, 3)
        self.assertAlmostEqual(competitor.lost_revenue, 2750.0)
        self.assertEqual(reasons.currency_id, main_currency)
        self.assertEqual(reasons.mapped("loss_count"), [2, 1])
        self.assertAlmostEqual(self.reason_competitor.lost_revenue, 2250.0)
        self.assertAlmostEqual(self.reason_plain.lost_revenue, 500.0)
        # the recovery figures still add up over both currencies
        self._restore(lead_c2)
        self.reason_competitor.invalidate_recordset()
        self.assertEqual(self.reason_competitor.recovered_count, 1)
        self.assertEqual(self.reason_competitor.recovery_rate, 50.0)
        self.assertAlmostEqual(self.reason_competitor.lost_revenue, 2250.0)

        # company_2 reads them in its own currency: 1000 + (1000 + 500) / 1.25
        competitor_c2 = competitor.with_company(self.company_2)
        reason_c2 = self.reason_competitor.with_company(self.company_2)
        self.assertEqual(competitor_c2.currency_id, other_currency)
        self.assertAlmostEqual(competitor_c2.lost_revenue, 2200.0)
        self.assertEqual(reason_c2.currency_id, other_currency)
        self.assertAlmostEqual(reason_c2.lost_revenue, 1800.0)

    def test_lost_revenue_query_count(self):
        """One read_group per compute, whatever the number of records and
        currencies: no query per record."""
        self._setup_second_currency()
        competitors = self.competitor | self.env["crm.lost.competitor"].create(
            [{"name": f"CLM Rival {index}"} for index in range(5)]
        )
        leads = self._lead_c2() | self._lead_c2(name="CLM Opportunity Carla 2")
        for lead, competitor in zip(leads, competitors, strict=False):
            self._lose(lead, self.reason_competitor, competitor=competitor)
        self._lose(
            self.opportunity | self.opportunity_2,
            self.reason_plain,
            competitor=competitors[2],
        )
        reasons = (
            self.reason_plain
            | self.reason_note
            | self.reason_competitor
            | self.reason_lead_only
            | self.reason_archived
        )
        # warm up: company, currencies and their rates
        competitors.mapped("lost_revenue")
        reasons.mapped("lost_revenue")
        self.assertEqual(competitors[:3].mapped("loss_count"), [1, 1, 2])
        competitors.invalidate_model()
        reasons.invalidate_model()
        with self.assertQueryCount(1):
            competitors.mapped("lost_revenue")
        with self.assertQueryCount(1):
            reasons.mapped("lost_revenue")
        self.assertAlmostEqual(sum(competitors.mapped("lost_revenue")), 4000.0)
        self.assertAlmostEqual(sum(reasons.mapped("lost_revenue")), 4000.0)
