# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import api, fields, models, tools

LOSS_STATES = [
    ("lost", "Lost"),
    ("recovered", "Recovered"),
    ("won_back", "Won Back"),
]


class CrmLeadLoss(models.Model):
    """One record each time a lead or opportunity is lost.

    Loss records are written by the lead itself (see ``crm.lead.write``):
    they are the history that survives restores, and the base of the lost
    analysis. Users never create them directly."""

    _name = "crm.lead.loss"
    _description = "Lead Loss"
    _order = "lost_date desc, id desc"
    _rec_name = "lead_id"

    lead_id = fields.Many2one(
        "crm.lead",
        string="Lead/Opportunity",
        required=True,
        index=True,
        ondelete="cascade",
        context={"active_test": False},
    )
    lost_date = fields.Datetime(
        "Lost On", required=True, index=True, default=fields.Datetime.now
    )
    lost_by_id = fields.Many2one("res.users", string="Lost By")
    user_id = fields.Many2one("res.users", string="Salesperson", index=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", index=True)
    company_id = fields.Many2one("res.company", string="Company", index=True)
    partner_id = fields.Many2one("res.partner", string="Customer")
    stage_id = fields.Many2one("crm.stage", string="Stage at Loss")
    lead_type = fields.Selection(
        [("lead", "Lead"), ("opportunity", "Opportunity")],
        string="Type",
        required=True,
        default="opportunity",
    )
    lost_reason_id = fields.Many2one(
        "crm.lost.reason", string="Lost Reason", index=True, ondelete="restrict"
    )
    category_id = fields.Many2one(
        "crm.lost.reason.category",
        string="Reason Category",
        related="lost_reason_id.category_id",
        store=True,
        index=True,
    )
    closing_note = fields.Html(sanitize=True)
    closing_note_text = fields.Text(
        "Closing Note (Text)", compute="_compute_closing_note_text", store=True
    )
    competitor_id = fields.Many2one(
        "crm.lost.competitor", string="Competitor", index="btree_not_null"
    )
    expected_revenue = fields.Monetary(currency_field="currency_id")
    currency_id = fields.Many2one("res.currency", string="Currency")
    days_open = fields.Integer(
        aggregator="avg",
        help="Days between the creation of the lead and this loss.",
    )
    revisit_date = fields.Date(index="btree_not_null")
    state = fields.Selection(LOSS_STATES, default="lost", required=True, index=True)
    restored_date = fields.Datetime("Restored On")
    restored_by_id = fields.Many2one("res.users", string="Restored By")
    restore_note = fields.Text()

    _sql_constraints = [
        (
            "one_open_loss_per_lead",
            "EXCLUDE USING btree (lead_id WITH =) WHERE (state = 'lost')",
            "A lead can only have one open loss record: it is already lost.",
        ),
    ]

    def init(self):
        res = super().init()
        tools.create_index(
            self._cr,
            "crm_lead_loss_reason_team_date_idx",
            self._table,
            ["lost_reason_id", "team_id", "lost_date"],
        )
        return res

    @api.depends("closing_note")
    def _compute_closing_note_text(self):
        for loss in self:
            loss.closing_note_text = (
                tools.html2plaintext(loss.closing_note).strip()
                if not tools.is_html_empty(loss.closing_note)
                else False
            )

    def action_open_lead(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.lead",
            "res_id": self.lead_id.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "context": {"active_test": False},
        }
