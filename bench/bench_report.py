"""Lost Analysis speed against stock Odoo and against plain SQL, in one run.

Builds (or reuses, with CLM_BENCH_REUSE=1) a scratch database with crm and
crm_lost_management, fills it with ``--leads`` leads (100,000 by default) of
which 30% are lost (3 teams, 12 salespeople, 10 reasons, 24 months), then
times, as a sales manager (timezone UTC):

(a) the Lost Analysis grouping: crm.lead.loss read_group by reason x team x
    lost date (month);
(b) its stock equivalent: crm.lead with stock's Lost filter
    (probability = 0, active = False) grouped by lost reason x team x closed
    date (month), archived records included;
(c) the Win/Loss report grouped by salesperson (reported, no target);
(d) the floor of (a): the same GROUP BY on crm_lead_loss in plain SQL, sent
    through psycopg2 on its own connection: no ORM, no record rule, no join
    to order the groups;
(e) the very SQL the ORM sends for (a), through that same connection: what
    (a) costs in PostgreSQL, as opposed to in Python.

The queries take turns in each repetition (median of 7 by default).

The last two lines are ``report ratio lost-analysis/sql-floor: <(a)/(d)>``
and ``report ratio lost-analysis/stock: <(a)/(b)>``. The scratch database is
dropped at the end unless CLM_BENCH_REUSE=1.
"""

import argparse
import logging
import os
import re
import statistics
import subprocess
import sys
import time

from bench_common import bench_manager, update_module

N_LEADS = 100_000
LOST_SHARE = 0.3
N_TEAMS, N_USERS, N_REASONS, N_MONTHS = 3, 12, 10, 24
LABELS = {
    "a": "Lost Analysis: losses by reason x team x month",
    "b": "stock: lost leads by reason x team x month",
    "c": "Win/Loss by salesperson",
    "d": "SQL floor of (a): same GROUP BY, plain SQL",
    "e": "SQL of (a) as the ORM sends it, plain SQL",
}


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def db_ready(db, n_leads):
    """The reused database holds a filled bench of the requested size."""
    out = subprocess.run(
        [
            "psql",
            "-d",
            db,
            "-Atc",
            "SELECT (SELECT count(*) FROM crm_lead), "
            "(SELECT count(*) FROM crm_lead_loss)",
        ],
        capture_output=True,
        text=True,
    )
    if out.returncode:
        return False
    leads, losses = (int(x) for x in out.stdout.strip().split("|"))
    return leads == n_leads and losses > 0


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


def drop_indexes(cr, tables):
    """Drop the indexes of ``tables`` that back no constraint and return
    their definitions: rebuilding them after a bulk insert is several times
    faster than updating them row by row (trigram indexes above all)."""
    from odoo.tools import SQL

    cr.execute(
        """
        SELECT c.relname, pg_get_indexdef(i.indexrelid)
          FROM pg_index i
          JOIN pg_class c ON c.oid = i.indexrelid
         WHERE i.indrelid = ANY(%s::regclass[])
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c
                            WHERE c.conindid = i.indexrelid)
        """,
        [list(tables)],
    )
    indexes = cr.fetchall()
    for name, _definition in indexes:
        cr.execute(SQL("DROP INDEX %s", SQL.identifier(name)))
    return [definition for _name, definition in indexes]


def fill(env, n_leads):
    """Insert the leads and their losses with set-based SQL: the ORM would
    take far longer and measure nothing we care about here. Leads carry
    contact details and a 1.2 KB description, as leads from a web form do,
    so that crm_lead rows have a realistic width; lost ones a closing note
    (on the lead as stock keeps it, and on its loss record). Dates run over
    24 months, to the second."""
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
    cr.execute("SET LOCAL maintenance_work_mem = '512MB'")
    indexes = drop_indexes(cr, ["crm_lead", "crm_lead_loss"])
    params = {
        "n": n_leads,
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
            email_from, phone, street, city, function, website, description,
            lost_feedback, lost_note)
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
               '<p>' || repeat(md5(g::text) || ' ', 36) || '</p>',
               CASE WHEN lost THEN '<p>' || note || '</p>' END,
               CASE WHEN lost THEN note END
          FROM (
            SELECT g,
                   (g::bigint * 7919 %% 1000) < %(lost_share)s * 1000 AS lost,
                   now() - (g::bigint * 7919 %% (%(months)s * 30 * 86400))
                         * interval '1 second' AS created,
                   'Chose another supplier: their offer came '
                       || g %% 97 || ' days before ours.' AS note
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
            days_open, state, closing_note, closing_note_text, create_date,
            write_date, create_uid, write_uid)
        SELECT l.id, l.lost_date, l.lost_by_id, l.user_id, l.team_id,
               l.company_id, l.stage_id, l.type, l.lost_reason_id,
               l.expected_revenue, c.currency_id, 10, 'lost', l.lost_feedback,
               l.lost_note,
               l.create_date, l.write_date, l.create_uid, l.write_uid
          FROM crm_lead l JOIN res_company c ON c.id = l.company_id
         WHERE NOT l.active AND l.name LIKE 'Bench lead %'
        """
    )
    for definition in indexes:
        cr.execute(definition)


def timed(queries, repeat):
    """Median and minimum seconds of each query of ``queries`` (label ->
    function). The queries take turns in every repetition, so that a change
    in the machine's load hits them alike; each timed run follows an untimed
    warm one, which keeps caches comparable."""
    times = {label: [] for label in queries}
    for _ in range(repeat):
        for label, fn in queries.items():
            fn()
            start = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - start)
    return {label: (statistics.median(t), min(t)) for label, t in times.items()}


def floor_query(tz):
    """(d): the GROUP BY of (a) as the ORM writes it for a user in ``tz``
    (the month of lost_date in that timezone), without the record rules nor
    the joins the ORM adds to order the groups by reason and team name."""
    return (
        "SELECT lost_reason_id, team_id, "
        "date_trunc('month', timezone(%(tz)s, timezone('UTC', lost_date))), "
        "count(*) FROM crm_lead_loss GROUP BY 1, 2, 3",
        {"tz": tz},
    )


class SqlCapture(logging.Handler):
    """Collects the queries of the ``odoo.sql_db`` debug log."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.queries = []

    def emit(self, record):
        query = record.getMessage().partition("query: ")[2]
        if query:
            self.queries.append(query)


