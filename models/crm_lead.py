# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from collections import defaultdict
from datetime import timedelta

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

# lead field -> loss record field: the editable part of the current loss,
# copied onto the open loss record whenever it changes on a lost lead.
LOSS_SYNC_FIELDS = {
    "lost_reason_id": "lost_reason_id",
    "lost_feedback": "closing_note",
    "lost_competitor_id": "competitor_id",
    "lost_revisit_date": "revisit_date",
}
# cleared on the lead when it is restored
CURRENT_LOSS_FIELDS = ["lost_date", "lost_by_id", *LOSS_SYNC_FIELDS]


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # Current loss (empty unless lost)
    # not tracked: the lost message of the chatter already tells who and when
    lost_date = fields.Datetime(
        "Lost On", readonly=True, copy=False, index="btree_not_null"
    )
    lost_by_id = fields.Many2one(
        "res.users", string="Lost By", readonly=True, copy=False
    )
    lost_feedback = fields.Html("Closing Note", sanitize=True, copy=False)
    lost_note = fields.Text(
        "Closing Note (Text)", compute="_compute_lost_note", store=True, copy=False
    )
    lost_competitor_id = fields.Many2one(
        "crm.lost.competitor",
        string="Lost to Competitor",
        copy=False,
        index="btree_not_null",
        tracking=True,
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
    # History
    loss_ids = fields.One2many("crm.lead.loss", "lead_id", string="Loss History")
    loss_count = fields.Integer("Losses", compute="_compute_loss_count")

    @api.depends("lost_feedback")
    def _compute_lost_note(self):
        for lead in self:
            lead.lost_note = (
                tools.html2plaintext(lead.lost_feedback).strip()
                if not tools.is_html_empty(lead.lost_feedback)
                else False
            )

    @api.depends("lost_reason_id")
    def _compute_lost_revisit_date(self):
        for lead in self:
            days = lead.lost_reason_id.reengage_after_days
            if not lead.lost_reason_id:
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

    @api.constrains("lost_reason_id")
    def _check_lost_reason_policy(self):
        """A lost reason given to a lost lead (API included) must be active,
        apply to the lead and come with what it requires."""
        self._crm_lost_check_policy(check_reason=True)

    @api.constrains("lost_feedback", "lost_competitor_id")
    def _check_lost_reason_requirements(self):
        """Editing a lost lead later keeps what its reason requires, even when
        the reason was archived or restricted since."""
        self._crm_lost_check_policy(check_reason=False)

    def _crm_lost_check_policy(self, check_reason):
        lost = self.filtered(lambda lead: not lead.active and lead.lost_reason_id)
        errors = []
        for reason in lost.lost_reason_id:
            leads = lost.filtered(
                lambda lead, reason=reason: lead.lost_reason_id == reason
            )
            errors += leads._get_lost_policy_errors(reason, check_reason=check_reason)
        if errors:
            raise ValidationError("\n".join(errors))

    # ------------------------------------------------------------
    # ORM
    # ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        self._crm_lost_check_references(vals_list)
        leads = super().create(vals_list)
        # created lost (import of lost leads, copy of a lost lead): record it
        lost = leads.filtered(lambda lead: not lead.active)
        if lost:
            undated = lost.filtered(lambda lead: not lead.lost_date)
            if undated:
                undated.write(
                    {"lost_date": fields.Datetime.now(), "lost_by_id": self.env.uid}
                )
            lost._crm_lost_open_losses()
        return leads

    def write(self, vals):
        self._crm_lost_check_references([vals])
        if "active" not in vals:
            result = super().write(vals)
            self._crm_lost_after_write(vals)
            return result
        restoring = bool(vals["active"])
        changing = self.filtered(lambda lead: lead.active != restoring)
        if not changing:
            result = super().write(vals)
            self._crm_lost_after_write(vals)
            return result
        changing._crm_lost_lock()
        if restoring:
            extra = dict.fromkeys(CURRENT_LOSS_FIELDS, False)
        else:
            # as stock's toggle_active: a lost lead has no chance left, and
            # stock's "Lost" filter wants probability 0
            extra = {
                "lost_date": fields.Datetime.now(),
                "lost_by_id": self.env.uid,
                "probability": 0,
                "automated_probability": 0,
            }
        result = True
        others = self - changing
        if others:
            result = super(CrmLead, others).write(vals)
            others._crm_lost_after_write(vals)
        result = super(CrmLead, changing).write({**extra, **vals}) and result
        if restoring:
            changing._crm_lost_close_losses()
            if (
                not self.env.context.get("_crm_lost_toggle")
                and "probability" not in vals
            ):
                changing._compute_probabilities()
            changing._crm_lost_after_write(vals)
        else:
            changing._crm_lost_open_losses()
        return result

    def toggle_active(self):
        # stock recomputes probabilities of restored leads itself
        result = super(
            CrmLead, self.with_context(_crm_lost_toggle=True)
        ).toggle_active()
        # action_archive, action_unarchive, action_set_lost and the Mark as
        # Lost wizard return this: None cannot be sent over XML-RPC, whose
        # clients would get a fault for a change that was committed
        return True if result is None else result

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    def action_set_lost(self, **additional_values):
        """Keep the stock API; values prepared by the Mark as Lost wizard
        (closing note, competitor, revisit date) travel in the context."""
        wizard_values = self.env.context.get("crm_lost_values")
        leads = self
        if wizard_values:
            additional_values = {**wizard_values, **additional_values}
            leads = self.with_context(crm_lost_values=False)
        return super(CrmLead, leads).action_set_lost(**additional_values)

    def action_archive_or_mark_lost(self):
        """Archive entry of the web client's action menu: when a lost reason is
        required, ask for it with the Mark as Lost wizard instead of archiving
        silently."""
        to_lose = self.filtered("active")
        if to_lose and to_lose._crm_lost_reason_required():
            return to_lose._crm_lost_wizard_action()
        return self.action_archive()

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
        """Bring a lost lead back now: restore it and plan the revisit
        activity for today."""
        losses = self._crm_lost_open_loss_records()
        self._action_restore(restore_note=_("Revisited"))
        activity_type = self.env.ref(
            "crm_lost_management.mail_activity_type_revisit_lost"
        )
        today = fields.Date.context_today(self)
        # a revisit the daily job planned already is moved to today, not doubled
        planned = losses.revisit_activity_id.exists()
        planned.write({"date_deadline": today})
        for lead in self - planned.mapped(
            lambda activity: self.browse(activity.res_id)
        ):
            lead.activity_schedule(
                activity_type_id=activity_type.id,
                date_deadline=today,
                summary=_("Revisit lost deal"),
                user_id=(lead._crm_lost_get_assignee() or self.env.user).id,
            )
        losses.write({"revisit_scheduled": True})
        return True

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

    def crm_lost_archive_needs_reason(self):
        """Archive entry of the action menus of the lead views (js_class
        crm_lost_list, crm_lost_form): whether archiving these leads must go
        through the Mark as Lost wizard (``action_archive_or_mark_lost``)
        instead of stock's confirmation. Changes nothing."""
        to_lose = self.filtered("active")
        return bool(to_lose) and to_lose._crm_lost_reason_required()

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _crm_lost_reason_required(self):
        """Whether the company of any of these leads (or the current company
        for leads without one) requires a lost reason."""
        companies = self.company_id
        if not self or any(not lead.company_id for lead in self):
            companies |= self.env.company
        return any(companies.mapped("crm_lost_reason_required"))

    def _crm_lost_wizard_action(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm.crm_lead_lost_action"
        )
        action["context"] = {"default_lead_ids": self.ids, "dialog_size": "medium"}
        return action

    def _get_lost_policy_errors(
        self, reason, feedback=None, competitor=None, check_reason=True
    ):
        """Check that ``reason`` may be used to lose the leads of ``self``.

        :param reason: crm.lost.reason record
        :param feedback: closing note given for all leads; None reads each
            lead's own ``lost_feedback``
        :param competitor: crm.lost.competitor given for all leads; None reads
            each lead's own ``lost_competitor_id``
        :param check_reason: also check that the reason is active and applies
            to the leads (False: only what it requires, note and competitor)
        :return: list of messages naming the offending records and the fix
        """
        # a reason of another company is out of the user's reach (record
        # rule): explain why it cannot be used instead of an access error
        reason = reason.sudo()
        errors = []
        if check_reason:
            errors += self._get_lost_reason_errors(reason)
        errors += self._get_lost_requirement_errors(reason, feedback, competitor)
        return errors

    def _get_lost_reason_errors(self, reason):
        errors = []
        if not reason.active:
            errors.append(
                _(
                    "The lost reason %(reason)s is archived. Pick an active lost "
                    "reason.",
                    reason=reason.name,
                )
            )
        for leads, why in reason._get_inapplicable_leads(self):
            errors.append(
                _(
                    "The lost reason %(reason)s cannot be used for %(leads)s: "
                    "%(why)s. Pick another lost reason.",
                    reason=reason.name,
                    leads=leads._crm_lost_names(),
                    why=why,
                )
            )
        return errors

    def _get_lost_requirement_errors(self, reason, feedback=None, competitor=None):
        errors = []
        if reason.note_required:
            if feedback is None:
                missing = self.filtered(
                    lambda lead: self._crm_lost_is_note_empty(lead.lost_feedback)
                )
            else:
                missing = (
                    self if self._crm_lost_is_note_empty(feedback) else self.browse()
                )
            if missing:
                errors.append(
                    _(
                        "The lost reason %(reason)s requires a closing note for "
                        "%(leads)s. Explain what went wrong in the closing note.",
                        reason=reason.name,
                        leads=missing._crm_lost_names(),
                    )
                )
        if reason.competitor_required:
            if competitor is None:
                missing = self.filtered(lambda lead: not lead.lost_competitor_id)
            else:
                missing = self if not competitor else self.browse()
            if missing:
                errors.append(
                    _(
                        "The lost reason %(reason)s requires the competitor who "
                        "won %(leads)s. Select the competitor.",
                        reason=reason.name,
                        leads=missing._crm_lost_names(),
                    )
                )
        return errors

    @api.model
    def _crm_lost_check_references(self, vals_list):
        """Refuse ids of lost reasons or competitors that do not exist (RPC,
        import) with a clear error, before the database refuses them with a
        foreign key error or the reason check fails on a missing record.
        Also used by the Mark as Lost wizard, whose fields have the same
        names."""
        errors = []
        for field_name in ("lost_reason_id", "lost_competitor_id"):
            ids = {
                vals[field_name]
                for vals in vals_list
                if vals.get(field_name) and isinstance(vals[field_name], int)
            }
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

    @api.model
    def _crm_lost_is_note_empty(self, note):
        """Whether a closing note leaves nothing to read: an empty editor, but
        also non-breaking spaces or markup that shows no text once sanitized
        (an empty image or svg...)."""
        return tools.is_html_empty(note) or not tools.html2plaintext(note).strip()

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
        then record the note and move them to ``stage``, or back to the stage
        they were lost in."""
        not_lost = self.filtered("active")
        if not_lost:
            raise UserError(
                _(
                    "Only lost leads and opportunities can be restored; %(leads)s "
                    "are not lost. Remove them from the selection.",
                    leads=not_lost._crm_lost_names(),
                )
            )
        losses = self._crm_lost_open_loss_records()
        self.action_unarchive()
        if restore_note:
            losses.write({"restore_note": restore_note})
        if stage:
            self.filtered(lambda lead: lead.stage_id != stage).write(
                {"stage_id": stage.id}
            )
        else:
            by_stage = defaultdict(lambda: self.browse())
            for loss in losses.filtered("stage_id"):
                if loss.lead_id.stage_id != loss.stage_id:
                    by_stage[loss.stage_id] |= loss.lead_id
            for loss_stage, leads in by_stage.items():
                leads.write({"stage_id": loss_stage.id})
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

    def _crm_lost_open_loss_records(self):
        return (
            self.env["crm.lead.loss"]
            .sudo()
            .search([("lead_id", "in", self.ids), ("state", "=", "lost")])
        )

    def _crm_lost_prepare_loss_values(self):
        self.ensure_one()
        currency = self.company_id.currency_id or self.env.company.currency_id
        days_open = 0
        if self.create_date and self.lost_date:
            days_open = max((self.lost_date - self.create_date).days, 0)
        return {
            "lead_id": self.id,
            "lost_date": self.lost_date,
            "lost_by_id": self.lost_by_id.id,
            "user_id": self.user_id.id,
            "team_id": self.team_id.id,
            "company_id": self.company_id.id,
            "partner_id": self.partner_id.id,
            "stage_id": self.stage_id.id,
            "lead_type": self.type,
            "lost_reason_id": self.lost_reason_id.id,
            "closing_note": self.lost_feedback,
            "competitor_id": self.lost_competitor_id.id,
            "expected_revenue": self.expected_revenue,
            "currency_id": currency.id,
            "days_open": days_open,
            "revisit_date": self.lost_revisit_date,
            "is_automatic": bool(self.env.context.get("crm_lost_automatic")),
        }

    def _crm_lost_open_losses(self):
        """Create the loss records of leads that were just lost."""
        Loss = self.env["crm.lead.loss"].sudo()
        # pending restores must reach the database before the exclusion
        # constraint checks the new open losses
        Loss.flush_model(["state"])
        Loss.create([lead._crm_lost_prepare_loss_values() for lead in self])

    def _crm_lost_close_losses(self):
        """Mark the open loss records of leads that were just restored."""
        self._crm_lost_open_loss_records().write(
            {
                "state": "recovered",
                "restored_date": fields.Datetime.now(),
                "restored_by_id": self.env.uid,
            }
        )

    def _crm_lost_after_write(self, vals):
        """Keep loss records in line with a write that did not lose or
        restore: copy edited loss fields onto open losses, and turn the last
        loss of a restored lead that is now won into "won back"."""
        if LOSS_SYNC_FIELDS.keys() & vals.keys():
            lost = self.filtered(lambda lead: not lead.active)
            if lost:
                self._crm_lost_sync_open_losses(lost)
        if vals.get("stage_id"):
            self._crm_lost_mark_won_back()

    def _crm_lost_sync_open_losses(self, lost):
        by_values = defaultdict(lambda: self.env["crm.lead.loss"].sudo())
        for loss in lost._crm_lost_open_loss_records():
            lead = loss.lead_id
            values = tuple(
                (loss_field, lead[lead_field])
                for lead_field, loss_field in LOSS_SYNC_FIELDS.items()
            )
            by_values[values] |= loss
        for values, losses in by_values.items():
            losses.write(
                {
                    field: value.id if isinstance(value, models.BaseModel) else value
                    for field, value in values
                }
            )

    def _crm_lost_mark_won_back(self):
        """Leads restored after a loss and now in a won stage: their last loss
        becomes "won back" (stock's won: active, in a won stage)."""
        losses = (
            self.env["crm.lead.loss"]
            .sudo()
            .search(
                [("lead_id", "in", self.ids)],
                order="lead_id, lost_date desc, id desc",
            )
        )
        last_losses = self.env["crm.lead.loss"].sudo()
        seen = set()
        for loss in losses:
            if loss.lead_id.id not in seen:
                seen.add(loss.lead_id.id)
                last_losses |= loss
        last_losses.filtered(
            lambda loss: loss.state == "recovered"
            and loss.lead_id.active
            and loss.lead_id.stage_id.is_won
        ).write({"state": "won_back"})
