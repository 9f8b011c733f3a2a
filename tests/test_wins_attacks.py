# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Regressions found by the adversarial round on wins and competition (each
test names the attack; all failed before their fix)."""

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged, users

from .test_wins import WinsCommon


@tagged("post_install", "-at_install")
class TestWinAttacks(WinsCommon):
    def test_archived_competitor_leaves_with_the_win(self):
        """A competitor beaten, archived since, goes when the deal is
        reopened: no win data stays on a lead that is not won."""
        lead = self._opportunity("CLM Archived rival")
        self._won_wizard(lead, won_competitor_ids=[Command.set(self.competitor.ids)])
        self.competitor.action_archive()
        lead.write({"stage_id": self.stage_qualified.id})
        self.env.cr.execute(
            "SELECT count(*) FROM crm_lead_won_competitor_rel WHERE lead_id = %s",
            [lead.id],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self._assert_invariants()

    def test_win_keeps_an_archived_competitor_it_was_won_against(self):
        lead = self._opportunity("CLM Archived rival kept")
        self._won_wizard(lead, won_competitor_ids=[Command.set(self.competitor.ids)])
        self.competitor.action_archive()
        self.env.invalidate_all()
        self.assertEqual(lead.won_competitor_ids, self.competitor)
        self.assertEqual(self._open_win(lead).competitor_ids, self.competitor)

    def test_archived_or_unknown_competitor_refused_on_a_won_lead(self):
        lead = self._opportunity("CLM Rival refused")
        self._won_wizard(lead)
        self.competitor_2.action_archive()
        with self.assertRaisesRegex(ValidationError, "archived"):
            lead.write({"won_competitor_ids": [Command.link(self.competitor_2.id)]})
        with self.assertRaisesRegex(ValidationError, "does not exist"):
            lead.write({"won_competitor_ids": [Command.link(999999)]})

    def test_competitor_line_cannot_move_to_another_lead(self):
        lead = self._opportunity("CLM Line owner")
        other = self._opportunity("CLM Line target")
        line = self.env["crm.lead.competitor"].create(
            {"lead_id": lead.id, "competitor_id": self.competitor.id}
        )
        with self.assertRaisesRegex(UserError, "cannot be moved"):
            line.write({"lead_id": other.id})
        self.assertEqual(line.lead_id, lead)

    @users("clm_sales_own")
    def test_web_client_cannot_remove_a_required_reason(self):
        lead = self._opportunity("CLM Keep reason")
        self._won_wizard(lead, won_reason_id=self.won_price.id)
        self._require_won_reason()
        with self.assertRaisesRegex(UserError, "cannot be removed"):
            lead.web_save({"won_reason_id": False}, {})
        self.assertEqual(lead.won_reason_id, self.won_price)
        # another reason is fine
        lead.web_save({"won_reason_id": self.won_fit.id}, {})
        self.assertEqual(self._open_win(lead).won_reason_id, self.won_fit)

    def test_dialog_with_empty_fields_keeps_a_won_lead_data(self):
        lead = self._opportunity("CLM Already won")
        self._won_wizard(
            lead,
            won_reason_id=self.won_price.id,
            won_note="<p>Best offer</p>",
            won_competitor_ids=[Command.set(self.competitor.ids)],
        )
        self._won_wizard(lead)
        self.env.invalidate_all()
        self._assert_won(
            lead,
            reason=self.won_price,
            note="<p>Best offer</p>",
            competitors=self.competitor,
        )

    @users("clm_sales_own")
    def test_dialog_refuses_a_competitor_of_another_company(self):
        """The user cannot read it: it must fail, not drop out silently."""
        lead = self._opportunity("CLM Foreign rival")
        with self.assertRaisesRegex(UserError, self.competitor_c2.name):
            self._won_wizard(
                lead, won_competitor_ids=[Command.set(self.competitor_c2.ids)]
            )
        self.assertFalse(self._wins(lead))
