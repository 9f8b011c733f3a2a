# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from odoo.tools import SQL, split_every


def post_init_hook(env):
    """Give leads lost or won before the installation an open loss or win
    record, dated when they were closed, so that history and reports start
    complete."""
    record_lost_leads(env)
    record_won_leads(env)


def record_won_leads(env):
    """Won leads (active, in a won stage) without an open win record get
    one, dated when they were closed (else last written), by whom last wrote
    them. Used at installation and by the 18.0.1.2.0 migration."""
    env.cr.execute(
        SQL(
            """
            SELECT lead.id,
                   date_trunc(
                       'second',
                       COALESCE(lead.date_closed, lead.write_date, lead.create_date)
                   ),
                   lead.write_uid
              FROM crm_lead lead
              JOIN crm_stage stage ON stage.id = lead.stage_id
             WHERE lead.active AND stage.is_won
               AND NOT EXISTS (
                   SELECT 1 FROM crm_lead_win win
                    WHERE win.lead_id = lead.id AND win.state = 'won'
               )
             ORDER BY lead.id
            """
        )
    )
    rows = env.cr.fetchall()
    Lead = env["crm.lead"]
    for batch in split_every(1000, rows):
        env["crm.lead.win"]._open(
            Lead.browse([lead_id for lead_id, _date, _uid in batch]),
            imported={
                lead_id: {"won_date": date, "won_by_id": uid}
                for lead_id, date, uid in batch
            },
        )


def record_lost_leads(env):
    """Archived leads are lost: probability 0, and an open loss record for
    those without one, dated and authored by their Lost On / Lost By if they
    have them (a history import), else when and by whom they were closed.
    Used at installation and by the 18.0.1.1.0 migration (leads archived by
    SQL)."""
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
            SELECT id,
                   date_trunc(
                       'second',
                       COALESCE(lost_date, date_closed, write_date, create_date)
                   ),
                   COALESCE(lost_by_id, write_uid)
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
