# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo.tests import TransactionCase

from odoo.addons.mail.tests.common import mail_new_test_user


class CrmLostCommon(TransactionCase):
    """Fixtures shared by the crm_lost_management tests.

    Two companies; in the main one two sales teams, a salesperson who sees
    only her own documents, one who sees all, a sales manager and a portal
    user; a set of lost reasons covering every policy."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.ref("base.main_company")
        cls.company.crm_lost_reason_required = True
        cls.company_2 = cls.env["res.company"].create({"name": "Lost Co. 2"})

        cls.user_sales_own = mail_new_test_user(
            cls.env,
            login="clm_sales_own",
            name="Sally Own",
            email="sally@example.com",
            company_id=cls.company.id,
            groups="sales_team.group_sale_salesman",
        )
        cls.user_sales_all = mail_new_test_user(
            cls.env,
            login="clm_sales_all",
            name="Sam All",
            email="sam@example.com",
            company_id=cls.company.id,
            groups="sales_team.group_sale_salesman_all_leads",
        )
        cls.user_manager = mail_new_test_user(
            cls.env,
            login="clm_manager",
            name="Martha Manager",
            email="martha@example.com",
            company_id=cls.company.id,
            groups="sales_team.group_sale_manager",
        )
        cls.user_portal = mail_new_test_user(
            cls.env,
            login="clm_portal",
            name="Paul Portal",
            email="paul@example.com",
            groups="base.group_portal",
        )
        cls.user_company_2 = mail_new_test_user(
            cls.env,
            login="clm_sales_c2",
            name="Carla Company Two",
            email="carla@example.com",
            company_id=cls.company_2.id,
            company_ids=[(6, 0, cls.company_2.ids)],
            groups="sales_team.group_sale_salesman_all_leads",
        )

        cls.team_1 = cls.env["crm.team"].create(
            {"name": "Lost Team East", "company_id": cls.company.id}
        )
        cls.team_2 = cls.env["crm.team"].create(
            {"name": "Lost Team West", "company_id": cls.company.id}
        )
        cls.team_c2 = cls.env["crm.team"].create(
            {"name": "Lost Team Co2", "company_id": cls.company_2.id}
        )
        cls.stage_new = cls.env["crm.stage"].create({"name": "CLM New", "sequence": 1})
        cls.stage_qualified = cls.env["crm.stage"].create(
            {"name": "CLM Qualified", "sequence": 2}
        )

        Category = cls.env["crm.lost.reason.category"]
        cls.category_price = Category.create({"name": "CLM Price"})
        cls.category_competition = Category.create({"name": "CLM Competition"})

        Reason = cls.env["crm.lost.reason"]
        cls.reason_plain = Reason.create(
            {"name": "CLM Too expensive", "category_id": cls.category_price.id}
        )
        cls.reason_note = Reason.create(
            {"name": "CLM Other (explain)", "note_required": True}
        )
        cls.reason_competitor = Reason.create(
            {
                "name": "CLM Chose a competitor",
                "category_id": cls.category_competition.id,
                "competitor_required": True,
                "revisit_after_days": 90,
            }
        )
        cls.reason_lead_only = Reason.create(
            {"name": "CLM Not qualified", "applies_to": "lead"}
        )
        cls.reason_opportunity_only = Reason.create(
            {"name": "CLM Lost the tender", "applies_to": "opportunity"}
        )
        cls.reason_team_1 = Reason.create(
            {"name": "CLM East only", "team_ids": [(6, 0, cls.team_1.ids)]}
        )
        cls.reason_company_2 = Reason.create(
            {"name": "CLM Company 2 only", "company_id": cls.company_2.id}
        )
        cls.reason_archived = Reason.create({"name": "CLM Old reason", "active": False})
        cls.competitor = cls.env["crm.lost.competitor"].create(
            {"name": "CLM Rival Inc"}
        )

        Lead = cls.env["crm.lead"]
        cls.opportunity = Lead.create(
            {
                "name": "CLM Opportunity Sally",
                "type": "opportunity",
                "user_id": cls.user_sales_own.id,
                "team_id": cls.team_1.id,
                "stage_id": cls.stage_qualified.id,
                "expected_revenue": 1000.0,
            }
        )
        cls.opportunity_2 = Lead.create(
            {
                "name": "CLM Opportunity Sam",
                "type": "opportunity",
                "user_id": cls.user_sales_all.id,
                "team_id": cls.team_2.id,
                "stage_id": cls.stage_new.id,
                "expected_revenue": 500.0,
            }
        )
        cls.lead = Lead.create(
            {
                "name": "CLM Lead Sally",
                "type": "lead",
                "user_id": cls.user_sales_own.id,
                "team_id": cls.team_1.id,
            }
        )

    # helpers

    def _lose(self, leads, reason=None, feedback=False, competitor=None, **values):
        """Mark ``leads`` lost through the wizard, as the UI does."""
        wizard = (
            self.env["crm.lead.lost"]
            .with_context(active_ids=leads.ids, active_model="crm.lead")
            .create(
                {
                    "lead_ids": [(6, 0, leads.ids)],
                    "lost_reason_id": reason.id if reason else False,
                    "lost_feedback": feedback,
                    "lost_competitor_id": competitor.id if competitor else False,
                    **values,
                }
            )
        )
        return wizard.action_lost_reason_apply()

    def _restore(self, leads, note=False, stage=None):
        wizard = self.env["crm.lead.restore"].create(
            {
                "lead_ids": [(6, 0, leads.ids)],
                "restore_note": note,
                "stage_id": stage.id if stage else False,
            }
        )
        return wizard.action_restore()

    def _losses(self, leads):
        return (
            self.env["crm.lead.loss"]
            .sudo()
            .search([("lead_id", "in", leads.ids)], order="id")
        )
