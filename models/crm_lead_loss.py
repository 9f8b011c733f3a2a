# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import logging
from collections import defaultdict

from markupsafe import Markup

from odoo import _, api, fields, models, tools
from odoo.tools import SQL, Query, split_every
from odoo.tools.sql import drop_index

from .cron_progress import commit_cron_progress

_logger = logging.getLogger(__name__)

LOSS_STATES = [
    ("lost", "Lost"),
    ("recovered", "Recovered"),
    ("won_back", "Won Back"),
]


# lead field -> loss field: what a salesperson may still edit on a lost lead,
# copied onto its open loss (the lead's form shows and edits the lead's copy)
LEAD_LOSS_FIELDS = {
    "lost_reason_id": "lost_reason_id",
    "lost_feedback": "closing_note",
    "lost_competitor_id": "competitor_id",
    "lost_revisit_date": "revisit_date",
}


class CrmLeadLoss(models.Model):
    """One record each time a lead or opportunity is lost.

    This model owns its records: opening one when a lead is lost, keeping the
    open one equal to the lead, closing it when the lead is restored, moving
    it when leads are merged are all methods of this model, called from one
    place, ``crm.lead.write``/``create``. The records are the history that
    survives restores and the base of the lost analysis. Users never create,
    edit or delete them (read-only access rights); they go with their lead.

    States, computed from the lead (won: ``crm.lead._crm_lost_is_won``): an
    open loss is "lost"; the last loss of a lead that is won now is "won
    back"; any other closed loss is "recovered"."""

    _name = "crm.lead.loss"
    _description = "Lead Loss"
    _order = "lost_date desc, id desc"
    _rec_name = "lead_id"
    # many2one groups ordered by rank, not by a join (_order_field_to_sql):
    # the Lost Analysis' dimensions, whose models hold few records
    _crm_lost_ranked_groups = (
        "lost_reason_id",
        "category_id",
        "team_id",
        "user_id",
        "lost_by_id",
        "restored_by_id",
        "stage_id",
        "competitor_id",
        "company_id",
        "currency_id",
    )
    # a model of more records keeps stock's join (ranking them all would
    # cost more than the join saves)
    _crm_lost_rank_max_records = 5000

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
    # follows the lead: its users, and only them, read its history
    company_id = fields.Many2one(
        "res.company",
        string="Company",
        related="lead_id.company_id",
        store=True,
        index=True,
    )
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
    closing_note = fields.Html(sanitize=True, sanitize_style=True)
    closing_note_text = fields.Text(
        "Closing Note (Text)", compute="_compute_closing_note_text", store=True
    )
    competitor_id = fields.Many2one(
        "crm.lost.competitor",
        string="Competitor",
        index="btree_not_null",
        ondelete="restrict",
    )
    expected_revenue = fields.Monetary(currency_field="currency_id")
    currency_id = fields.Many2one("res.currency", string="Currency")
    days_open = fields.Integer(
        compute="_compute_days_open",
        store=True,
        precompute=True,
        aggregator="avg",
        help="Days between the creation of the lead and this loss.",
    )
    revisit_date = fields.Date(index="btree_not_null")
    state = fields.Selection(
        LOSS_STATES,
        compute="_compute_state",
        store=True,
        precompute=True,
        required=True,
        index=True,
    )
    restored_date = fields.Datetime("Restored On")
    restored_by_id = fields.Many2one("res.users", string="Restored By")
    restore_note = fields.Text()
    is_automatic = fields.Boolean(
        "Lost Automatically",
        readonly=True,
        help="Marked lost by the stale opportunities job of its sales team.",
    )
    revisit_activity_id = fields.Many2one(
        "mail.activity", string="Revisit Activity", ondelete="set null"
    )
    revisit_scheduled = fields.Boolean(
        readonly=True,
        help="The revisit of this loss was scheduled (activity created).",
    )

    _sql_constraints = [
        (
            "one_open_loss_per_lead",
            "EXCLUDE USING btree (lead_id WITH =) WHERE (state = 'lost')",
            "A lead can only have one open loss record: it is already lost.",
        ),
    ]

    def init(self):
        """The Lost Analysis groups losses by reason x team x month under the
        multi-company rule (``company_id``): with the company in the index,
        PostgreSQL can read the index alone, in reason x team x date order,
        instead of the table (readme/DEVELOP.md, Performance). Replaces the
        index of 18.0.1.1.0, which lacked the company; runs on install and
        on upgrade."""
        res = super().init()
        drop_index(self._cr, "crm_lead_loss_reason_team_date_idx", self._table)
        tools.create_index(
            self._cr,
            "crm_lead_loss_reason_team_date_company_idx",
            self._table,
            ["lost_reason_id", "team_id", "lost_date", "company_id"],
        )
        return res

    @api.depends(
        "restored_date",
        "lead_id.active",
        "lead_id.stage_id.is_won",
        "lead_id.loss_ids.lost_date",
    )
    def _compute_state(self):
        for loss in self:
            if not loss.restored_date:
                loss.state = "lost"
            elif loss == loss.lead_id._crm_lost_last_loss() and (
                loss.lead_id._crm_lost_is_won()
            ):
                loss.state = "won_back"
            else:
                loss.state = "recovered"

    # not on lead_id: a loss moved to another lead (merge) keeps its history
    @api.depends("lost_date")
    def _compute_days_open(self):
        for loss in self:
            created = loss.lead_id.create_date
            loss.days_open = (
                max((loss.lost_date - created).days, 0)
                if created and loss.lost_date
                else 0
            )

    @api.depends("closing_note")
    def _compute_closing_note_text(self):
        for loss in self:
            loss.closing_note_text = (
                tools.html2plaintext(loss.closing_note).strip()
                if not tools.is_html_empty(loss.closing_note)
                else False
            )

    # ------------------------------------------------------------
    # ORM: grouping (Lost Analysis)
    # ------------------------------------------------------------

    def _order_field_to_sql(self, alias, field_name, direction, nulls, query):
        """Groups of a many2one (the Lost Analysis' reason, team,
        salesperson...) come in the order of its model, as in stock, but by
        their record's rank in that order, computed once per query, instead
        of joining the record's table before grouping. Joined, PostgreSQL
        groups the losses over three tables and sorts every loss row to do
        it (300,000 at 1M leads); alone, it hashes the loss table into its
        few groups (readme/DEVELOP.md, Performance).

        Only in a grouping (``query.groupby``), for the fields of
        ``_crm_lost_ranked_groups`` while their model holds few records (the
        rank lists them all: ``_crm_lost_rankable``). Anything else, searches
        included, is stock's join."""
        if not (
            query.groupby
            and field_name in self._crm_lost_ranked_groups
            and self._crm_lost_rankable(self._fields[field_name].comodel_name)
        ):
            return super()._order_field_to_sql(
                alias, field_name, direction, nulls, query
            )
        comodel = self.env[self._fields[field_name].comodel_name]
        # every record of the model (archived too, no record rule: as the
        # join), in the model's order
        coalias = query.make_alias(alias, field_name)
        ranking = Query(self.env, coalias, SQL.identifier(comodel._table))
        ranking.order = comodel._order_to_sql(comodel._order, ranking, alias=coalias)
        return SQL(
            "array_position(ARRAY(%s), %s) %s %s",
            ranking.select(SQL.identifier(coalias, "id")),
            self._field_to_sql(alias, field_name, query),
            direction,
            nulls,
        )

    @api.model
    def _crm_lost_rankable(self, model_name):
        """Whether the groups of ``model_name`` may be ordered by rank: its
        table holds at most ``_crm_lost_rank_max_records`` rows, as
        PostgreSQL estimates them (a table never analyzed yet counts as
        small). Users, above all, may be many: portal users of a shop."""
        self.env.cr.execute(
            SQL(
                "SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                self.env[model_name]._table,
            )
        )
        return self.env.cr.fetchone()[0] <= self._crm_lost_rank_max_records

    # ------------------------------------------------------------
    # OWNER: the life of loss records, called by crm.lead
    # ------------------------------------------------------------

    @api.model
    def _on_leads_written(self, leads, vals, losing, restoring):
        """The one transition point: ``crm.lead.write`` calls this after
        writing ``vals`` on ``leads``, of which ``losing`` were just lost and
        ``restoring`` just restored."""
        if restoring:
            self._close(restoring)
        if losing:
            self._open(losing)
        if LEAD_LOSS_FIELDS.keys() & vals.keys():
            self._sync(leads - losing - restoring)

    @api.model
    def _open(self, leads, imported=None):
        """Open the loss record of each lead just lost, from the lead's
        current data. ``imported`` maps a lead id to the ``lost_date`` and
        ``lost_by_id`` of a history import; others are lost now, by the
        current user."""
        imported = imported or {}
        now = fields.Datetime.now()
        vals_list = []
        for lead in leads:
            vals = {
                "lost_date": now,
                "lost_by_id": self.env.uid,
                **imported.get(lead.id, {}),
            }
            vals_list.append(self._prepare_open_values(lead, vals))
        Loss = self.sudo()
        # pending closes must reach the database before the exclusion
        # constraint checks the new open losses
        Loss.flush_model(["restored_date", "state"])
        return Loss.create(vals_list)

    @api.model
    def _prepare_open_values(self, lead, values):
        """Values of the loss record opened for ``lead``, just lost: what the
        lead was at that moment; ``values`` (date and author) complete them."""
        currency = lead.company_id.currency_id or self.env.company.currency_id
        return {
            "lead_id": lead.id,
            "user_id": lead.user_id.id,
            "team_id": lead.team_id.id,
            "partner_id": lead.partner_id.id,
            "stage_id": lead.stage_id.id,
            "lead_type": lead.type,
            "lost_reason_id": lead.lost_reason_id.id,
            "closing_note": lead.lost_feedback,
            "competitor_id": lead.lost_competitor_id.id,
            "expected_revenue": lead.expected_revenue,
            "currency_id": currency.id,
            "revisit_date": lead.lost_revisit_date,
            # the stale job loses as superuser; nobody else can claim it
            "is_automatic": self.env.su
            and bool(self.env.context.get("crm_lost_automatic")),
            **values,
        }

    @api.model
    def _close(self, leads, note=False):
        """Close the open loss of each lead just restored (or merged)."""
        values = {
            "restored_date": fields.Datetime.now(),
            "restored_by_id": self.env.uid,
        }
        if note:
            values["restore_note"] = note
        losses = self._open_losses(leads)
        losses.write(values)
        return losses

    @api.model
    def _sync(self, leads):
        """Copy the editable loss data of lost ``leads`` onto their open loss
        (one write per distinct set of values)."""
        by_values = defaultdict(lambda: self.sudo().browse())
        for loss in self._open_losses(leads):
            lead = loss.lead_id
            values = tuple(
                (loss_field, lead[lead_field])
                for lead_field, loss_field in LEAD_LOSS_FIELDS.items()
            )
            by_values[values] |= loss
        for values, losses in by_values.items():
            losses.write(
                {
                    field: value.id if isinstance(value, models.BaseModel) else value
                    for field, value in values
                }
            )

    @api.model
    def _set_import_values(self, leads, imported):
        """History import by a sales manager: date and author of the open
        loss of lost ``leads`` (``imported`` maps a lead id to values)."""
        for loss in self._open_losses(leads):
            loss.write(imported[loss.lead_id.id])

    @api.model
    def _move(self, leads, target):
        """Merge: the loss records of ``leads`` go to ``target``, the lead they
        are merged into. Their open losses are closed first: ``target`` keeps
        its own state (and its own open loss if it is lost)."""
        self._close(leads, note=_("Merged into %(lead)s", lead=target.display_name))
        # closed in the database before they join an open loss of target
        self.sudo().flush_model(["restored_date", "state"])
        losses = self.sudo().search([("lead_id", "in", leads.ids)])
        losses.write({"lead_id": target.id})
        return losses

    @api.model
    def _open_losses(self, leads):
        return self.sudo().search(
            [("lead_id", "in", leads.ids), ("state", "=", "lost")]
        )

    # ------------------------------------------------------------
    # REVISITS
    # ------------------------------------------------------------

    @api.model
    def _revisit_due_domain(self):
        inactive_teams = (
            self.env["crm.team"]
            .with_context(active_test=False)
            .search([("active", "=", False)])
        )
        return [
            ("state", "=", "lost"),
            ("revisit_scheduled", "=", False),
            ("revisit_date", "<=", fields.Date.context_today(self)),
            ("team_id", "not in", inactive_teams.ids),
        ]

    @api.model
    def _cron_schedule_revisits(self, batch_size=200):
        """Daily: schedule a "Revisit lost deal" activity on every lead whose
        revisit date has come and that is still lost, once. Commits after each
        batch; a rerun continues with what is left.

        Each batch is locked, then searched again: a run over many losses
        lasts long, and meanwhile a lead may be restored (Revisit Now plans
        its own activity) or another run (Run Manually) may schedule the same
        losses. Only those still due are scheduled; a loss changed by a
        transaction running at the same moment makes the batch fail (a
        serialization failure) and the cron run again."""
        losses = self.sudo().search(self._revisit_due_domain(), order="id")
        done, remaining = 0, len(losses)
        for ids in split_every(batch_size, losses.ids):
            batch = self._revisit_lock_due(ids)
            for company, company_losses in batch.grouped("company_id").items():
                company_losses.with_company(
                    company or self.env.company
                )._schedule_revisit()
            done, remaining = done + len(batch), remaining - len(ids)
            commit_cron_progress(self.env, done, remaining)
        _logger.info("Lost deals to revisit: %s scheduled", done)
        self.env["ir.cron"]._notify_progress(done=done, remaining=0)

    @api.model
    def _revisit_lock_due(self, ids):
        """Of the losses ``ids``, those due for a revisit now, their rows
        locked until the end of the transaction (in id order)."""
        self.env.cr.execute(
            SQL(
                "SELECT id FROM %s WHERE id IN %s ORDER BY id FOR NO KEY UPDATE",
                SQL.identifier(self._table),
                tuple(ids),
            )
        )
        return self.sudo().search(
            [("id", "in", list(ids)), *self._revisit_due_domain()], order="id"
        )

    @api.model
    def _prepare_revisit_activity(self, lead, date_deadline, note=False, assignee=None):
        """Values of a "Revisit lost deal" activity on ``lead``."""
        activity_type = self.env.ref(
            "crm_lost_management.mail_activity_type_revisit_lost"
        )
        return {
            "res_model_id": self.env["ir.model"]._get_id("crm.lead"),
            "res_id": lead.id,
            "activity_type_id": activity_type.id,
            "summary": _("Revisit lost deal"),
            "note": note or activity_type.default_note,
            "automated": True,
            "date_deadline": date_deadline,
            "user_id": (assignee or lead._crm_lost_get_assignee()).id,
        }

    def _planned_revisit_activities(self):
        """The revisit activity already planned on the lead of each of these
        losses, by lead id, in one search: the one the daily job planned for
        the loss, while still to do, or else the lead's first planned
        *Revisit lost deal* activity (planned by hand, or kept through a
        loss: *Keep Planned Activities of Lost Leads*). Done activities
        (kept by their type) are not planned ones."""
        activity_type = self.env.ref(
            "crm_lost_management.mail_activity_type_revisit_lost"
        )
        activities = (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "crm.lead"),
                    ("res_id", "in", self.lead_id.ids),
                    "|",
                    ("activity_type_id", "=", activity_type.id),
                    ("id", "in", self.revisit_activity_id.ids),
                ],
                order="date_deadline desc, id desc",
            )
        )
        planned = {activity.res_id: activity for activity in activities}
        planned.update(
            {
                activity.res_id: activity
                for activity in activities & self.revisit_activity_id
            }
        )
        return planned

    def _revisit_today(self):
        """Revisit Now (the leads were just restored): move the revisit
        activity already planned (``_planned_revisit_activities``) to today,
        or plan one, in one create."""
        today = fields.Date.context_today(self)
        planned = self._planned_revisit_activities()
        for lead_id, activity in planned.items():
            lead = self.env["crm.lead"].browse(lead_id)
            # for whoever follows the lead now (it may have been reassigned)
            assignee = lead._crm_lost_get_assignee() or activity.user_id
            activity.write({"date_deadline": today, "user_id": assignee.id})
        unplanned = self.lead_id.filtered(lambda lead: lead.id not in planned)
        self.env["mail.activity"].create(
            [
                self._prepare_revisit_activity(
                    lead,
                    today,
                    assignee=lead._crm_lost_get_assignee() or self.env.user,
                )
                for lead in unplanned
            ]
        )
        self.write({"revisit_scheduled": True})

    def _schedule_revisit(self):
        """Plan the revisit activity of these open losses on their (lost)
        lead, for the salesperson or else the team leader, in one create,
        and log a note on each lead, in one batch (no one is notified of a
        note). A lead that already has one planned
        (``_planned_revisit_activities``) keeps it: the loss takes it."""
        planned = self._planned_revisit_activities()
        notes = {}
        reused = self.filtered(lambda loss: loss.lead_id.id in planned)
        for loss in reused:
            activity = planned[loss.lead_id.id]
            loss.write({"revisit_scheduled": True, "revisit_activity_id": activity.id})
            notes[loss.lead_id.id] = _(
                "Revisit of this lost deal already planned for %(user)s, "
                "due on %(date)s.",
                user=activity.user_id.name,
                date=activity.date_deadline,
            )
        assigned = (self - reused).filtered(
            lambda loss: loss.lead_id._crm_lost_get_assignee()
        )
        activities = self.env["mail.activity"].create(
            [
                self._prepare_revisit_activity(
                    loss.lead_id,
                    loss.revisit_date,
                    note=_(
                        "Lost on %(date)s (%(reason)s). Time to check whether "
                        "it can come back.",
                        date=fields.Date.to_date(loss.lost_date),
                        reason=loss.lost_reason_id.name or _("no reason"),
                    ),
                )
                for loss in assigned
            ]
        )
        for loss, activity in zip(assigned, activities, strict=False):
            loss.write({"revisit_scheduled": True, "revisit_activity_id": activity.id})
            notes[loss.lead_id.id] = _(
                "Revisit of this lost deal scheduled for %(user)s.",
                user=activity.user_id.name,
            )
        unassigned = self - reused - assigned
        unassigned.write({"revisit_scheduled": True})
        for loss in unassigned:
            notes[loss.lead_id.id] = _(
                "This lost deal is due for a revisit, but it has no active "
                "salesperson or team leader to assign it to."
            )
        self.lead_id._message_log_batch(
            {lead_id: Markup("<p>%s</p>") % note for lead_id, note in notes.items()}
        )

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
