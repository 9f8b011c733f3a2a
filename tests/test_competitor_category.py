# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import unittest
from contextlib import contextmanager

from odoo.exceptions import UserError
from odoo.tests import tagged, users

from .common import CrmLostCommon


@tagged("post_install", "-at_install")
class TestCompetitorCategory(CrmLostCommon):
    """Competitors and reason categories in use are kept."""

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
        lead = self._lead_c2(lost_competitor_id=self.competitor.id)
        lead.action_archive()
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
        self.opportunity.with_env(self.env).lost_competitor_id = used
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
