# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo import fields, models


class MergeOpportunity(models.TransientModel):
    _inherit = "crm.merge.opportunity"

    # lost (archived) records of the selection stay in it: an x2many hides
    # archived records, so stock's Merge silently left them out (their loss
    # history then goes to the record they are merged into)
    opportunity_ids = fields.Many2many(context={"active_test": False})
