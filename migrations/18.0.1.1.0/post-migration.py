# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.0.0 -> 18.0.1.1.0: one owner for the lost state.

- A lost lead has no chance left: archived leads get probability 0 (stock's
  "Lost" filter; 18.0.1.0.0 did not force it on every path).
- Exactly one open loss per lost lead, none per active lead: leads archived
  or unarchived outside Odoo (SQL) get their loss opened or closed.
- ``crm.lead.lost_date``/``lost_by_id`` read the open loss. 18.0.1.0.0 let
  an import or RPC call change them on a lost lead without its loss record,
  and store them on active leads: the lead's values, the ones users see and
  gave, go to its open loss; active leads lose theirs.
- ``crm.lead.loss.state`` is computed from the lead (a restored lead now in a
  won stage is "won back"), ``crm.lead.loss.company_id`` follows the lead:
  recompute them on existing rows.
"""

from odoo import SUPERUSER_ID, api
from odoo.tools import SQL

from odoo.addons.crm_lost_management.hooks import record_lost_leads


def migrate(cr, version):
    if not version:
        return
    # active leads have no open loss: close those of leads unarchived by SQL
    cr.execute(
        SQL(
            """
            UPDATE crm_lead_loss loss
               SET restored_date = GREATEST(
                       loss.lost_date, COALESCE(lead.write_date, loss.lost_date)
                   ),
                   state = 'recovered'
              FROM crm_lead lead
             WHERE lead.id = loss.lead_id
               AND lead.active
               AND loss.state = 'lost'
            """
        )
    )
    # the lead's Lost On / Lost By, when given, are the ones of its open loss
    cr.execute(
        SQL(
            """
            UPDATE crm_lead_loss loss
               SET lost_date = COALESCE(lead.lost_date, loss.lost_date),
                   lost_by_id = COALESCE(lead.lost_by_id, loss.lost_by_id)
              FROM crm_lead lead
             WHERE lead.id = loss.lead_id
               AND lead.active IS NOT TRUE
               AND loss.state = 'lost'
               AND (lead.lost_date != loss.lost_date
                    OR lead.lost_by_id IS DISTINCT FROM loss.lost_by_id)
            """
        )
    )
    env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
    env.invalidate_all()
    # archived leads have probability 0; those without an open loss
    # (archived by SQL) get it, as at installation
    record_lost_leads(env)
    Lead = env["crm.lead"]
    Loss = env["crm.lead.loss"]
    losses = Loss.search([])
    env.add_to_compute(Loss._fields["state"], losses)
    env.add_to_compute(Loss._fields["company_id"], losses)
    leads = Lead.search(
        [
            "|",
            "|",
            ("active", "=", False),
            ("lost_date", "!=", False),
            ("lost_by_id", "!=", False),
        ]
    )
    env.add_to_compute(Lead._fields["lost_date"], leads)
    env.add_to_compute(Lead._fields["lost_by_id"], leads)
    env.flush_all()
