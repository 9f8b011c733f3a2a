# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo.tools import SQL, split_every


def post_init_hook(env):
    """Give leads lost before the installation their current-loss fields and
    an open loss record, so that history and reports start complete."""
    env.cr.execute(
        SQL(
            """
            UPDATE crm_lead
               SET lost_date = COALESCE(date_closed, write_date, create_date),
                   lost_by_id = write_uid
             WHERE active IS NOT TRUE AND lost_date IS NULL
            RETURNING id
            """
        )
    )
    lead_ids = [row[0] for row in env.cr.fetchall()]
    env["crm.lead"].invalidate_model(["lost_date", "lost_by_id"])
    Lead = env["crm.lead"].with_context(active_test=False)
    for ids in split_every(1000, lead_ids):
        Lead.browse(ids)._crm_lost_open_losses()
