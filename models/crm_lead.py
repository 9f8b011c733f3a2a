# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from collections import defaultdict
from datetime import timedelta

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from .crm_lead_loss import LEAD_LOSS_FIELDS
from .crm_lead_win import LEAD_WIN_FIELDS

# set by Odoo from the open loss record; only a history import may give them
SERVER_LOSS_FIELDS = ("lost_date", "lost_by_id")
# the search of stock's action_set_won for the won stages of leads
WON_STAGE_DOMAIN = [("is_won", "=", True)]


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # Current loss (empty unless lost). Lost On / Lost By read the open loss
    # record; the editable part lives on the lead (its form edits it) and
    # crm.lead.loss keeps the open loss equal to it.
    lost_date = fields.Datetime(
        "Lost On",
        compute="_compute_lost_date",
        store=True,
        # importable (by sales managers importing history); read-only in views
        readonly=False,
        copy=False,
        index="btree_not_null",
    )
    lost_by_id = fields.Many2one(
        "res.users",
        string="Lost By",
        compute="_compute_lost_date",
        store=True,
        readonly=False,
        copy=False,
    )
    lost_reason_id = fields.Many2one(check_company=True)
    lost_feedback = fields.Html(
        "Closing Note", sanitize=True, sanitize_style=True, copy=False
    )
    lost_note = fields.Text(
        "Closing Note (Text)", compute="_compute_lost_note", store=True, copy=False
    )
    lost_competitor_id = fields.Many2one(
        "crm.lost.competitor",
        string="Lost to Competitor",
        copy=False,
        index="btree_not_null",
        tracking=True,
        check_company=True,
        ondelete="restrict",
    )
    lost_revisit_date = fields.Date(
        "Revisit On",
        compute="_compute_lost_revisit_date",
        store=True,
        readonly=False,
        copy=False,
        index="btree_not_null",
        tracking=True,
        help="When a lost lead should be looked at again. Defaults from the lost "
        "reason's revisit delay.",
    )
    lost_reason_category_id = fields.Many2one(
        "crm.lost.reason.category",
        string="Lost Reason Category",
        related="lost_reason_id.category_id",
        store=True,
    )
    # Competition: the competitors the deal faces (its Competition tab)
    competitor_line_ids = fields.One2many(
        "crm.lead.competitor", "lead_id", string="Competition", copy=True
    )
    # History
    loss_ids = fields.One2many("crm.lead.loss", "lead_id", string="Loss History")
    loss_count = fields.Integer("Losses", compute="_compute_loss_count")
    # Current win (empty unless won: active, in a won stage); crm.lead.win
    # keeps the open win equal to it
    won_reason_id = fields.Many2one(
        "crm.won.reason",
        string="Won Reason",
        copy=False,
        index="btree_not_null",
        tracking=True,
        check_company=True,
        ondelete="restrict",
    )
    won_note = fields.Html("Win Note", sanitize=True, sanitize_style=True, copy=False)
    won_competitor_ids = fields.Many2many(
        "crm.lost.competitor",
        "crm_lead_won_competitor_rel",
        "lead_id",
        "competitor_id",
        # archived competitors stay (and go) with the win they were beaten in
        context={"active_test": False},
        string="Won Against",
        copy=False,
        check_company=True,
        help="The competitors this deal was won against.",
    )
    stage_is_won = fields.Boolean(related="stage_id.is_won", string="In a Won Stage")
    win_ids = fields.One2many("crm.lead.win", "lead_id", string="Win History")
    win_count = fields.Integer("Wins", compute="_compute_win_count")

    @api.depends("loss_ids.state", "loss_ids.lost_date", "loss_ids.lost_by_id")
    def _compute_lost_date(self):
        open_losses = {
            loss.lead_id.id: loss
            for loss in self.env["crm.lead.loss"]._open_losses(self)
        }
        for lead in self:
            loss = open_losses.get(lead.id)
            lead.lost_date = loss.lost_date if loss else False
            lead.lost_by_id = loss.lost_by_id if loss else False

    @api.depends("lost_feedback")
    def _compute_lost_note(self):
        for lead in self:
            lead.lost_note = (
                tools.html2plaintext(lead.lost_feedback).strip()
                if not tools.is_html_empty(lead.lost_feedback)
                else False
            )

    @api.depends("lost_reason_id", "active")
    def _compute_lost_revisit_date(self):
        for lead in self:
            days = lead.lost_reason_id.revisit_after_days
            if not lead.lost_reason_id or lead.active:
                # a reason set beforehand on an active lead (stock allows
                # it) gives a revisit date once the lead is lost
                lead.lost_revisit_date = False
            elif days:
                start = fields.Date.context_today(
                    lead, lead.lost_date or fields.Datetime.now()
                )
                lead.lost_revisit_date = start + timedelta(days=days)

    def _compute_loss_count(self):
        data = self.env["crm.lead.loss"]._read_group(
            [("lead_id", "in", self.ids)], ["lead_id"], ["__count"]
        )
        counts = {lead.id: count for lead, count in data}
        for lead in self:
            lead.loss_count = counts.get(lead.id, 0)

    def _compute_win_count(self):
        data = self.env["crm.lead.win"]._read_group(
            [("lead_id", "in", self.ids)], ["lead_id"], ["__count"]
        )
        counts = {lead.id: count for lead, count in data}
        for lead in self:
            lead.win_count = counts.get(lead.id, 0)

    @api.constrains("active", "lost_reason_id", "type", "team_id", "company_id")
    def _check_lost_reason_applies(self):
        """A lost lead (API included) keeps a reason that applies to it when
        it is lost, given a reason, or moved to another type, team or
        company. Whether the reason is still active is checked when it is
        chosen (``_crm_lost_check_reason_active``): a reason archived since
        does not block leads lost with it, nor does a rule tightened since
        block other edits (a note, a salesperson)."""
        self._crm_lost_check_policy(check_usable=True, check_requirements=False)

    @api.constrains("active", "lost_reason_id", "lost_feedback", "lost_competitor_id")
    def _check_lost_reason_requirements(self):
        """A lost lead keeps what its reason requires (closing note,
        competitor)."""
        self._crm_lost_check_policy(check_usable=False, check_requirements=True)

    def _crm_lost_check_policy(self, check_usable, check_requirements):
        lost = self.filtered(lambda lead: not lead.active and lead.lost_reason_id)
        errors = []
        for reason, leads in lost.grouped("lost_reason_id").items():
            errors += reason._get_usage_errors(
                leads,
                check_active=False,
                check_usable=check_usable,
                check_requirements=check_requirements,
            )
        if errors:
            raise ValidationError("\n".join(errors))

    @api.constrains("company_id", "competitor_line_ids")
    def _check_competitor_lines_company(self):
        """A competitor limited to a company is only faced by deals of that
        company: moving a deal to another company must not leave it with a
        competitor its users cannot see."""
        errors = []
        for lead in self:
            foreign = lead.competitor_line_ids.competitor_id.sudo().filtered(
                lambda competitor, lead=lead: competitor.company_id
                and competitor.company_id != lead.company_id
            )
            if foreign:
                errors.append(
                    _(
                        "%(lead)s faces the competitor(s) %(competitors)s of the "
                        "company %(company)s: it cannot belong to another company. "
                        "Remove them from its Competition tab first, or keep it in "
                        "%(company)s.",
                        lead=lead._crm_lost_names(),
                        competitors=", ".join(foreign.mapped("name")),
                        company=", ".join(foreign.company_id.mapped("name")),
                    )
                )
        if errors:
            raise ValidationError("\n".join(errors))

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        self._crm_lost_check_references(vals_list)
        # the caller's dicts stay untouched (import retries them one by one)
        vals_list = [dict(vals) for vals in vals_list]
        imported = [self._crm_lost_pop_server_values(vals) for vals in vals_list]
        for vals, values in zip(vals_list, imported, strict=True):
            if vals.get("active", True) is not False:
                self._crm_lost_check_active_values(
                    vals, bool(values), vals.get("name") or _("New")
                )
            else:
                # lost: no chance left, as stock's archiving (toggle_active)
                vals.update(probability=0, automated_probability=0)
        self._crm_won_check_create_values(vals_list)
        leads = super().create(vals_list)
        won = leads.filtered(lambda lead: lead._crm_lost_is_won())
        if won:
            self.env["crm.lead.win"]._open(won)
        lost = leads.filtered(lambda lead: not lead.active)
        if lost:
            self.env["crm.lead.loss"]._open(
                lost,
                imported={
                    lead.id: values
                    for lead, values in zip(leads, imported, strict=False)
                    if values and not lead.active
                },
            )
        if any(
            vals.get("lost_competitor_id") or vals.get("won_competitor_ids")
            for vals in vals_list
        ):
            leads._crm_competition_add_faced()
        return leads

    def write(self, vals):
        """The one place where leads are lost and restored: prepare the
        values of the transition, write once, then let crm.lead.loss open,
        close or update the loss records."""
        vals = dict(vals)
        losing = restoring = self.browse()
        if "active" in vals:
            if vals["active"]:
                restoring = self.filtered(lambda lead: not lead.active)
            else:
                losing = self.filtered("active")
        if losing:
            # the values of the loss (action_set_lost, Mark as Lost) come with
            # the archiving itself, so that the loss opens complete; only the
            # loss fields are taken from the context
            context_values = self.env.context.get("crm_lost_values") or {}
            vals = {
                **{
                    name: value
                    for name, value in context_values.items()
                    if name in LEAD_LOSS_FIELDS
                },
                **vals,
            }
        self._crm_lost_check_references([vals])
        for field_name in ("lost_reason_id", "lost_competitor_id"):
            if isinstance(vals.get(field_name), models.BaseModel):
                vals[field_name] = vals[field_name].id  # stock's merge
        imported = self._crm_lost_pop_server_values(vals)
        (losing | restoring)._crm_lost_lock()
        staying_lost = self.filtered(lambda lead: not lead.active) - restoring
        (staying_lost | losing)._crm_lost_check_no_chance(vals, losing)
        if losing:
            # lost: no chance left, as stock's archiving (toggle_active)
            vals.update(probability=0, automated_probability=0)
        elif restoring:
            # restored: no current loss (stock's toggle_active clears the
            # reason too)
            vals.update(dict.fromkeys(LEAD_LOSS_FIELDS, False))
        elif active := self - staying_lost:
            active._crm_lost_check_active_values(
                vals, bool(imported), active._crm_lost_names()
            )
        (staying_lost | losing)._crm_lost_check_reason_active(vals)
        winning, unwinning, unwon_later, carried = self._crm_won_prepare_write(vals)
        archived = self if "active" in vals and not vals["active"] else self.browse()
        result = super(CrmLead, self._crm_lost_sparing_activities(archived)).write(vals)
        Loss = self.env["crm.lead.loss"]
        Loss._on_leads_written(self, vals, losing, restoring)
        if imported:
            Loss._set_import_values(self, dict.fromkeys(self.ids, imported))
        for leads, values in carried:
            # before their wins open, which copy the lead's win data
            leads.write(values)
        self.env["crm.lead.win"]._on_leads_written(self, vals, winning, unwinning)
        if unwon_later:
            unwon_later.write(dict.fromkeys(LEAD_WIN_FIELDS, False))
        if vals.get("lost_competitor_id") or vals.get("won_competitor_ids"):
            self._crm_competition_add_faced()
        return result

    def _crm_won_prepare_write(self, vals):
        """Win side of ``write``: which leads enter (``winning``) or leave
        (``unwinning``) the won state with ``vals``. Completes ``vals`` in
        place: the values of Mark as Won (context ``crm_won_values``) come
        with the write that wins, the current win is cleared when leaving
        the won state (on ``unwon_later`` after the write when other leads of
        the write stay or become won). Leads restored straight into the won
        stage they were lost in get back the data of the win their loss
        closed (``carried``: (leads, values) to write before their wins
        open). Refuses win data on leads that are not won after the write,
        and, from the user interface (context ``crm_won_check_reason``, or an
        import), a win without a reason when the company requires one."""
        empty = self.browse()
        self._crm_won_clean_note(vals)
        if "stage_id" not in vals and "active" not in vals:
            if self and self._crm_won_values_given(vals):
                self._crm_won_check_won(
                    self.filtered(lambda lead: not lead._crm_lost_is_won())
                )
                self._crm_won_check_reason_usable(vals)
            if (
                "won_reason_id" in vals
                and not vals["won_reason_id"]
                and self.env.context.get("crm_won_check_reason")
            ):
                # the web client may not take the reason of a win away
                required = self.filtered(
                    lambda lead: lead._crm_lost_is_won()
                    and lead._crm_won_reason_required()
                )
                if required:
                    raise UserError(
                        _(
                            "%(leads)s are won and their company requires a won "
                            "reason: it cannot be removed. Pick another reason "
                            "instead.",
                            leads=required._crm_lost_names(),
                        )
                    )
            return empty, empty, empty, []
        won_after = self._crm_won_after(vals)
        was_won = self.filtered(lambda lead: lead._crm_lost_is_won())
        winning, unwinning = won_after - was_won, was_won - won_after
        carried = []
        if winning:
            context_values = self.env.context.get("crm_won_values") or {}
            vals.update(
                {
                    name: value
                    for name, value in context_values.items()
                    if name in LEAD_WIN_FIELDS and name not in vals
                }
            )
            if not self._crm_won_values_given(vals):
                carried = winning.filtered(
                    lambda lead: not lead.active
                    and vals.get("stage_id", lead.stage_id.id) == lead.stage_id.id
                )._crm_won_restored_values()
            if self.env.context.get("crm_won_check_reason") or self.env.context.get(
                "import_file"
            ):
                with_reason = self.browse()
                for leads, values in carried:
                    if values.get("won_reason_id"):
                        with_reason |= leads
                (winning - with_reason)._crm_won_check_reason_given(vals)
        if self._crm_won_values_given(vals):
            self._crm_won_check_won(self - won_after)
            self._crm_won_check_reason_usable(vals)
        unwon_later = empty
        if unwinning:
            if won_after:
                unwon_later = unwinning
            else:
                vals.update(dict.fromkeys(LEAD_WIN_FIELDS, False))
        return winning, unwinning, unwon_later, carried

    def _crm_won_restored_values(self):
        """``self``: lost leads restored straight into their won stage (a lost
        lead cannot enter one: they were lost from it). Restoring undoes the
        loss: each gets back the won reason, note and competitors of its last
        win (closed by the loss), those that may still be used. Returns
        [(leads, values)], one entry per distinct set of values."""
        if not self:
            return []
        last_wins = {}
        for win in (
            self.env["crm.lead.win"]
            .sudo()
            .search([("lead_id", "in", self.ids)], order="won_date, id")
        ):
            last_wins[win.lead_id.id] = win
        by_values = defaultdict(lambda: self.browse())
        for lead in self:
            win = last_wins.get(lead.id)
            if not win:
                continue
            reason = win.won_reason_id
            if reason and reason._get_usage_errors(lead):
                reason = reason.browse()
            competitors = win.competitor_ids.filtered(
                lambda competitor, lead=lead: not lead._crm_lost_get_competitor_errors(
                    competitor
                )
            )
            note = win.won_note if not tools.is_html_empty(win.won_note) else False
            key = (reason.id, note, tuple(sorted(competitors.ids)))
            if any(key):
                by_values[key] |= lead
        return [
            (
                leads,
                {
                    "won_reason_id": reason_id,
                    "won_note": note,
                    "won_competitor_ids": [fields.Command.set(list(competitor_ids))],
                },
            )
            for (reason_id, note, competitor_ids), leads in by_values.items()
        ]

    def _crm_won_after(self, vals):
        """The leads of ``self`` that are won once ``vals`` are written."""
        stage = (
            self.env["crm.stage"].browse(vals["stage_id"])
            if "stage_id" in vals
            else None
        )
        return self.filtered(
            lambda lead: vals.get("active", lead.active)
            and (stage if stage is not None else lead.stage_id).is_won
        )

    def copy_data(self, default=None):
        """A lost lead is duplicated lost, with its loss data (a new loss
        record is opened for the copy): its reason may require them. A won
        lead is duplicated open (stock does not copy the stage); given a won
        stage (``default``), the copy is won with the win data."""
        vals_list = super().copy_data(default=default)
        for lead, vals in zip(self, vals_list, strict=False):
            copy_stage = self.env["crm.stage"].browse(vals.get("stage_id"))
            if vals.get("active", True) and copy_stage.is_won:
                for field_name in LEAD_WIN_FIELDS:
                    if not lead[field_name]:
                        continue
                    vals.setdefault(
                        field_name,
                        self._fields[field_name].convert_to_write(
                            lead[field_name], lead
                        ),
                    )
            if not vals.get("active", lead.active):
                # the revisit date is computed again from the copy's loss
                for field_name in ("lost_feedback", "lost_competitor_id"):
                    vals.setdefault(
                        field_name,
                        self._fields[field_name].convert_to_write(
                            lead[field_name], lead
                        ),
                    )
        return vals_list

    def toggle_active(self):
        leads = self._crm_lost_sparing_activities(self.filtered("active"))
        result = super(CrmLead, leads).toggle_active()
        # action_archive, action_unarchive, action_set_lost and the Mark as
        # Lost wizard return this: None cannot be sent over XML-RPC, whose
        # clients would get a fault for a change that was committed
        return True if result is None else result

    def _merge_opportunity(
        self, user_id=False, team_id=False, auto_unlink=True, max_length=5
    ):
        """Merge: the loss history of the merged leads goes to the lead they
        are merged into, when they are deleted (``auto_unlink``: stock's
        default); kept, they keep their history."""
        head = super()._merge_opportunity(
            user_id=user_id, team_id=team_id, auto_unlink=False, max_length=max_length
        )
        if auto_unlink:
            tail = self - head
            self.env["crm.lead.loss"]._move(tail, head)
            self.env["crm.lead.win"]._move(tail, head)
            # as stock: the user could see them, so they may go
            tail.sudo().unlink()
        return head

    def _merge_dependences(self, opportunities):
        """The lead merged into faces the competitors of the merged ones too."""
        result = super()._merge_dependences(opportunities)
        opportunities.competitor_line_ids._merge_into(self)
        return result

    def _merge_get_fields_specific(self):
        """The lead merged into gets the closing note and competitor of the
        lead whose lost reason stock gives it (the reason may require them);
        an active result gets none (stock may still give it the reason)."""
        fields_specific = super()._merge_get_fields_specific()

        def from_reason_lead(fname, leads):
            if not leads or leads[0].active:
                return False
            source = next((lead for lead in leads if lead.lost_reason_id), leads[0])
            return self._fields[fname].convert_to_write(source[fname], source)

        for fname in ("lost_feedback", "lost_competitor_id"):
            fields_specific[fname] = from_reason_lead
        return fields_specific

    def web_save(self, vals, specification):
        """Saves of the web client (form, list, kanban drag and drop, quick
        create): when the company requires a won reason, a save that wins a
        lead, or creates it won, must give one (the Won button, the form's
        stage bar, the lists and the pipeline's drag and drop ask for it with
        the Mark as Won dialog: ``crm_won_stage_dialog``)."""
        return super(CrmLead, self.with_context(crm_won_check_reason=True)).web_save(
            vals, specification
        )

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_set_won(self):
        """Stock's Won. Stock looks up the won stages of the selection once per
        lead (the same ``_stage_find`` search in its loop); for a batch they
        are looked up once here, so that the cost does not grow with the
        number of leads (Mark as Won on a selection)."""
        leads = self
        if len(self) > 1 and "crm_won_stages" not in self.env.context:
            stages = self._stage_find(domain=WON_STAGE_DOMAIN, limit=None)
            leads = self.with_context(
                crm_won_stages=(tuple(self.ids), tuple(stages.ids))
            )
        return super(CrmLead, leads).action_set_won()

    def action_set_lost(self, **additional_values):
        """Keep the stock API (archive, then write the values). The values,
        with those prepared by the Mark as Lost wizard (closing note,
        competitor, revisit date), travel in the context to the archiving
        ``write``, which opens the loss with them."""
        values = {
            **(self.env.context.get("crm_lost_values") or {}),
            **additional_values,
        }
        self._crm_lost_check_references([values])
        if values.get("lost_competitor_id"):
            errors = self._crm_lost_get_competitor_errors(
                self.env["crm.lost.competitor"].browse(values["lost_competitor_id"])
            )
            if errors:
                raise ValidationError("\n".join(errors))
        if values.get("lost_reason_id"):
            # the whole selection at once, before anything is written
            reason = self.env["crm.lost.reason"].browse(values["lost_reason_id"])
            errors = reason._get_usage_errors(
                self,
                note=values.get("lost_feedback"),
                competitor=(
                    self.env["crm.lost.competitor"].browse(values["lost_competitor_id"])
                    if "lost_competitor_id" in values
                    else None
                ),
                check_active=any(
                    self.mapped(lambda lead: lead.lost_reason_id != reason)
                ),
            )
            if errors:
                raise ValidationError("\n".join(errors))
        leads = self.with_context(crm_lost_values=values)
        return super(CrmLead, leads).action_set_lost(**values)

    def action_archive_or_mark_lost(self):
        """Archive entry of the web client's action menu: when a lost reason is
        required, ask for it with the Mark as Lost wizard instead of archiving
        silently."""
        if self.crm_lost_archive_needs_reason():
            return self.filtered("active")._crm_lost_wizard_action()
        return self.action_archive()

    def action_crm_won(self):
        """The Won button of the lead form: stock's Won (with its rainbow man)
        when no won reason is required, else the Mark as Won dialog."""
        if self.crm_won_reason_required():
            return self._crm_won_wizard_action()
        return self.action_set_won_rainbowman()

    @api.readonly
    def action_open_won_wizard(self):
        """Mark as Won with a reason, note and competitors beaten (also for a
        selection, from the list's action menu)."""
        return self._crm_won_wizard_action()

    @api.readonly
    def action_open_wins(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_lost_management.crm_lead_win_action"
        )
        action.update(
            {
                "domain": [("lead_id", "in", self.ids)],
                "context": {"create": False},
            }
        )
        if len(self) == 1:
            action["name"] = _("Wins of %(lead)s", lead=self.name)
        return action

    @api.readonly
    def crm_won_reason_required(self):
        """Whether winning these leads from the user interface asks for a won
        reason (the kanban's drag and drop and the Won button use it).
        Changes nothing."""
        return bool(self) and self._crm_won_reason_required()

    @api.readonly
    def crm_won_stage_dialog(self, stage_id):
        """A move of these leads to the stage ``stage_id`` from the pipeline
        (drag and drop), the form's stage bar or a list: the Mark as Won
        dialog that makes the move when it wins some of them and their
        company requires a won reason; False when the move needs no dialog.
        Changes nothing."""
        stage = self.env["crm.stage"].browse(stage_id).exists()
        winning = self._crm_won_after({"stage_id": stage.id}).filtered(
            lambda lead: not lead._crm_lost_is_won()
        )
        if not winning or not winning._crm_won_reason_required():
            return False
        action = winning._crm_won_wizard_action()
        action["context"]["default_stage_id"] = stage.id
        return action

    @api.readonly
    def action_open_restore_wizard(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_lost_management.crm_lead_restore_action"
        )
        action["context"] = {
            "default_lead_ids": self.ids,
            "dialog_size": "medium",
        }
        return action

    def action_revisit_now(self):
        """Bring a lost lead back now: restore it and plan its revisit for
        today."""
        losses = self.env["crm.lead.loss"]._open_losses(self)
        self._action_restore(restore_note=_("Revisited"))
        losses._revisit_today()
        return True

    @api.readonly
    def action_open_losses(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_lost_management.crm_lead_loss_action"
        )
        action.update(
            {
                "domain": [("lead_id", "in", self.ids)],
                "context": {"create": False},
            }
        )
        if len(self) == 1:
            action["name"] = _("Losses of %(lead)s", lead=self.name)
        return action

    @api.readonly
    def crm_lost_archive_needs_reason(self):
        """Archive entry of the action menus of the lead views (js_class
        crm_lost_list, crm_lost_form): whether archiving these leads must go
        through the Mark as Lost wizard (``action_archive_or_mark_lost``)
        instead of stock's confirmation. Changes nothing: ``@api.readonly``
        lets the web client's call run on a read replica when Odoo has one
        (``--db_replica_host``), as the module's other read-only methods."""
        to_lose = self.filtered("active")
        return bool(to_lose) and to_lose._crm_lost_reason_required()

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    @api.model
    def _crm_lost_domain(self):
        """Lost, as stock crm's "Lost" filter: archived, no chance left."""
        return [("active", "=", False), ("probability", "=", 0)]

    @api.model
    def _crm_won_domain(self):
        """Won, as stock crm's "Won" filter: active, in a won stage."""
        return [("active", "=", True), ("stage_id.is_won", "=", True)]

    @api.model
    def _crm_outcome_sql(self, lead_alias="lead", stage_alias="stage"):
        """SQL twins of ``_crm_won_domain`` and ``_crm_lost_domain`` for the
        report views: (won, lost) conditions on a crm_lead row ``lead_alias``
        LEFT JOINed to its crm_stage ``stage_alias``."""
        lead = SQL.identifier(lead_alias)
        stage = SQL.identifier(stage_alias)
        won = SQL("(%s.active AND COALESCE(%s.is_won, FALSE))", lead, stage)
        lost = SQL("(NOT %s.active AND %s.probability = 0)", lead, lead)
        return won, lost

    def _crm_lost_is_won(self):
        """Python twin of ``_crm_won_domain`` for one lead."""
        self.ensure_one()
        return self.active and self.stage_id.is_won

    def _crm_lost_last_loss(self):
        self.ensure_one()
        return self.loss_ids.sorted(lambda loss: (loss.lost_date, loss.id))[-1:]

    def _stage_find(self, team_id=False, domain=None, order="sequence, id", limit=1):
        """The won stages ``action_set_won`` looked up for these leads already
        (context ``crm_won_stages``), else stock's search."""
        known_ids, stage_ids = self.env.context.get("crm_won_stages") or ((), ())
        if (
            known_ids
            and known_ids == tuple(self.ids)
            and not team_id
            and domain == WON_STAGE_DOMAIN
            and order == "sequence, id"
            and limit is None
        ):
            return self.env["crm.stage"].browse(stage_ids)
        return super()._stage_find(
            team_id=team_id, domain=domain, order=order, limit=limit
        )

    def _crm_won_reason_required(self):
        """Whether the company of any of these leads (or the current company
        for leads without one) requires a won reason."""
        companies = self.company_id
        if not self or any(not lead.company_id for lead in self):
            companies |= self.env.company
        return any(companies.mapped("crm_won_reason_required"))

    def _crm_won_wizard_action(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_lost_management.crm_lead_won_action"
        )
        action["context"] = {"default_lead_ids": self.ids, "dialog_size": "medium"}
        return action

    @api.model
    def _crm_won_check_create_values(self, vals_list):
        """Leads created won may come with their win data (import, copy);
        others may not."""
        stages = self.env["crm.stage"]
        for vals in vals_list:
            self._crm_won_clean_note(vals)
            if not self._crm_won_values_given(vals):
                continue
            stage = stages.browse(vals.get("stage_id"))
            if vals.get("active", True) is False or not stage.is_won:
                raise UserError(
                    _(
                        "%(lead)s is not won: a won reason, win note or competitors "
                        "won against can only be given to a won lead or "
                        "opportunity. Create it in a won stage, or leave them "
                        "empty.",
                        lead=vals.get("name") or _("New"),
                    )
                )
        if self.env.context.get("import_file") or self.env.context.get(
            "crm_won_check_reason"
        ):
            # imports of won leads, leads created won by the web client (a card
            # added to a won column): user interfaces
            for vals in vals_list:
                company = self.env["res.company"].browse(
                    vals.get("company_id") or self.env.company.id
                )
                if (
                    vals.get("active", True) is not False
                    and stages.browse(vals.get("stage_id")).is_won
                    and not vals.get("won_reason_id")
                    and company.crm_won_reason_required
                ):
                    raise UserError(
                        _(
                            "A won reason is required to create or import %(lead)s "
                            "as won (company %(company)s). Give it a Won Reason, "
                            "or create it in another stage and mark it won.",
                            lead=vals.get("name") or _("New"),
                            company=company.name,
                        )
                    )

    @api.model
    def _crm_won_clean_note(self, vals):
        """An empty win note (the editor's ``<p><br></p>``) is no note: stored
        as such, a lead that is not won would carry one."""
        if "won_note" in vals and tools.is_html_empty(vals["won_note"] or ""):
            vals["won_note"] = False

    @api.model
    def _crm_won_values_given(self, vals):
        """Whether ``vals`` give a lead win data (not merely empty values)."""
        commands = vals.get("won_competitor_ids") or []
        return bool(
            vals.get("won_reason_id")
            or not tools.is_html_empty(vals.get("won_note") or "")
            or any(
                command[0] in (fields.Command.CREATE, fields.Command.LINK)
                or (command[0] == fields.Command.SET and command[2])
                for command in commands
                if isinstance(command, (list, tuple))
            )
        )

    def _crm_won_check_won(self, not_won):
        if not_won:
            raise UserError(
                _(
                    "%(leads)s are not won: a won reason, win note or competitors "
                    "won against can only be given to won leads and "
                    "opportunities. Mark them as won first.",
                    leads=not_won._crm_lost_names(),
                )
            )

    def _crm_won_check_reason_usable(self, vals):
        """The won reason and the competitors won against given by ``vals``
        exist and may be used for these leads (active, of their company)."""
        self._crm_won_check_competitors_usable(vals)
        if not vals.get("won_reason_id"):
            return
        reason = self.env["crm.won.reason"].browse(vals["won_reason_id"]).exists()
        if not reason:
            raise ValidationError(
                _(
                    "The won reason with ID %(id)s does not exist (it may have "
                    "been deleted). Pick an existing won reason.",
                    id=vals["won_reason_id"],
                )
            )
        errors = reason._get_usage_errors(
            self.filtered(lambda lead: lead.won_reason_id != reason)
        )
        if errors:
            raise ValidationError("\n".join(errors))

    def _crm_won_check_competitors_usable(self, vals):
        ids = set()
        for command in vals.get("won_competitor_ids") or []:
            if not isinstance(command, (list, tuple)):
                continue
            if command[0] == fields.Command.SET:
                ids.update(command[2] or [])
            elif command[0] == fields.Command.LINK:
                ids.add(command[1])
        if not ids:
            return
        competitors = self.env["crm.lost.competitor"].sudo().browse(sorted(ids))
        missing = sorted(ids - set(competitors.exists().ids))
        if missing:
            raise ValidationError(
                _(
                    "The competitor with ID %(id)s does not exist (it may have "
                    "been deleted). Pick an existing competitor.",
                    id=missing[0],
                )
            )
        known = self.mapped("won_competitor_ids")
        errors = []
        for competitor in competitors - known:
            errors += self._crm_lost_get_competitor_errors(competitor)
        if errors:
            raise ValidationError("\n".join(errors))

    def _crm_won_check_reason_given(self, vals):
        """``self``: leads won from the user interface by this write."""
        if vals.get("won_reason_id") or not self._crm_won_reason_required():
            return
        missing = self.filtered(
            lambda lead: not lead.won_reason_id and lead._crm_won_reason_required()
        )
        if missing:
            raise UserError(
                _(
                    "A won reason is required to mark %(leads)s as won. Use the "
                    "Won button, or Mark as Won in the action menu, and pick the "
                    "reason why it was won.",
                    leads=missing._crm_lost_names(),
                )
            )

    def _crm_lost_reason_required(self):
        """Whether the company of any of these leads (or the current company
        for leads without one) requires a lost reason."""
        companies = self.company_id
        if not self or any(not lead.company_id for lead in self):
            companies |= self.env.company
        return any(companies.mapped("crm_lost_reason_required"))

    def _crm_lost_kept_activities(self, activities):
        """``self``: leads being lost. Of ``activities`` (of these leads, which
        stock deletes when it archives them), those the leads keep: the
        planned activities of leads whose company keeps them (*Keep Planned
        Activities of Lost Leads*; the current company for leads without
        one), but for the stale opportunity warnings, which the loss ends."""
        if not activities:
            return activities
        keeping = set(
            self.filtered(
                lambda lead: (
                    lead.company_id or self.env.company
                ).crm_lost_keep_activities
            ).ids
        )
        warning_type = self.env.ref(
            "crm_lost_management.mail_activity_type_stale_warning",
            raise_if_not_found=False,
        )
        return activities.filtered(
            lambda activity: activity.res_model == self._name
            and activity.res_id in keeping
            and activity.active
            and activity.activity_type_id != warning_type
        )

    def _crm_lost_sparing_activities(self, archived):
        """``self``, with ``archived`` (leads it archives, that is loses)
        named in its context: stock's mail.activity.mixin deletes the planned
        activities of the records it archives, and mail.activity's ``unlink``
        spares those these leads keep (``_crm_lost_kept_activities``)."""
        if not archived:
            return self
        return self.with_context(crm_lost_archived_lead_ids=tuple(archived.ids))

    def _crm_lost_wizard_action(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm.crm_lead_lost_action"
        )
        action["context"] = {"default_lead_ids": self.ids, "dialog_size": "medium"}
        return action

    @api.model
    def _crm_lost_pop_server_values(self, vals):
        """Take Lost On / Lost By out of ``vals``: Odoo sets them when a lead
        is lost. Only a sales manager importing history (or server code as
        superuser, such as data files) may give them; the values are then
        returned, for the loss record."""
        given = {
            field_name: vals.pop(field_name)
            for field_name in SERVER_LOSS_FIELDS
            if field_name in vals
        }
        given = {key: value for key, value in given.items() if value}
        if not given:
            return {}
        lost_by = self.env["res.users"].sudo().browse(given.get("lost_by_id"))
        if lost_by and (lost_by.share or not lost_by.active):
            raise UserError(
                _(
                    "Lost By must be an active internal user (a salesperson), "
                    "not a portal, public or archived user. Give the user who "
                    "lost the deal."
                )
            )
        if not self.env.su and not (
            self.env.context.get("import_file")
            and self.env.user.has_group("sales_team.group_sale_manager")
        ):
            raise UserError(
                _(
                    "Lost On and Lost By are set by Odoo when a lead or "
                    "opportunity is marked lost. Only a sales manager importing "
                    "history can give them: remove these columns or values."
                )
            )
        return given

    @api.model
    def _crm_lost_check_active_values(self, vals, has_imported, names):
        """Leads that stay (or are created) active have no current loss:
        refuse a closing note, competitor, revisit date or imported Lost On /
        Lost By for them (the lost reason is stock's field: stock lets it be
        set beforehand, and checks it when the lead is lost)."""
        given = [
            self._fields[name].get_description(self.env)["string"]
            for name in ("lost_feedback", "lost_competitor_id", "lost_revisit_date")
            if vals.get(name)
        ]
        if has_imported:
            given += [_("Lost On"), _("Lost By")]
        if given:
            raise UserError(
                _(
                    "%(leads)s are not lost: %(fields)s can only be given to lost "
                    "leads and opportunities. Mark them lost (or import them "
                    "archived), or remove these values.",
                    leads=names,
                    fields=", ".join(given),
                )
            )

    def _crm_lost_check_no_chance(self, vals, losing):
        """``self``: leads lost, or being lost, by this write. A lost lead has
        no chance left: neither a probability nor a won stage (stock's write
        gives it 100%) until it is restored."""
        if not self:
            return
        leads = self.browse()
        if vals.get("stage_id") and (
            self.env["crm.stage"].browse(vals["stage_id"]).is_won
        ):
            # lost in a won stage is fine (archiving a won lead): entering one
            # is not
            leads |= self.filtered(lambda lead: lead.stage_id.id != vals["stage_id"])
        if vals.get("probability") and not losing:
            leads |= self
        if leads:
            raise UserError(
                _(
                    "%(leads)s are lost: a lost lead has no chance left, neither "
                    "a probability nor a won stage. Restore them (or mark them "
                    "won) first, then change their stage or probability.",
                    leads=leads._crm_lost_names(),
                )
            )

    def _crm_lost_check_reason_active(self, vals):
        """``self``: leads lost, or being lost, by this write. The reason they
        get now (given, or set beforehand on an active lead) must be active;
        a reason archived since the loss does not matter."""
        if not self:
            return
        if vals.get("lost_reason_id"):
            reasons = self.env["crm.lost.reason"].browse(vals["lost_reason_id"])
            leads = self.filtered(lambda lead: lead.lost_reason_id != reasons)
        else:
            leads = self.filtered(lambda lead: lead.active and lead.lost_reason_id)
            reasons = leads.lost_reason_id
        archived = reasons.sudo().filtered(lambda reason: not reason.active)
        if leads and archived:
            raise ValidationError(
                _(
                    "The lost reason %(reason)s is archived: %(leads)s cannot be "
                    "lost with it. Pick an active lost reason.",
                    reason=", ".join(archived.mapped("name")),
                    leads=leads._crm_lost_names(),
                )
            )

    @api.model
    def _crm_lost_check_references(self, vals_list):
        """Refuse ids of lost reasons or competitors that do not exist (RPC,
        import) with a clear error, before the database refuses them with a
        foreign key error or the reason check fails on a missing record.
        Also used by the Mark as Lost wizard, whose fields have the same
        names."""
        errors = []
        for field_name in ("lost_reason_id", "lost_competitor_id"):
            ids, wrong = set(), []
            for vals in vals_list:
                value = vals.get(field_name)
                if isinstance(value, models.BaseModel):
                    value = value.id  # a record is fine too (stock's merge)
                if not value:
                    continue
                if isinstance(value, int) and not isinstance(value, bool):
                    ids.add(value)
                else:
                    wrong.append(repr(value))
            if wrong:
                errors.append(
                    _(
                        "%(field)s: %(values)s is not the ID of a record. Give the "
                        "ID (a number) of an existing record, or False.",
                        field=self._fields[field_name].get_description(self.env)[
                            "string"
                        ],
                        values=", ".join(sorted(wrong)),
                    )
                )
            if not ids:
                continue
            comodel = self.env[self._fields[field_name].comodel_name]
            for missing_id in sorted(ids - set(comodel.browse(ids).exists().ids)):
                if field_name == "lost_reason_id":
                    errors.append(
                        _(
                            "The lost reason with ID %(id)s does not exist (it "
                            "may have been deleted). Pick an existing lost reason.",
                            id=missing_id,
                        )
                    )
                else:
                    errors.append(
                        _(
                            "The competitor with ID %(id)s does not exist (it may "
                            "have been deleted). Pick an existing competitor.",
                            id=missing_id,
                        )
                    )
        if errors:
            raise ValidationError("\n".join(errors))

    def _crm_lost_get_competitor_errors(self, competitor):
        """A competitor limited to a company can only be given to leads of
        that company (the field's check_company says it too, but only once
        the leads are written)."""
        competitor = competitor.sudo()
        if competitor and not competitor.active:
            return [
                _(
                    "The competitor %(competitor)s is archived. Pick an active "
                    "competitor.",
                    competitor=competitor.name,
                )
            ]
        if not competitor.company_id:
            return []
        foreign = self.filtered(lambda lead: lead.company_id != competitor.company_id)
        if not foreign:
            return []
        return [
            _(
                "The competitor %(competitor)s belongs to the company %(company)s: "
                "it cannot be given to %(leads)s. Pick a competitor of their "
                "company, or one shared by every company.",
                competitor=competitor.name,
                company=competitor.company_id.name,
                leads=foreign._crm_lost_names(),
            )
        ]

    @api.model
    def _crm_lost_leads_of_other_companies(self, field_name, record):
        """Leads (archived included, any user's) whose ``field_name`` is
        ``record`` but whose company is not ``record``'s: those a reason or
        competitor limited to that company would leave behind (a few, for
        the message)."""
        return (
            self.sudo()
            .with_context(active_test=False)
            .search(
                [
                    (field_name, "=", record.id),
                    ("company_id", "!=", record.company_id.id),
                ],
                limit=6,
            )
        )

    def _crm_competition_add_faced(self):
        """A deal lost to a competitor, or won against competitors, faced
        them: add those missing to the Competition tab of the leads ``self``
        (they stay there when the lead is restored or reopened)."""
        lines = []
        for lead in self.sudo():
            if not lead.active:
                competitors = lead.lost_competitor_id
            elif lead._crm_lost_is_won():
                competitors = lead.won_competitor_ids
            else:
                continue
            lines += [
                {"lead_id": lead.id, "competitor_id": competitor.id}
                for competitor in competitors - lead.competitor_line_ids.competitor_id
            ]
        # follows a write the user was allowed to make (the lead may have
        # changed salesperson in the same write)
        return self.env["crm.lead.competitor"].sudo().create(lines)

    def _crm_lost_get_assignee(self):
        """Who follows this lead up: its salesperson, or the team leader when
        the salesperson is missing or inactive."""
        self.ensure_one()
        for user in (self.user_id, self.team_id.user_id):
            if user and user.active and not user.share:
                return user
        return self.env["res.users"]

    def _crm_lost_names(self, limit=5):
        names = ", ".join(f'"{name}"' for name in self[:limit].mapped("display_name"))
        if len(self) > limit:
            names = _(
                "%(names)s and %(count)s more", names=names, count=len(self) - limit
            )
        return names

    def _action_restore(self, restore_note=False, stage=False):
        """Restore lost leads: reactivate them (closing their open loss record),
        record the note and move them to ``stage``, or back to the stage they
        were lost in (before reactivating them when it is not a won stage,
        after when it is)."""
        not_lost = self.filtered("active")
        if not_lost:
            raise UserError(
                _(
                    "Only lost leads and opportunities can be restored; %(leads)s "
                    "are not lost. Remove them from the selection.",
                    leads=not_lost._crm_lost_names(),
                )
            )
        losses = self.env["crm.lead.loss"]._open_losses(self)
        # where they go: ``stage``, or back to the stage they were lost in
        by_stage = defaultdict(lambda: self.browse())
        if stage:
            by_stage[stage] = self.filtered(lambda lead: lead.stage_id != stage)
        else:
            for loss in losses.filtered("stage_id"):
                if loss.lead_id.stage_id != loss.stage_id:
                    by_stage[loss.stage_id] |= loss.lead_id
        if self.env.context.get("crm_won_check_reason"):
            # from the user interface, all or nothing: leads won by the
            # restore need a won reason (those restored into the won stage
            # they were lost in get back the one of their last win)
            moved = self.browse().union(*by_stage.values())
            in_place = (self - moved).filtered(lambda lead: lead.stage_id.is_won)
            for leads, values in in_place._crm_won_restored_values():
                if values["won_reason_id"]:
                    in_place -= leads
            to_won = self.browse().union(
                *(leads for target, leads in by_stage.items() if target.is_won)
            )
            (in_place | to_won)._crm_won_check_reason_given({})
        for target, leads in by_stage.items():
            if not target.is_won:
                # moved before they are restored: a lead lost from a won stage
                # is not won for a moment
                leads.write({"stage_id": target.id})
        self.action_unarchive()
        if restore_note:
            losses.write({"restore_note": restore_note})
        for target, leads in by_stage.items():
            if target.is_won:
                leads.write({"stage_id": target.id})
        return True

    def _crm_lost_lock(self):
        """Lock the rows of leads about to be lost or restored, in id order
        (two batches sharing leads lock them in the same order).

        Another transaction that lost or restored one of them since this one
        started then makes this fail at once with a serialization failure,
        which Odoo's RPC layer retries; one still running makes this wait for
        its end first. Without the lock, the loss record of a lead lost twice
        at the same moment would be inserted before the lead is updated and
        fail on the one-open-loss constraint instead: an integrity error,
        never retried."""
        ids = sorted(id_ for id_ in self._ids if isinstance(id_, int))
        for sub_ids in self.env.cr.split_for_in_conditions(ids):
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM %s WHERE id IN %s ORDER BY id FOR NO KEY UPDATE",
                    SQL.identifier(self._table),
                    sub_ids,
                )
            )