def orm_sql(fn, table):
    """The SQL query of ``fn`` that groups ``table`` (read off Odoo's log)."""
    logger = logging.getLogger("odoo.sql_db")
    capture, level, propagate = SqlCapture(), logger.level, logger.propagate
    logger.addHandler(capture)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        fn()
    finally:
        logger.removeHandler(capture)
        logger.setLevel(level)
        logger.propagate = propagate
    pattern = re.compile(rf'FROM "{table}".*GROUP BY', re.S)
    return next(q for q in capture.queries if pattern.search(q))


def explain(conn, query, params=None):
    with conn.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + query, params)
        return "\n".join(row[0] for row in cur.fetchall())


def measure(args, fresh):
    """Fill the database when ``fresh``, then time the queries."""
    import psycopg2

    import odoo
    from odoo.tools import config

    config.parse_config(
        [f"--addons-path={args.addons_path}", "-d", args.db, "--log-level=warn"]
    )
    registry = odoo.modules.registry.Registry(args.db)
    # (d), (e), VACUUM and EXPLAIN: a plain connection, outside the ORM
    conn = psycopg2.connect(**odoo.sql_db.connection_info_for(args.db)[1])
    conn.autocommit = True
    try:
        if fresh:
            with registry.cursor() as cr:
                env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
                print(f"Filling {args.leads:,} leads...", flush=True)
                start = time.perf_counter()
                fill(env, args.leads)
            with conn.cursor() as cur:
                # what autovacuum does to a table this size sooner or later,
                # done now so that it does not run during the timings
                cur.execute("VACUUM (ANALYZE) crm_lead, crm_lead_loss")
            print(f"Filled in {time.perf_counter() - start:.0f} s", flush=True)
        tz = "UTC"
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            manager = bench_manager(env)
            menv = env(user=manager.id, context={"tz": tz})
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

            floor_sql, floor_params = floor_query(tz)
            own_sql = orm_sql(lost_analysis, "crm_lead_loss")
            plain = conn.cursor()

            def sql_floor():
                plain.execute(floor_sql, floor_params)
                return plain.fetchall()

            def own():
                plain.execute(own_sql)
                return plain.fetchall()

            queries = {
                "a": lost_analysis,
                "b": stock,
                "c": win_loss,
                "d": sql_floor,
                "e": own,
            }
            groups = {label: len(fn()) for label, fn in queries.items()}
            load = os.getloadavg()[0]
            times = timed(queries, args.repeat)
            load = (load, os.getloadavg()[0])
            if args.explain:
                plans = [
                    ("(a)", own_sql, None),
                    ("(b)", orm_sql(stock, "crm_lead"), None),
                    ("(d)", floor_sql, floor_params),
                ]
            cr.rollback()

        if args.explain:
            for label, query, params in plans:
                print(f"\n{label} {query}\n{explain(conn, query, params)}")
    finally:
        conn.close()
    return n_leads, n_losses, load, groups, times


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--odoo-bin", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument(
        "--leads",
        type=int,
        default=N_LEADS,
        help="leads to create, 30%% of them lost (default: %(default)s)",
    )
    parser.add_argument(
        "--db",
        default=os.environ.get("CLM_BENCH_DB"),
        help="scratch database (default: clm_bench_report, with the number "
        "of leads appended when not the default one)",
    )
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--explain",
        action="store_true",
        help="also print the SQL of (a), (b) and (d) with their "
        "EXPLAIN (ANALYZE, BUFFERS)",
    )
    args = parser.parse_args()
    if not args.db:
        args.db = "clm_bench_report"
        if args.leads != N_LEADS:
            args.db += f"_{args.leads}"
    reuse = os.environ.get("CLM_BENCH_REUSE") == "1"

    if not (reuse and db_ready(args.db, args.leads)):
        install(args, args.db)
        fresh = True
    else:
        update_module(args.odoo_bin, args.addons_path, args.db, "crm_lost_management")
        fresh = False

    try:
        n_leads, n_losses, load, groups, times = measure(args, fresh)
    finally:
        if not reuse:
            import odoo

            odoo.modules.registry.Registry.delete(args.db)
            odoo.sql_db.close_db(args.db)
            sh(["dropdb", "--if-exists", args.db])

    print()
    print(f"database {args.db}: {n_leads:,} leads, {n_losses:,} loss records")
    print(
        f"machine: {os.cpu_count()} cores, load average {load[0]:.1f} before "
        f"timing, {load[1]:.1f} after; median of {args.repeat} runs"
    )
    print(f"{'query':<52} {'groups':>7} {'median ms':>10} {'min ms':>8}")
    for key, (med, low) in times.items():
        label = f"({key}) {LABELS[key]}"
        print(f"{label:<52} {groups[key]:>7} {med * 1000:>10.1f} {low * 1000:>8.1f}")
    a, b, d = times["a"][0], times["b"][0], times["d"][0]
    print(f"report ratio lost-analysis/sql-floor: {a / d:.2f}")
    print(f"report ratio lost-analysis/stock: {a / b:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
