# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    crm_lost_reason_required = fields.Boolean(
        "Lost Reason Required",
        default=True,
        help="Leads and opportunities of this company can only be marked lost "
        "from the user interface with a lost reason.",
    )
    crm_won_reason_required = fields.Boolean(
        "Won Reason Required",
        default=False,
        help="Leads and opportunities of this company can only be marked won "
        "from the user interface with a won reason: the Won button and the "
        "pipeline ask for it.",
    )
    crm_lost_keep_activities = fields.Boolean(
        "Keep Planned Activities of Lost Leads",
        default=True,
        help="Leads and opportunities of this company keep their planned "
        "activities when they are lost, and still have them when restored. "
        "Disabled: losing a lead deletes its planned activities, as in "
        "standard Odoo.",
    )
