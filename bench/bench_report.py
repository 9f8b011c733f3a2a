"""Lost Analysis speed against stock Odoo, in one run.

Builds (or reuses, with CLM_BENCH_REUSE=1) a scratch database with crm and
crm_lost_management, fills it with 100,000 leads of which about 30,000 are lost
(3 teams, 12 salespeople, 10 reasons, 24 months), then times, as a sales
manager and at the median of several repetitions:

(a) the Lost Analysis grouping: crm.lead.loss read_group by reason x team x
    lost date (month);
(b) its stock equivalent: crm.lead with stock's Lost filter
    (probability = 0, active = False) grouped by lost reason x team x closed
    date (month), archived records included;
(c) the Win/Loss report grouped by salesperson (reported, no target).

The last line is ``report ratio lost-analysis/stock: <(a)/(b)>``.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

from bench_common import bench_manager, update_module

N_LEADS = 100_000
LOST_SHARE = 0.3
N_TEAMS, N_USERS, N_REASONS, N_MONTHS = 3, 12, 10, 24


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def db_ready(db):
    out = subprocess.run(
        [
            "psql",
            "-d",
            db,
            "-Atc",
            "SELECT count(*) FROM crm_lead_loss",
        ],
        capture_output=True,
        text=True,
    )
    return out.returncode == 0 and int(out.stdout.strip() or 0) > 0


def install(args, db):
    sh(["dropdb", "--if-exists", db])
    print(f"Creating scratch database {db} (crm + crm_lost_management)...", flush=True)
    sh(
        [
            args.odoo_bin,
            f"--addons-path={args.addons_path}",
            "-d",
            db,
            "-i",
            "crm_lost_management",
            "--without-demo=all",
            "--stop-after-init",
            "--log-level=warn",
        ]
    )


def fill(env):
    """Insert the leads and their losses with set-based SQL: the ORM would
    take far longer and measure nothing we care about here. Leads carry
    contact details and a 1.2 KB description, as leads from a web form do,
    so that crm_lead rows have a realistic width."""
    cr = env.cr
    company = env.ref("base.main_company")
    teams = env["crm.team"].create(
        [{"name": f"Bench Team {i}", "company_id": company.id} for i in range(N_TEAMS)]
    )
    users = env["res.users"].create(
        [
            {
                "name": f"Bench Sales {i}",
                "login": f"bench_sales_{i}",
                "groups_id": [(4, env.ref("sales_team.group_sale_salesman").id)],
            }
            for i in range(N_USERS)
        ]
    )
    reasons = env["crm.lost.reason"].create(
        [{"name": f"Bench Reason {i}"} for i in range(N_REASONS)]
    )
    stage = env["crm.stage"].search([], limit=1)
    env.flush_all()
    params = {
        "n": N_LEADS,
        "lost_share": LOST_SHARE,
        "teams": teams.ids,
        "users": users.ids,
        "reasons": reasons.ids,
        "months": N_MONTHS,
        "company": company.id,
        "stage": stage.id,
        "uid": env.uid,
    }
    cr.execute(
        """
        INSERT INTO crm_lead (
            name, type, active, probability, automated_probability, user_id,
            team_id, company_id, stage_id, lost_reason_id, expected_revenue,
            create_date, write_date, date_closed, lost_date, lost_by_id,
            create_uid, write_uid, priority, contact_name, partner_name,
            email_from, phone, street, city, function, website, description)
        SELECT 'Bench lead ' || g,
               CASE WHEN g %% 4 = 0 THEN 'lead' ELSE 'opportunity' END,
               NOT lost, CASE WHEN lost THEN 0 ELSE 50 END, 0,
               (%(users)s::int[])[1 + g %% array_length(%(users)s::int[], 1)],
               (%(teams)s::int[])[1 + g %% array_length(%(teams)s::int[], 1)],
               %(company)s, %(stage)s,
               CASE WHEN lost THEN
                   (%(reasons)s::int[])[1 + g %% array_length(%(reasons)s::int[], 1)]
               END,
               (g %% 100) * 100,
               created, created,
               CASE WHEN lost THEN created + interval '10 days' END,
               CASE WHEN lost THEN created + interval '10 days' END,
               CASE WHEN lost THEN %(uid)s END,
               %(uid)s, %(uid)s, '0',
               'Contact ' || g, 'Customer ' || g || ' Ltd',
               'contact' || g || '@customer' || g || '.example.com',
               '+32 470 ' || lpad(g::text, 6, '0'), g || ' Avenue of the Customers',
               'Brussels', 'Purchasing manager',
               'https://customer' || g || '.example.com',
               '<p>' || repeat(md5(g::text) || ' ', 36) || '</p>'
          FROM (
            SELECT g,
                   (g * 7919 %% 1000) < %(lost_share)s * 1000 AS lost,
                   now() - (g %% (%(months)s * 30)) * interval '1 day' AS created
              FROM generate_series(1, %(n)s) AS g
          ) AS src
        """,
        params,
    )
    cr.execute(
        """
        INSERT INTO crm_lead_loss (
            lead_id, lost_date, lost_by_id, user_id, team_id, company_id,
            stage_id, lead_type, lost_reason_id, expected_revenue, currency_id,
            days_open, state, create_date, write_date, create_uid, write_uid)
        SELECT l.id, l.lost_date, l.lost_by_id, l.user_id, l.team_id,
               l.company_id, l.stage_id, l.type, l.lost_reason_id,
               l.expected_revenue, c.currency_id, 10, 'lost',
               l.create_date, l.write_date, l.create_uid, l.write_uid
          FROM crm_lead l JOIN res_company c ON c.id = l.company_id
         WHERE NOT l.active AND l.name LIKE 'Bench lead %'
        """
    )
    cr.execute("ANALYZE crm_lead")
    cr.execute("ANALYZE crm_lead_loss")


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        fn()  # one untimed warm run per sample keeps caches comparable
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--odoo-bin", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument(
        "--db", default=os.environ.get("CLM_BENCH_DB", "clm_bench_report")
    )
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    reuse = os.environ.get("CLM_BENCH_REUSE") == "1"

    if not (reuse and db_ready(args.db)):
        install(args, args.db)
        fresh = True
    else:
        update_module(args.odoo_bin, args.addons_path, args.db, "crm_lost_management")
        fresh = False

    import odoo
    from odoo.tools import config

    config.parse_config(
        [f"--addons-path={args.addons_path}", "-d", args.db, "--log-level=warn"]
    )
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        if fresh:
            print(f"Filling {N_LEADS:,} leads...", flush=True)
            fill(env)
            cr.commit()
        manager = bench_manager(env)
        menv = env(user=manager.id, context={"tz": "UTC"})
        Loss = menv["crm.lead.loss"]
        Lead = menv["crm.lead"].with_context(active_test=False)
        Report = menv["crm.win.loss.report"]
        n_leads = Lead.search_count([])
        n_losses = Loss.search_count([])

        def lost_analysis():
            menv.invalidate_all()
            return Loss.read_group(
                [],
                ["__count"],
                ["lost_reason_id", "team_id", "lost_date:month"],
                lazy=False,
            )

        def stock():
            menv.invalidate_all()
            return Lead.read_group(
                [("probability", "=", 0), ("active", "=", False)],
                ["__count"],
                ["lost_reason_id", "team_id", "date_closed:month"],
                lazy=False,
            )

        def win_loss():
            menv.invalidate_all()
            return Report.read_group(
                [], ["win_rate:avg", "won_count:sum", "lost_count:sum"], ["user_id"]
            )

        a_groups, b_groups = lost_analysis(), stock()
        a_med, a_min = timed(lost_analysis, args.repeat)
        b_med, b_min = timed(stock, args.repeat)
        c_med, c_min = timed(win_loss, args.repeat)
        cr.rollback()

    print()
    print(f"database {args.db}: {n_leads:,} leads, {n_losses:,} loss records")
    print(f"{'query':<52} {'groups':>7} {'median ms':>10} {'min ms':>8}")
    rows = [
        (
            "(a) Lost Analysis: losses by reason x team x month",
            len(a_groups),
            a_med,
            a_min,
        ),
        ("(b) stock: lost leads by reason x team x month", len(b_groups), b_med, b_min),
        ("(c) Win/Loss by salesperson", None, c_med, c_min),
    ]
    for label, groups, med, low in rows:
        shown = "" if groups is None else groups
        print(f"{label:<52} {shown:>7} {med * 1000:>10.1f} {low * 1000:>8.1f}")
    print(f"report ratio lost-analysis/stock: {a_med / b_med:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
