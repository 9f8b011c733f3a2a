# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.0.0 -> 18.0.1.1.0: one owner for the lost state.

- A lost lead has no chance left: archived leads get probability 0 (stock's
  "Lost" filter; 18.0.1.0.0 did not force it on every path).
- ``crm.lead.loss.state`` is computed from the lead (a restored lead now in a
  won stage is "won back"), ``crm.lead.loss.company_id`` follows the lead,
  ``crm.lead.lost_date``/``lost_by_id`` read the open loss: recompute them on
  existing rows.
"""

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL


def migrate(cr, version):
    if not version:
        return
    cr.execute(
        SQL(
            """
            UPDATE crm_lead
               SET probability = 0, automated_probability = 0
             WHERE active IS NOT TRUE AND probability != 0
            """
        )
    )
    env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
    Loss = env["crm.lead.loss"]
    losses = Loss.search([])
    env.add_to_compute(Loss._fields["state"], losses)
    env.add_to_compute(Loss._fields["company_id"], losses)
    Lead = env["crm.lead"]
    lost = Lead.search([("active", "=", False)])
    env.add_to_compute(Lead._fields["lost_date"], lost)
    env.add_to_compute(Lead._fields["lost_by_id"], lost)
    env.flush_all()
