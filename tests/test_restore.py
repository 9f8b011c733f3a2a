# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from .common import CrmLostCommon

LOSS_FIELDS = ["state", "restored_date", "restored_by_id", "restore_note"]


@tagged("post_install", "-at_install")
class TestRestoreWizard(CrmLostCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.stage_proposal = cls.env["crm.stage"].create(
            {"name": "CLM Proposal", "sequence": 3}
        )
        cls.opportunity_3 = cls.env["crm.lead"].create(
            {
                "name": "CLM Opportunity Sally 2",
                "type": "opportunity",
                "user_id": cls.user_sales_own.id,
                "team_id": cls.team_1.id,
                "stage_id": cls.stage_new.id,
            }
        )

    def _list_action_form(self, leads):
        """Open the wizard the way the list view's Actions > Restore does:
        the action's own context evaluated with the selected ids."""
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_lost_management.crm_lead_action_restore"
        )
        self.assertEqual(action["res_model"], "crm.lead.restore")
        eval_context = {
            "active_ids": leads.ids,
            "active_id": leads[:1].id,
            "active_model": "crm.lead",
            "uid": self.env.uid,
        }
        context = safe_eval(action["context"], eval_context)
        return Form(
            self.env["crm.lead.restore"].with_context(
                context, active_ids=leads.ids, active_model="crm.lead"
            )
        )

    def _button_form(self, lead, user=None):
        """Open the wizard the way the lead form's Restore button does."""
        if user:
            lead = lead.with_user(user)
        action = lead.action_open_restore_wizard()
        self.assertEqual(action["res_model"], "crm.lead.restore")
        return Form(lead.env[action["res_model"]].with_context(**action["context"]))

    def _snapshot(self, leads):
        """What restoring would change: lead activity and stage, loss states."""
        leads.invalidate_recordset()
        losses = self._losses(leads)
        losses.invalidate_recordset()
        return (
            leads.with_context(active_test=False).read(["active", "stage_id"]),
            losses.read(LOSS_FIELDS),
        )

    # ------------------------------------------------------------
    # Restoring
    # ------------------------------------------------------------

    def test_restore_one_from_button(self):
        self._lose(self.opportunity, self.reason_plain, feedback="<p>Too dear</p>")
        loss = self._losses(self.opportunity)
        wizard = self._button_form(self.opportunity)
        self.assertEqual(wizard.lead_ids[:], self.opportunity)
        self.assertFalse(wizard.stage_id)
        wizard.restore_note = "The budget got approved"
        wizard.save().action_restore()
        self.assertTrue(self.opportunity.active)
        self.assertRecordValues(
            loss,
            [
                {
                    "state": "recovered",
                    "restore_note": "The budget got approved",
                    "restored_by_id": self.env.user.id,
                    "closing_note_text": "Too dear",
                }
            ],
        )
        self.assertEqual(self.opportunity.stage_id, self.stage_qualified)
        self.assertFalse(self.opportunity.lost_reason_id)
        self.assertFalse(self.opportunity.lost_feedback)

    def test_restore_many_from_list_action(self):
        leads = self.opportunity | self.opportunity_2 | self.opportunity_3
        self._lose(leads, self.reason_plain)
        losses = self._losses(leads)
        self.assertEqual(len(losses), 3)
        wizard = self._list_action_form(leads)
        self.assertEqual(wizard.lead_ids[:], leads)
        wizard.restore_note = "New budget year"
        wizard.stage_id = self.stage_proposal
        wizard.save().action_restore()
        self.assertTrue(all(leads.mapped("active")))
        self.assertEqual(leads.stage_id, self.stage_proposal, "stage applied to all")
        self.assertEqual(set(losses.mapped("state")), {"recovered"})
        self.assertEqual(set(losses.mapped("restore_note")), {"New budget year"})
        self.assertEqual(losses.restored_by_id, self.env.user)
        self.assertEqual(self._losses(leads), losses, "no loss record added")

    def test_restore_default_stage_is_stage_at_loss(self):
        leads = self.opportunity | self.opportunity_2
        self._lose(leads, self.reason_plain)
        losses = self._losses(leads)
        self.assertEqual(
            losses.mapped("stage_id"), self.stage_qualified | self.stage_new
        )
        # moved while lost (e.g. drag and drop in the lost kanban)
        leads.write({"stage_id": self.stage_proposal.id})
        self.assertEqual(leads.stage_id, self.stage_proposal)
        wizard = self._list_action_form(leads)
        self.assertFalse(wizard.stage_id)
        wizard.save().action_restore()
        self.assertEqual(self.opportunity.stage_id, self.stage_qualified)
        self.assertEqual(self.opportunity_2.stage_id, self.stage_new)
        self.assertEqual(
            losses.mapped("stage_id"), self.stage_qualified | self.stage_new
        )

    def test_restore_explicit_stage_overrides_stage_at_loss(self):
        self._lose(self.opportunity, self.reason_plain)
        wizard = self._button_form(self.opportunity)
        wizard.stage_id = self.stage_new
        wizard.save().action_restore()
        self.assertEqual(self.opportunity.stage_id, self.stage_new)

    # ------------------------------------------------------------
    # Refusals: clear error, nothing written
    # ------------------------------------------------------------

    def test_restore_not_lost_lead_refused(self):
        lost = self.opportunity | self.opportunity_2
        self._lose(lost, self.reason_plain)
        selection = lost | self.opportunity_3  # opportunity_3 is active
        before = self._snapshot(selection)
        wizard = self._list_action_form(selection)
        wizard.restore_note = "should not be written"
        wizard.stage_id = self.stage_proposal
        wizard = wizard.save()
        with self.assertRaises(UserError) as error:
            wizard.action_restore()
        message = str(error.exception)
        self.assertIn(f'"{self.opportunity_3.name}"', message)
        self.assertNotIn(f'"{self.opportunity.name}"', message)
        self.assertNotIn(f'"{self.opportunity_2.name}"', message)
        self.assertEqual(self._snapshot(selection), before, "nothing written")
        self.assertFalse(any(lost.mapped("active")))
        self.assertEqual(set(self._losses(lost).mapped("state")), {"lost"})

    def test_restore_empty_selection_refused(self):
        wizard = Form(
            self.env["crm.lead.restore"].with_context(
                active_ids=[], active_model="crm.lead", default_lead_ids=[]
            )
        ).save()
        with self.assertRaises(UserError):
            wizard.action_restore()

    # ------------------------------------------------------------
    # The bulk path users know: list, Actions > Unarchive
    # ------------------------------------------------------------

    def test_bulk_unarchive_recovers_losses(self):
        leads = self.opportunity | self.opportunity_2 | self.opportunity_3
        self._lose(leads, self.reason_plain)
        losses = self._losses(leads)
        leads.action_unarchive()
        self.assertTrue(all(leads.mapped("active")))
        self.assertEqual(set(losses.mapped("state")), {"recovered"})
        self.assertTrue(all(losses.mapped("restored_date")))
        self.assertFalse(leads.lost_reason_id)
        self.assertEqual(self._losses(leads), losses)

    # ------------------------------------------------------------
    # Access
    # ------------------------------------------------------------

    def test_restore_as_salesperson_own_lead(self):
        self._lose(self.opportunity, self.reason_plain)
        loss = self._losses(self.opportunity)
        self.env.invalidate_all()
        wizard = self._button_form(self.opportunity, user=self.user_sales_own)
        wizard.restore_note = "Sally got them back"
        wizard = wizard.save()
        self.env.invalidate_all()
        wizard.action_restore()
        self.env.invalidate_all()
        self.assertTrue(self.opportunity.active)
        self.assertRecordValues(
            loss,
            [
                {
                    "state": "recovered",
                    "restored_by_id": self.user_sales_own.id,
                    "restore_note": "Sally got them back",
                }
            ],
        )

    def test_restore_as_salesperson_foreign_lead_refused(self):
        """Sally (own documents only) selects her lost opportunity and Sam's.

        Each step starts from an empty cache, as each RPC call of the web
        client does: otherwise the records loaded by the superuser while
        preparing the test would be served from the shared transaction cache
        without any record rule check."""
        leads = self.opportunity | self.opportunity_2  # opportunity_2 is Sam's
        self._lose(leads, self.reason_plain)
        before = self._snapshot(leads)
        Restore = self.env["crm.lead.restore"].with_user(self.user_sales_own)
        self.env.invalidate_all()
        wizard = Restore.create({"lead_ids": [(6, 0, leads.ids)]})
        self.env.invalidate_all()
        # Regression: action_restore used to read self.lead_ids, a Many2many
        # whose read applies the record rules: Sam's lead was silently dropped
        # and Sally's own lead restored, without any error.
        with self.assertRaises(AccessError):
            wizard.action_restore()
        self.assertEqual(self._snapshot(leads), before, "nothing written")
        self.assertFalse(any(leads.with_context(active_test=False).mapped("active")))

    def test_restore_as_salesperson_foreign_lead_only_refused(self):
        self._lose(self.opportunity_2, self.reason_plain)  # Sam's
        before = self._snapshot(self.opportunity_2)
        Restore = self.env["crm.lead.restore"].with_user(self.user_sales_own)
        self.env.invalidate_all()
        wizard = Restore.create({"lead_ids": [(6, 0, self.opportunity_2.ids)]})
        self.env.invalidate_all()
        # Regression: same cause; the error used to be "Select at least one
        # lost lead", hiding the access problem.
        with self.assertRaises(AccessError):
            wizard.action_restore()
        self.assertEqual(self._snapshot(self.opportunity_2), before, "nothing written")
