# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo.tests import Form, tagged, users

from .common import CrmLostCommon


@tagged("post_install", "-at_install")
class TestWonStageDialog(CrmLostCommon):
    """``crm.lead.crm_won_stage_dialog``: what the pipeline's drag and drop
    and the form's stage bar ask before moving a lead to a stage, and the
    Mark as Won dialog it opens (static/src/views/crm_won_stage.js)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.crm_won_reason_required = True
        Stage = cls.env["crm.stage"]
        cls.stage_won = Stage.create(
            {"name": "CLM Won", "sequence": 50, "is_won": True}
        )
        cls.stage_won_2 = Stage.create(
            {"name": "CLM Won Again", "sequence": 51, "is_won": True}
        )
        cls.won_reason = cls.env["crm.won.reason"].create({"name": "CLM Better price"})

    def _wins(self, leads):
        return self.env["crm.lead.win"].sudo().search([("lead_id", "in", leads.ids)])

    @users("clm_sales_own")
    def test_won_stage_opens_dialog(self):
        """A salesperson moving her opportunity to a won stage gets the Mark
        as Won dialog for that lead and that stage; nothing is written."""
        opportunity = self.opportunity.with_user(self.env.user)
        action = opportunity.crm_won_stage_dialog(self.stage_won.id)
        self.assertEqual(action["res_model"], "crm.lead.won")
        self.assertEqual(action["target"], "new")
        self.assertEqual(action["context"]["default_lead_ids"], opportunity.ids)
        self.assertEqual(action["context"]["default_stage_id"], self.stage_won.id)
        self.assertEqual(opportunity.stage_id, self.stage_qualified)
        self.assertFalse(self._wins(opportunity))

    def test_no_dialog(self):
        """Stock's move (False) when the move wins nothing or no reason is
        required."""
        opportunity = self.opportunity
        self.assertFalse(opportunity.crm_won_stage_dialog(self.stage_new.id))
        self.assertFalse(opportunity.crm_won_stage_dialog(0), "no stage")
        self.assertFalse(opportunity.browse().crm_won_stage_dialog(self.stage_won.id))
        # a lost lead moved to a won stage stays lost: not won
        self._lose(self.opportunity_2, self.reason_plain)
        self.assertFalse(self.opportunity_2.crm_won_stage_dialog(self.stage_won.id))
        # from a won stage to another: won already
        won = self.env["crm.lead"].create(
            {
                "name": "CLM Won Opp",
                "type": "opportunity",
                "stage_id": self.stage_won.id,
                "won_reason_id": self.won_reason.id,
            }
        )
        self.assertFalse(won.crm_won_stage_dialog(self.stage_won_2.id))
        self.company.crm_won_reason_required = False
        self.assertFalse(opportunity.crm_won_stage_dialog(self.stage_won.id))

    def test_dialog_for_the_winning_leads_only(self):
        won = self.env["crm.lead"].create(
            {
                "name": "CLM Won Opp",
                "type": "opportunity",
                "stage_id": self.stage_won.id,
            }
        )
        leads = self.opportunity | won
        action = leads.crm_won_stage_dialog(self.stage_won_2.id)
        self.assertEqual(action["context"]["default_lead_ids"], self.opportunity.ids)

    @users("clm_sales_own")
    def test_dialog_moves_and_celebrates(self):
        """The dialog opened by the drag moves the lead to the stage with the
        reason, and returns the rainbow man as stock's pipeline shows it."""
        opportunity = self.opportunity.with_user(self.env.user)
        opportunity.expected_revenue = 987654321.0
        action = opportunity.crm_won_stage_dialog(self.stage_won.id)
        wizard_form = Form(
            self.env["crm.lead.won"].with_context(**action["context"]),
            view="crm_lost_management.crm_lead_won_view_form",
        )
        wizard_form.won_reason_id = self.won_reason
        result = wizard_form.save().action_won_reason_apply()
        self.assertEqual(opportunity.stage_id, self.stage_won)
        self.assertEqual(opportunity.won_reason_id, self.won_reason)
        self.assertEqual(self._wins(opportunity).stage_id, self.stage_won)
        self.assertEqual(result["type"], "ir.actions.act_window_close")
        self.assertEqual(result["effect"]["type"], "rainbow_man")
        self.assertTrue(result["effect"]["message"])
        self.assertEqual(
            result["effect"]["message"], opportunity.get_rainbowman_message()
        )

    def test_dialog_selection_no_rainbow_man(self):
        leads = self.opportunity | self.opportunity_2
        wizard = self.env["crm.lead.won"].create(
            {
                "lead_ids": [(6, 0, leads.ids)],
                "won_reason_id": self.won_reason.id,
                "stage_id": self.stage_won.id,
            }
        )
        self.assertEqual(
            wizard.action_won_reason_apply(), {"type": "ir.actions.act_window_close"}
        )
        self.assertEqual(leads.stage_id, self.stage_won)
