# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import logging
from datetime import timedelta

from markupsafe import Markup

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import split_every

from .cron_progress import commit_cron_progress

_logger = logging.getLogger(__name__)

# messages that show someone worked on an opportunity: a note or an email
# logged, or a done activity (its feedback message carries the activity type)
WORK_MESSAGE_TYPES = ("comment", "email", "email_outgoing")


class CrmTeam(models.Model):
    _inherit = "crm.team"

    stale_lost_days = fields.Integer(
        "Mark Stale Lost After (Days)",
        default=0,
        help="Opportunities of this team without any activity for this many days "
        "are stale: they are marked lost automatically. 0: never.",
    )
    stale_lost_reason_id = fields.Many2one(
        "crm.lost.reason",
        string="Stale Lost Reason",
        help="Lost reason given to stale opportunities marked lost.",
    )
    stale_lost_reason_ids = fields.Many2many(
        "crm.lost.reason",
        string="Usable Stale Lost Reasons",
        compute="_compute_stale_lost_reason_ids",
    )
    stale_warning_days = fields.Integer(
        "Warn Before (Days)",
        default=3,
        help="Schedule a warning activity for the salesperson this many days "
        "before a stale opportunity is marked lost. 0: no warning.",
    )

    @api.depends("company_id")
    def _compute_stale_lost_reason_ids(self):
        """Reasons the stale job may use: those that apply to the team's
        opportunities (crm.lost.reason's rules) and need no competitor."""
        Reason = self.env["crm.lost.reason"].sudo()
        for team in self:
            opportunity = self.env["crm.lead"].new(
                {
                    "type": "opportunity",
                    "team_id": team._origin.id,
                    "company_id": team.company_id.id,
                }
            )
            team.stale_lost_reason_ids = Reason.search(
                [
                    *Reason._get_usable_domain(opportunity),
                    ("competitor_required", "=", False),
                ]
            )

    @api.constrains(
        "stale_lost_days", "stale_lost_reason_id", "stale_warning_days", "company_id"
    )
    def _check_stale_settings(self):
        for team in self:
            if team.stale_lost_days < 0 or team.stale_warning_days < 0:
                raise ValidationError(
                    _(
                        "Team %(team)s: the stale delays cannot be negative.",
                        team=team.name,
                    )
                )
            if not team.stale_lost_days:
                continue
            reason = team.stale_lost_reason_id
            if not reason:
                raise ValidationError(
                    _(
                        "Team %(team)s marks stale opportunities lost after "
                        "%(days)s days: choose the lost reason to give them.",
                        team=team.name,
                        days=team.stale_lost_days,
                    )
                )
            if reason not in team.stale_lost_reason_ids:
                raise ValidationError(
                    _(
                        "Team %(team)s cannot use the lost reason %(reason)s for "
                        "stale opportunities: it must be active, apply to this "
                        "team's opportunities and not ask for a competitor.",
                        team=team.name,
                        reason=reason.name,
                    )
                )
            if team.stale_warning_days >= team.stale_lost_days:
                raise ValidationError(
                    _(
                        "Team %(team)s: warn fewer days (%(warn)s) before marking "
                        "lost than the stale delay (%(days)s).",
                        team=team.name,
                        warn=team.stale_warning_days,
                        days=team.stale_lost_days,
                    )
                )

    # ------------------------------------------------------------
    # ACTIONS
    # ------------------------------------------------------------

    @api.readonly
    def action_open_stale_opportunities(self):
        """Preview: the opportunities the daily job would mark lost now."""
        self.ensure_one()
        leads = self._get_stale_opportunities()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm.crm_lead_action_pipeline"
        )
        action.update(
            {
                "name": _("Stale Opportunities: %(team)s", team=self.name),
                "domain": [("id", "in", leads.ids)],
                "view_mode": "list,form",
                "views": [(False, "list"), (False, "form")],
                "context": {"create": False},
            }
        )
        return action

    # ------------------------------------------------------------
    # BUSINESS
    # ------------------------------------------------------------

    def _get_stale_domain(self, days):
        """Opportunities of this team stale for at least ``days`` days.

        Stale means, for the whole period: no stage change
        (``date_last_stage_update``), no creation, no note or email logged
        and no activity done (messages), and no activity planned other than
        the stale warning itself."""
        self.ensure_one()
        cutoff = fields.Datetime.now() - timedelta(days=days)
        warning_type = self.env.ref(
            "crm_lost_management.mail_activity_type_stale_warning",
            raise_if_not_found=False,
        )
        return [
            ("team_id", "=", self.id),
            ("type", "=", "opportunity"),
            ("active", "=", True),
            ("probability", "<", 100),
            ("stage_id.is_won", "=", False),
            ("create_date", "<", cutoff),
            "|",
            ("date_last_stage_update", "=", False),
            ("date_last_stage_update", "<", cutoff),
            (
                "activity_ids",
                "not any",
                [("activity_type_id", "!=", warning_type.id if warning_type else 0)],
            ),
            (
                "message_ids",
                "not any",
                [
                    ("date", ">=", cutoff),
                    "|",
                    ("message_type", "in", WORK_MESSAGE_TYPES),
                    ("mail_activity_type_id", "!=", False),
                ],
            ),
        ]

    def _get_stale_opportunities(self, limit=None, among=None):
        """The team's stale opportunities (of the ids ``among``, if given)."""
        self.ensure_one()
        if not self.stale_lost_days or not self.active:
            return self.env["crm.lead"]
        domain = self._get_stale_domain(self.stale_lost_days)
        if among is not None:
            domain = [("id", "in", list(among)), *domain]
        return (
            self.env["crm.lead"]
            .with_company(self.company_id or self.env.company)
            .search(domain, limit=limit)
        )

    def _get_stale_warning_opportunities(self, limit=None, among=None):
        """Opportunities entering the warning window, not warned yet (of the
        ids ``among``, if given)."""
        self.ensure_one()
        if not self.stale_lost_days or not self.stale_warning_days or not self.active:
            return self.env["crm.lead"]
        warning_type = self.env.ref(
            "crm_lost_management.mail_activity_type_stale_warning"
        )
        domain = [
            *self._get_stale_domain(self.stale_lost_days - self.stale_warning_days),
            ("activity_ids", "not any", [("activity_type_id", "=", warning_type.id)]),
        ]
        if among is not None:
            domain = [("id", "in", list(among)), *domain]
        leads = (
            self.env["crm.lead"]
            .with_company(self.company_id or self.env.company)
            .search(domain, limit=limit)
        )
        # those stale for the whole delay are marked lost, not warned
        return leads - self._get_stale_opportunities(among=among)

    def _stale_mark_lost(self, leads):
        """Lose ``leads`` through the normal lost path, as the system user."""
        self.ensure_one()
        note = Markup("<p>%s</p>") % _(
            "Marked lost automatically: no activity for %(days)s days "
            "(sales team %(team)s).",
            days=self.stale_lost_days,
            team=self.name,
        )
        leads.with_user(SUPERUSER_ID).with_context(
            crm_lost_automatic=True
        ).action_set_lost(
            lost_reason_id=self.stale_lost_reason_id.id, lost_feedback=note
        )

    def _stale_warn(self, leads):
        """Plan the warning activity of stale ``leads``, in one create."""
        self.ensure_one()
        deadline = fields.Date.context_today(self) + timedelta(
            days=self.stale_warning_days
        )
        activity_type = self.env.ref(
            "crm_lost_management.mail_activity_type_stale_warning"
        )
        model_id = self.env["ir.model"]._get_id("crm.lead")
        note = _(
            "No activity for %(days)s days: this opportunity will be marked "
            "lost on %(date)s unless something happens on it.",
            days=self.stale_lost_days - self.stale_warning_days,
            date=deadline,
        )
        self.env["mail.activity"].create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": lead.id,
                    "activity_type_id": activity_type.id,
                    "summary": _("Stale opportunity: will be marked lost"),
                    "note": note,
                    "automated": True,
                    "date_deadline": deadline,
                    "user_id": assignee.id,
                }
                for lead in leads
                if (assignee := lead._crm_lost_get_assignee())
            ]
        )

    @api.model
    def _cron_lose_stale_opportunities(self, batch_size=200):
        """Daily: warn about, then mark lost, stale opportunities of every active
        team that asks for it, team by team with the team's own settings and
        company. Commits after each batch, so that a crash loses nothing and
        the next run (or the cron's automatic rerun) continues.

        Each batch is searched again just before it is processed: a run over
        many records lasts long, and meanwhile salespeople work on some of
        them (a note, a stage, lost or won by hand) or another run (Run
        Manually) processed them. Only those still stale are warned or lost,
        once; a lead changed by a transaction running at the same moment
        makes the batch fail on its row lock and the cron run again."""
        teams = self.search([("stale_lost_days", ">", 0)])
        todo = []
        for team in teams:
            team = team.with_company(team.company_id or self.env.company)
            todo.append(
                (
                    team,
                    team._stale_warn,
                    team._get_stale_warning_opportunities,
                    team._get_stale_warning_opportunities().ids,
                )
            )
            todo.append(
                (
                    team,
                    team._stale_mark_lost,
                    team._get_stale_opportunities,
                    team._get_stale_opportunities().ids,
                )
            )
        remaining = sum(len(ids) for *_rest, ids in todo)
        done = 0
        for team, method, get_leads, all_ids in todo:
            for position, ids in enumerate(split_every(batch_size, all_ids)):
                try:
                    with self.env.cr.savepoint():
                        leads = get_leads(among=ids)
                        if leads:
                            method(leads)
                except (UserError, ValidationError) as error:
                    # a setting made invalid since (e.g. its reason archived)
                    # stops this team only, not every other team's job
                    _logger.warning(
                        "Stale opportunities of team %s (#%s) left open: %s",
                        team.name,
                        team.id,
                        error,
                    )
                    remaining -= len(all_ids) - position * batch_size
                    break
                done, remaining = done + len(leads), remaining - len(ids)
                commit_cron_progress(self.env, done, remaining)
        _logger.info("Stale opportunities: %s processed", done)
        self.env["ir.cron"]._notify_progress(done=done, remaining=0)
