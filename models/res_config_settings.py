# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    crm_lost_reason_required = fields.Boolean(
        related="company_id.crm_lost_reason_required", readonly=False
    )
    crm_won_reason_required = fields.Boolean(
        related="company_id.crm_won_reason_required", readonly=False
    )
    crm_lost_keep_activities = fields.Boolean(
        related="company_id.crm_lost_keep_activities", readonly=False
    )
