# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import _, api, fields, models
from odoo.exceptions import AccessError


class CrmLostSettings(models.TransientModel):
    """The lost settings of a company, for sales managers (Odoo's settings
    page is for administrators only)."""

    _name = "crm.lost.settings"
    _description = "Lost Settings"

    company_id = fields.Many2one(
        "res.company",
        string="Company",
        required=True,
        default=lambda self: self.env.company,
        domain=lambda self: [("id", "in", self.env.companies.ids)],
    )
    crm_lost_reason_required = fields.Boolean(
        "Lost Reason Required",
        compute="_compute_crm_lost_reason_required",
        store=True,
        readonly=False,
        help="Marking a lead or opportunity as lost from the user interface asks "
        "for a lost reason.",
    )

    crm_won_reason_required = fields.Boolean(
        "Won Reason Required",
        compute="_compute_crm_won_reason_required",
        store=True,
        readonly=False,
        help="Marking a lead or opportunity as won from the user interface asks "
        "for a won reason.",
    )
    crm_lost_keep_activities = fields.Boolean(
        "Keep Planned Activities of Lost Leads",
        compute="_compute_crm_lost_keep_activities",
        store=True,
        readonly=False,
        help="Lost leads and opportunities keep their planned activities "
        "(standard Odoo deletes them).",
    )

    @api.depends("company_id")
    def _compute_crm_lost_reason_required(self):
        for settings in self:
            settings.crm_lost_reason_required = (
                settings.company_id.crm_lost_reason_required
            )

    @api.depends("company_id")
    def _compute_crm_won_reason_required(self):
        for settings in self:
            settings.crm_won_reason_required = (
                settings.company_id.crm_won_reason_required
            )

    @api.depends("company_id")
    def _compute_crm_lost_keep_activities(self):
        for settings in self:
            settings.crm_lost_keep_activities = (
                settings.company_id.crm_lost_keep_activities
            )

    @api.readonly
    def onchange(self, values, field_names, fields_spec):
        """The company's settings only read: with a read replica
        (``--db_replica_host``), opening the dialog is served by it; *Save*
        runs on the primary."""
        return super().onchange(values, field_names, fields_spec)

    def action_save(self):
        for settings in self:
            if settings.company_id not in self.env.user.company_ids:
                raise AccessError(
                    _(
                        "You cannot change the lost settings of %(company)s: you "
                        "do not work for that company.",
                        company=settings.company_id.sudo().name,
                    )
                )
            # managers may not write companies: the access rights of this
            # model (sales managers only) are the check
            settings.company_id.sudo().write(
                {
                    "crm_lost_reason_required": settings.crm_lost_reason_required,
                    "crm_won_reason_required": settings.crm_won_reason_required,
                    "crm_lost_keep_activities": settings.crm_lost_keep_activities,
                }
            )
        return {"type": "ir.actions.act_window_close"}
