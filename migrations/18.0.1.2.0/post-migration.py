# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.1.0 -> 18.0.1.2.0: wins are recorded like losses.

Leads won before the upgrade get their open win record (dated when they were
closed), so that the win history and the Win/Loss report by outcome reason
start complete.
"""

from odoo import SUPERUSER_ID, api

from odoo.addons.crm_lost_management.hooks import record_won_leads


def migrate(cr, version):
    if not version:
        return
    env = api.Environment(cr, SUPERUSER_ID, {})
    record_won_leads(env)
