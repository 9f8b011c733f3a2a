# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from psycopg2 import IntegrityError

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged, users
from odoo.tools import mute_logger

from .common import CrmLostCommon

CATEGORY_XMLIDS = {
    "price": "Price",
    "competition": "Competition",
    "timing": "Timing",
    "budget": "Budget",
    "product_fit": "Product fit",
    "no_response": "No response",
    "not_qualified": "Not qualified",
    "other": "Other",
}


@tagged("post_install", "-at_install")
class TestLostReason(CrmLostCommon):
    """Configuration of lost reasons, categories and competitors."""

    def _stats(self, records):
        """Fresh (non-stored) statistics of ``records``."""
        records.invalidate_recordset()
        return records

    # ------------------------------------------------------------
    # Defaults and seeded data
    # ------------------------------------------------------------

    def test_defaults(self):
        reason = self.env["crm.lost.reason"].create({"name": "CLM Fresh reason"})
        self.assertTrue(reason.active)
        self.assertEqual(reason.applies_to, "both")
        self.assertEqual(reason.sequence, 10)
        self.assertFalse(reason.note_required)
        self.assertFalse(reason.competitor_required)
        self.assertFalse(reason.team_ids)
        self.assertFalse(reason.company_id)
        self.assertFalse(reason.category_id)
        self.assertEqual(reason.revisit_after_days, 0)
        self.assertEqual(reason.loss_count, 0)
        self.assertEqual(reason.lost_revenue, 0)
        self.assertEqual(reason.recovered_count, 0)
        self.assertEqual(reason.recovery_rate, 0)
        self.assertEqual(reason.currency_id, self.env.company.currency_id)

        category = self.env["crm.lost.reason.category"].create({"name": "CLM Misc"})
        self.assertTrue(category.active)
        self.assertEqual(category.sequence, 10)
        self.assertEqual(category.reason_count, 0)

    def test_order_by_sequence(self):
        Reason = self.env["crm.lost.reason"]
        last = Reason.create({"name": "CLM AAA last", "sequence": 99})
        first = Reason.create({"name": "CLM ZZZ first", "sequence": 1})
        middle = Reason.create({"name": "CLM MMM middle", "sequence": 50})
        found = Reason.search([("id", "in", (last | first | middle).ids)])
        self.assertEqual(found, first | middle | last)
        self.assertEqual(found.ids, [first.id, middle.id, last.id])

    def test_seeded_categories(self):
        categories = self.env["crm.lost.reason.category"]
        for key, name in CATEGORY_XMLIDS.items():
            category = self.env.ref(
                f"crm_lost_management.crm_lost_reason_category_{key}",
                raise_if_not_found=False,
            )
            self.assertTrue(category, f"category {key} must be seeded")
            self.assertTrue(category.active)
            self.assertEqual(category.with_context(lang="en_US").name, name)
            categories |= category
        self.assertEqual(len(categories), 8)
        # listed in the order of the dictionary above
        self.assertEqual(categories.sorted().ids, categories.ids)

    def test_seeded_reasons(self):
        def ref(xmlid):
            return self.env.ref(xmlid)

        def category(key):
            return ref(f"crm_lost_management.crm_lost_reason_category_{key}")

        # the stock reasons are kept (still active) and get a category
        for xmlid, key in (
            ("crm.lost_reason_1", "price"),
            ("crm.lost_reason_2", "product_fit"),
            ("crm.lost_reason_3", "product_fit"),
        ):
            reason = ref(xmlid)
            self.assertTrue(reason.active, f"{xmlid} is kept")
            self.assertEqual(reason.category_id, category(key), xmlid)
            self.assertEqual(reason.applies_to, "both")

        competitor = ref("crm_lost_management.crm_lost_reason_competitor")
        self.assertTrue(competitor.competitor_required)
        self.assertEqual(competitor.revisit_after_days, 180)
        self.assertEqual(competitor.category_id, category("competition"))
        self.assertTrue(
            ref("crm_lost_management.crm_lost_reason_missing_features").note_required
        )
        self.assertTrue(ref("crm_lost_management.crm_lost_reason_other").note_required)
        for xmlid in ("not_qualified", "duplicate"):
            reason = ref(f"crm_lost_management.crm_lost_reason_{xmlid}")
            self.assertEqual(reason.applies_to, "lead", xmlid)
        for xmlid in ("postponed", "no_budget", "no_response"):
            reason = ref(f"crm_lost_management.crm_lost_reason_{xmlid}")
            self.assertTrue(reason.category_id, xmlid)
            self.assertGreater(reason.revisit_after_days, 0, xmlid)

    # ------------------------------------------------------------
    # Statistics
    # ------------------------------------------------------------

    def test_statistics(self):
        reason = self.reason_plain
        self._lose(self.opportunity | self.opportunity_2, reason)
        self._lose(self.lead, self.reason_note, feedback="<p>other reason</p>")
        self._stats(reason)
        self.assertEqual(reason.loss_count, 2)
        self.assertEqual(reason.lost_revenue, 1500.0)
        self.assertEqual(reason.recovered_count, 0)
        self.assertEqual(reason.recovery_rate, 0.0)
        self.assertEqual(reason.currency_id, self.company.currency_id)

        # restoring one: the loss stays in history, and is counted recovered
        self._restore(self.opportunity)
        self._stats(reason)
        self.assertEqual(reason.loss_count, 2)
        self.assertEqual(reason.recovered_count, 1)
        self.assertEqual(reason.recovery_rate, 50.0)

        # lost again for the same reason: a second loss of that lead
        self._lose(self.opportunity, reason)
        self._stats(reason)
        self.assertEqual(reason.loss_count, 3)
        self.assertEqual(reason.lost_revenue, 2500.0)
        self.assertEqual(reason.recovered_count, 1)
        self.assertAlmostEqual(reason.recovery_rate, 33.3, places=1)

        # restored and won: won back counts as recovered too
        self._restore(self.opportunity_2)
        self.opportunity_2.action_set_won()
        self.assertEqual(self._losses(self.opportunity_2).state, "won_back")
        self._stats(reason)
        self.assertEqual(reason.loss_count, 3)
        self.assertEqual(reason.recovered_count, 2)
        self.assertAlmostEqual(reason.recovery_rate, 66.7, places=1)

        # the other reason keeps its own figures
        self._stats(self.reason_note)
        self.assertEqual(self.reason_note.loss_count, 1)
        self.assertEqual(self.reason_note.lost_revenue, 0.0)
        self.assertEqual(self.reason_note.recovered_count, 0)

        # computed for many reasons at once
        both = self._stats(
            self.reason_plain | self.reason_note | self.reason_competitor
        )
        self.assertEqual(both.mapped("loss_count"), [3, 1, 0])

    def test_action_open_losses(self):
        self._lose(self.opportunity | self.opportunity_2, self.reason_plain)
        self._lose(self.lead, self.reason_lead_only)
        action = self.reason_plain.action_open_losses()
        self.assertEqual(action["res_model"], "crm.lead.loss")
        self.assertEqual(
            action["domain"], [("lost_reason_id", "in", self.reason_plain.ids)]
        )
        self.assertIn(self.reason_plain.name, action["name"])
        self.assertFalse(action["context"].get("create", True))
        losses = self.env["crm.lead.loss"].search(action["domain"])
        self.assertEqual(losses, self._losses(self.opportunity | self.opportunity_2))

        action = (self.reason_plain | self.reason_lead_only).action_open_losses()
        losses = self.env["crm.lead.loss"].search(action["domain"])
        self.assertEqual(len(losses), 3)

    # ------------------------------------------------------------
    # Deletion and archiving
    # ------------------------------------------------------------

    @users("clm_manager")
    def test_unlink_used_by_lost_lead(self):
        self._lose(self.opportunity, self.reason_plain)
        reason = self.reason_plain.with_env(self.env)
        with self.assertRaises(UserError) as caught:
            reason.unlink()
        message = caught.exception.args[0]
        self.assertIn(reason.name, message)
        self.assertIn("Archive", message)
        self.assertTrue(reason.exists())

    @users("clm_manager")
    def test_unlink_used_by_loss_record_only(self):
        """A restored lead no longer carries the reason, its loss record does."""
        self._lose(self.opportunity, self.reason_plain)
        self._restore(self.opportunity)
        self.assertFalse(self.opportunity.lost_reason_id)
        self.assertEqual(
            self._losses(self.opportunity).lost_reason_id, self.reason_plain
        )
        reason = self.reason_plain.with_env(self.env)
        with self.assertRaises(UserError) as caught:
            reason.unlink()
        self.assertIn(reason.name, caught.exception.args[0])
        self.assertTrue(reason.exists())

    @users("clm_manager")
    def test_unlink_used_by_open_lead(self):
        """A reason set on an open lead (e.g. imported) blocks deletion too."""
        self.opportunity.with_env(self.env).lost_reason_id = self.reason_plain
        reason = self.reason_plain.with_env(self.env)
        with self.assertRaises(UserError) as caught:
            reason.unlink()
        self.assertIn(reason.name, caught.exception.args[0])
        self.assertTrue(reason.exists())

    @users("clm_manager")
    def test_unlink_used_by_lead_of_another_company(self):
        """Leads lost before the module was installed hold a reason without any
        loss record; the manager deleting the reason may not see them."""
        self.env["crm.lead"].sudo().create(
            {
                "name": "CLM Co2 old lost lead",
                "type": "opportunity",
                "company_id": self.company_2.id,
                "team_id": self.team_c2.id,
                "user_id": self.user_company_2.id,
                "active": False,
                "lost_reason_id": self.reason_plain.id,
            }
        )
        reason = self.reason_plain.with_env(self.env)
        # Regression: _unlink_except_used (crm_lost_reason.py) read crm.lead with
        # the user's record rules; leads of a company the user is not in are
        # missed, and the deletion fails on the database foreign key
        # (IntegrityError) instead of the clear UserError.
        with self.assertRaises(UserError) as caught, mute_logger("odoo.sql_db"):
            reason.unlink()
        self.assertIn(reason.name, caught.exception.args[0])
        self.assertTrue(reason.exists())

    @users("clm_manager")
    def test_unlink_names_only_used_reasons(self):
        self._lose(self.opportunity, self.reason_plain)
        reasons = (self.reason_plain | self.reason_lead_only).with_env(self.env)
        with self.assertRaises(UserError) as caught:
            reasons.unlink()
        message = caught.exception.args[0]
        self.assertIn(self.reason_plain.name, message)
        self.assertNotIn(self.reason_lead_only.name, message)
        self.assertEqual(reasons.exists(), reasons)

    @users("clm_manager")
    def test_unlink_unused(self):
        reason = self.env["crm.lost.reason"].create({"name": "CLM Never used"})
        unused = reason | self.reason_lead_only.with_env(self.env)
        unused.unlink()
        self.assertFalse(unused.exists())

    @users("clm_manager")
    def test_archive_used_reason(self):
        self._lose(self.opportunity, self.reason_plain, feedback="<p>first</p>")
        reason = self.reason_plain.with_env(self.env)
        reason.action_archive()
        self.assertFalse(reason.active)
        opportunity = self.opportunity.with_env(self.env)
        self.assertEqual(opportunity.lost_reason_id, reason)
        self.assertEqual(self._losses(opportunity).lost_reason_id, reason)
        # archived reasons are not offered any more
        self.assertNotIn(
            reason,
            self.env["crm.lost.reason"].search([("id", "in", reason.ids)]),
        )
        self.assertNotIn(
            reason,
            self.env["crm.lead.lost"]
            .create({"lead_ids": [(6, 0, self.opportunity_2.ids)]})
            .available_reason_ids,
        )

    @users("clm_manager")
    def test_archive_used_reason_keeps_lost_leads_editable(self):
        """Archiving is the documented alternative to deleting a used reason:
        leads already lost with it must keep working."""
        self._lose(self.opportunity, self.reason_plain, feedback="<p>first</p>")
        self.reason_plain.with_env(self.env).action_archive()
        opportunity = self.opportunity.with_env(self.env)
        # Regression: _check_lost_reason_policy (crm_lead.py) re-checked the whole
        # policy (including "reason is archived") whenever lost_feedback or
        # lost_competitor_id change on a lost lead, so the closing note of
        # every lead lost with a since-archived reason can no longer be edited.
        opportunity.lost_feedback = "<p>more details</p>"
        opportunity.lost_competitor_id = self.competitor
        self.assertEqual(opportunity.lost_note, "more details")
        self.assertEqual(self._losses(opportunity).closing_note_text, "more details")
        # and it can still be restored
        self._restore(opportunity)
        self.assertTrue(opportunity.active)

    # ------------------------------------------------------------
    # Constraints
    # ------------------------------------------------------------

    def test_team_company_coherence(self):
        Reason = self.env["crm.lost.reason"]
        with self.assertRaises(ValidationError) as caught:
            Reason.create(
                {
                    "name": "CLM Incoherent",
                    "company_id": self.company_2.id,
                    "team_ids": [(6, 0, self.team_1.ids)],
                }
            )
        message = caught.exception.args[0]
        self.assertIn("CLM Incoherent", message)
        self.assertIn(self.company_2.name, message)
        self.assertIn(self.team_1.name, message)
        self.assertIn("Remove these teams or change the company", message)
        self.assertFalse(Reason.search([("name", "=", "CLM Incoherent")]))

        # changing the company of a team-limited reason
        with self.assertRaises(ValidationError):
            self.reason_team_1.company_id = self.company_2
        self.assertFalse(self.reason_team_1.company_id)
        # adding a foreign team to a company reason
        with self.assertRaises(ValidationError) as caught:
            self.reason_company_2.team_ids = self.team_1 | self.team_c2
        self.assertIn(self.team_1.name, caught.exception.args[0])
        self.assertNotIn(self.team_c2.name, caught.exception.args[0])
        self.assertFalse(self.reason_company_2.team_ids)

        # coherent combinations are fine
        self.reason_team_1.company_id = self.company
        self.reason_company_2.team_ids = self.team_c2
        no_company = Reason.create(
            {
                "name": "CLM Any company",
                "team_ids": [(6, 0, (self.team_1 | self.team_c2).ids)],
            }
        )
        self.assertEqual(no_company.team_ids, self.team_1 | self.team_c2)

    def test_negative_revisit_delay(self):
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            self.env["crm.lost.reason"].create(
                {"name": "CLM Time travel", "revisit_after_days": -1}
            )
            self.env.flush_all()
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"):
            self.reason_plain.revisit_after_days = -30
            self.env.flush_all()
        self.reason_plain.revisit_after_days = 0
        self.reason_plain.revisit_after_days = 30
        self.env.flush_all()
        self.assertEqual(self.reason_plain.revisit_after_days, 30)

    # ------------------------------------------------------------
    # Categories and competitors
    # ------------------------------------------------------------

    def test_category_reason_count(self):
        Reason = self.env["crm.lost.reason"]
        categories = self.category_price | self.category_competition
        self._stats(categories)
        self.assertEqual(categories.mapped("reason_count"), [1, 1])
        Reason.create(
            {"name": "CLM Cheaper abroad", "category_id": self.category_price.id}
        )
        self._stats(categories)
        self.assertEqual(self.category_price.reason_count, 2)
        self.assertEqual(
            self.category_price.reason_ids.mapped("name"),
            [
                "CLM Cheaper abroad",
                "CLM Too expensive",
            ],
        )
        self.reason_competitor.category_id = self.category_price
        self._stats(categories)
        self.assertEqual(categories.mapped("reason_count"), [3, 0])
        # archived reasons are not counted, like they are not listed
        self.reason_plain.action_archive()
        self._stats(categories)
        self.assertEqual(self.category_price.reason_count, 2)
        self.assertEqual(len(self.category_price.reason_ids), 2)
        # seeded categories count the seeded reasons
        other = self.env.ref("crm_lost_management.crm_lost_reason_category_other")
        self.assertGreaterEqual(other.reason_count, 2)

    def test_competitor_statistics(self):
        other = self.env["crm.lost.competitor"].create({"name": "CLM Other Rival"})
        self._lose(self.opportunity, self.reason_competitor, competitor=self.competitor)
        self._stats(self.competitor | other)
        self.assertEqual(self.competitor.loss_count, 1)
        self.assertEqual(self.competitor.lost_revenue, 1000.0)
        self.assertEqual(other.loss_count, 0)
        self.assertEqual(other.lost_revenue, 0.0)

        self._lose(self.opportunity_2, self.reason_plain, competitor=self.competitor)
        self._lose(self.lead, self.reason_competitor, competitor=other)
        self._stats(self.competitor | other)
        self.assertEqual(self.competitor.loss_count, 2)
        self.assertEqual(self.competitor.lost_revenue, 1500.0)
        self.assertEqual(self.competitor.currency_id, self.company.currency_id)
        self.assertEqual(other.loss_count, 1)

        action = self.competitor.action_open_losses()
        self.assertEqual(action["res_model"], "crm.lead.loss")
        self.assertEqual(
            self.env["crm.lead.loss"].search(action["domain"]),
            self._losses(self.opportunity | self.opportunity_2),
        )

    # ------------------------------------------------------------
    # Multi-company
    # ------------------------------------------------------------

    def test_company_rule(self):
        reason_company_1 = self.env["crm.lost.reason"].create(
            {"name": "CLM Company 1 only", "company_id": self.company.id}
        )
        ids = (self.reason_plain | self.reason_company_2 | reason_company_1).ids

        Reason_c1 = self.env["crm.lost.reason"].with_user(self.user_sales_own)
        self.assertEqual(
            sorted(Reason_c1.search([("id", "in", ids)]).ids),
            sorted((self.reason_plain | reason_company_1).ids),
        )
        self.reason_plain.with_user(self.user_sales_own).read(["name"])
        with self.assertRaises(AccessError):
            self.reason_company_2.with_user(self.user_sales_own).read(["name"])

        Reason_c2 = self.env["crm.lost.reason"].with_user(self.user_company_2)
        self.assertEqual(
            sorted(Reason_c2.search([("id", "in", ids)]).ids),
            sorted((self.reason_plain | self.reason_company_2).ids),
        )
        self.reason_plain.with_user(self.user_company_2).read(["name"])
        self.reason_company_2.with_user(self.user_company_2).read(["name"])
        with self.assertRaises(AccessError):
            reason_company_1.with_user(self.user_company_2).read(["name"])

    def test_inapplicable_leads(self):
        """The single source of truth used by the wizard and the lead checks."""
        leads = self.opportunity | self.opportunity_2 | self.lead
        self.assertEqual(self.reason_plain._get_inapplicable_leads(leads), [])
        problems = self.reason_lead_only._get_inapplicable_leads(leads)
        self.assertEqual(len(problems), 1)
        self.assertEqual(problems[0][0], self.opportunity | self.opportunity_2)
        problems = self.reason_team_1._get_inapplicable_leads(leads)
        self.assertEqual(problems[0][0], self.opportunity_2)
        self.assertIn(self.team_1.name, problems[0][1])
        problems = self.reason_company_2._get_inapplicable_leads(leads)
        self.assertEqual(problems[0][0], leads)
        self.assertIn(self.company_2.name, problems[0][1])
