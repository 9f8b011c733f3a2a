# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from collections import defaultdict

from odoo import _, api, fields, models

WIN_STATES = [
    ("won", "Won"),
    ("reopened", "Reopened"),
]

# lead field -> win field: what may still be edited on a won lead, copied
# onto its open win (the lead's form shows and edits the lead's copy)
LEAD_WIN_FIELDS = {
    "won_reason_id": "won_reason_id",
    "won_note": "won_note",
    "won_competitor_ids": "competitor_ids",
}


class CrmLeadWin(models.Model):
    """One record each time a lead or opportunity is won.

    The twin of ``crm.lead.loss``, owned the same way: this model opens a win
    when a lead enters the won state (active, in a won stage:
    ``crm.lead._crm_lost_is_won``), keeps the open win equal to the lead's
    current win data, closes it when the lead leaves the won state (moved
    back to another stage, lost) and moves it when leads are merged. It is
    called from one place, ``crm.lead.write``/``create`` (and
    ``crm.stage.write`` when a stage stops or starts being a won stage).
    Users never create, edit or delete them; they go with their lead."""

    _name = "crm.lead.win"
    _description = "Lead Win"
    _order = "won_date desc, id desc"
    _rec_name = "lead_id"

    lead_id = fields.Many2one(
        "crm.lead",
        string="Lead/Opportunity",
        required=True,
        index=True,
        ondelete="cascade",
        context={"active_test": False},
    )
    won_date = fields.Datetime(
        "Won On", required=True, index=True, default=fields.Datetime.now
    )
    won_by_id = fields.Many2one("res.users", string="Won By")
    user_id = fields.Many2one("res.users", string="Salesperson", index=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", index=True)
    company_id = fields.Many2one(
        "res.company",
        string="Company",
        related="lead_id.company_id",
        store=True,
        index=True,
    )
    partner_id = fields.Many2one("res.partner", string="Customer")
    stage_id = fields.Many2one("crm.stage", string="Won Stage")
    lead_type = fields.Selection(
        [("lead", "Lead"), ("opportunity", "Opportunity")],
        string="Type",
        required=True,
        default="opportunity",
    )
    won_reason_id = fields.Many2one(
        "crm.won.reason", string="Won Reason", index=True, ondelete="restrict"
    )
    category_id = fields.Many2one(
        "crm.lost.reason.category",
        string="Reason Category",
        related="won_reason_id.category_id",
        store=True,
        index=True,
    )
    won_note = fields.Html("Win Note", sanitize=True, sanitize_style=True)
    competitor_ids = fields.Many2many(
        "crm.lost.competitor",
        "crm_lead_win_competitor_rel",
        "win_id",
        "competitor_id",
        string="Won Against",
    )
    expected_revenue = fields.Monetary(currency_field="currency_id")
    currency_id = fields.Many2one("res.currency", string="Currency")
    days_to_close = fields.Integer(
        compute="_compute_days_to_close",
        store=True,
        precompute=True,
        aggregator="avg",
        help="Days between the creation of the lead and this win.",
    )
    state = fields.Selection(
        WIN_STATES,
        compute="_compute_state",
        store=True,
        precompute=True,
        required=True,
        index=True,
    )
    reopened_date = fields.Datetime("Reopened On")
    reopened_by_id = fields.Many2one("res.users", string="Reopened By")
    reopen_note = fields.Char()

    _sql_constraints = [
        (
            "one_open_win_per_lead",
            "EXCLUDE USING btree (lead_id WITH =) WHERE (state = 'won')",
            "A lead can only have one open win record: it is already won.",
        ),
    ]

    @api.depends("reopened_date")
    def _compute_state(self):
        for win in self:
            win.state = "reopened" if win.reopened_date else "won"

    @api.depends("won_date")
    def _compute_days_to_close(self):
        for win in self:
            created = win.lead_id.create_date
            win.days_to_close = (
                max((win.won_date - created).days, 0) if created and win.won_date else 0
            )

    # ------------------------------------------------------------
    # OWNER: the life of win records, called by crm.lead and crm.stage
    # ------------------------------------------------------------

    @api.model
    def _on_leads_written(self, leads, vals, winning, unwinning):
        """``crm.lead.write`` calls this after writing ``vals`` on ``leads``,
        of which ``winning`` just entered the won state and ``unwinning``
        just left it."""
        if unwinning:
            self._close(unwinning)
        if winning:
            self._open(winning)
        if LEAD_WIN_FIELDS.keys() & vals.keys():
            self._sync(leads - winning - unwinning)

    @api.model
    def _open(self, leads, imported=None):
        """Open the win record of each lead just won, from its current data.
        ``imported`` maps a lead id to values of a history (install,
        migration)."""
        imported = imported or {}
        now = fields.Datetime.now()
        vals_list = [
            self._prepare_open_values(
                lead,
                {
                    "won_date": now,
                    "won_by_id": self.env.uid,
                    **imported.get(lead.id, {}),
                },
            )
            for lead in leads
        ]
        Win = self.sudo()
        # pending closes reach the database before the exclusion constraint
        # checks the new open wins
        Win.flush_model(["reopened_date", "state"])
        return Win.create(vals_list)

    @api.model
    def _prepare_open_values(self, lead, values):
        currency = lead.company_id.currency_id or self.env.company.currency_id
        return {
            "lead_id": lead.id,
            "user_id": lead.user_id.id,
            "team_id": lead.team_id.id,
            "partner_id": lead.partner_id.id,
            "stage_id": lead.stage_id.id,
            "lead_type": lead.type,
            "won_reason_id": lead.won_reason_id.id,
            "won_note": lead.won_note,
            "competitor_ids": [fields.Command.set(lead.won_competitor_ids.ids)],
            "expected_revenue": lead.expected_revenue,
            "currency_id": currency.id,
            **values,
        }

    @api.model
    def _close(self, leads, note=False):
        """Close the open win of each lead that just left the won state."""
        values = {
            "reopened_date": fields.Datetime.now(),
            "reopened_by_id": self.env.uid,
        }
        if note:
            values["reopen_note"] = note
        wins = self._open_wins(leads)
        wins.write(values)
        return wins

    @api.model
    def _sync(self, leads):
        """Copy the editable win data of won ``leads`` onto their open win
        (one write per distinct set of values)."""
        by_values = defaultdict(lambda: self.sudo().browse())
        for win in self._open_wins(leads):
            lead = win.lead_id
            values = (
                lead.won_reason_id.id,
                lead.won_note,
                tuple(sorted(lead.won_competitor_ids.ids)),
            )
            by_values[values] |= win
        for (reason_id, note, competitor_ids), wins in by_values.items():
            wins.write(
                {
                    "won_reason_id": reason_id,
                    "won_note": note,
                    "competitor_ids": [fields.Command.set(list(competitor_ids))],
                }
            )

    @api.model
    def _move(self, leads, target):
        """Merge: the win records of ``leads`` go to ``target``; their open
        wins are closed first (``target`` keeps its own state)."""
        self._close(leads, note=_("Merged into %(lead)s", lead=target.display_name))
        self.sudo().flush_model(["reopened_date", "state"])
        wins = self.sudo().search([("lead_id", "in", leads.ids)])
        wins.write({"lead_id": target.id})
        return wins

    @api.model
    def _on_stages_changed(self, stages):
        """``stages`` just became, or stopped being, won stages: their active
        leads enter or leave the won state."""
        Lead = self.env["crm.lead"].sudo()
        leads = Lead.search([("stage_id", "in", stages.ids)])
        won = leads.filtered(lambda lead: lead.stage_id.is_won)
        open_wins = self._open_wins(leads)
        self._close(open_wins.lead_id - won)
        self._open(won - open_wins.lead_id)
        # left the won state: no current win any more
        (leads - won).filtered(
            lambda lead: lead.won_reason_id or lead.won_note or lead.won_competitor_ids
        ).write(dict.fromkeys(LEAD_WIN_FIELDS, False))

    @api.model
    def _open_wins(self, leads):
        return self.sudo().search([("lead_id", "in", leads.ids), ("state", "=", "won")])

    @api.readonly
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
