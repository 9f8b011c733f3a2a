# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo.tools import SQL, split_every


def post_init_hook(env):
    """Give leads lost before the installation an open loss record, dated
    when they were closed, so that history and reports start complete."""
    env.cr.execute(
        SQL(
            """
            UPDATE crm_lead
               SET probability = 0, automated_probability = 0
             WHERE active IS NOT TRUE AND probability != 0
            """
        )
    )
    env.cr.execute(
        SQL(
            """
            SELECT id, COALESCE(date_closed, write_date, create_date), write_uid
              FROM crm_lead
             WHERE active IS NOT TRUE
               AND NOT EXISTS (
                   SELECT 1 FROM crm_lead_loss loss
                    WHERE loss.lead_id = crm_lead.id AND loss.state = 'lost'
               )
             ORDER BY id
            """
        )
    )
    rows = env.cr.fetchall()
    env["crm.lead"].invalidate_model(["probability", "automated_probability"])
    Lead = env["crm.lead"].with_context(active_test=False)
    for batch in split_every(1000, rows):
        env["crm.lead.loss"]._open(
            Lead.browse([lead_id for lead_id, _date, _uid in batch]),
            imported={
                lead_id: {"lost_date": date, "lost_by_id": uid}
                for lead_id, date, uid in batch
            },
        )
