"""Bulk lose and restore: crm_lost_management against stock Odoo, in one run.

Creates (or reuses, with CLM_BENCH_REUSE=1) two scratch databases from the
same seed, ``clm_bench_stock`` (crm only) and ``clm_bench_addon`` (crm +
crm_lost_management), both without demo data. In each, as a sales manager and
for several repetitions (``--repeat``, default 5), creates 2,000 opportunities
(not timed), then times, flush and post-commit work (chatter tracking)
included:

- lose: the Mark as Lost wizard (crm.lead.lost) on all of them, with a reason
  and a closing note;
- restore: the list's Actions > Unarchive path (action_unarchive);
- and, in the addon database only, the restore wizard (crm.lead.restore);
- won: stock's Won (action_set_won) on all of them in the stock database,
  the Mark as Won dialog (crm.lead.won, with a won reason, a win note and a
  competitor beaten) in the addon database.

Each repetition is rolled back; the two databases take turns, repetition
after repetition. Prints time (median) and query count per
database; the last line is
``bulk ratio addon/stock: lose=<x.xx> restore=<y.yy> won=<z.zz>`` (restore =
Unarchive; won = Mark as Won dialog / stock's Won).
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

from bench_common import bench_manager, update_module

N = 2000


def db_ready(db, module):
    out = subprocess.run(
        [
            "psql",
            "-d",
            db,
            "-Atc",
            f"SELECT 1 FROM ir_module_module WHERE name = '{module}' "
            "AND state = 'installed'",
        ],
        capture_output=True,
        text=True,
    )
    return out.returncode == 0 and out.stdout.strip() == "1"


def install(args, db, module):
    subprocess.run(["dropdb", "--if-exists", db], check=True)
    print(f"Creating scratch database {db} ({module})...", flush=True)
    subprocess.run(
        [
            args.odoo_bin,
            f"--addons-path={args.addons_path}",
            "-d",
            db,
            "-i",
            module,
            "--without-demo=all",
            "--stop-after-init",
            "--log-level=warn",
        ],
        check=True,
    )


def measure(cr, fn):
    """Run ``fn`` with everything it triggers: flush and precommit hooks."""
    start_queries = cr.sql_log_count
    start = time.perf_counter()
    fn()
    cr.precommit.run()
    cr.flush()
    return time.perf_counter() - start, cr.sql_log_count - start_queries


class BulkBench:
    """One database's side of the benchmark: its registry, a cursor and the
    sales manager's environment; ``run()`` does one repetition of every
    path, rolled back."""

    def __init__(self, db, addon, count=N):
        import odoo

        self.count = count
        self.cr = odoo.modules.registry.Registry(db).cursor()
        env = odoo.api.Environment(self.cr, odoo.SUPERUSER_ID, {})
        manager = bench_manager(env)
        self.menv = env(user=manager.id, context={"tz": "UTC", "lang": "en_US"})
        self.team = self.menv["crm.team"].search([], limit=1)
        self.reason = self.menv.ref("crm.lost_reason_1")
        self.addon = addon
        self.paths = ["lose", "unarchive"] + (["restore_wizard"] if addon else [])
        self.paths.append("won")
        if addon:
            self.won_reason = self.menv.ref("crm_lost_management.won_reason_price")
            Competitor = self.menv["crm.lost.competitor"]
            self.competitor = Competitor.search(
                [("name", "=", "Bench competitor")]
            ) or Competitor.create({"name": "Bench competitor"})
            self.cr.commit()  # kept: every repetition is rolled back
        self.results = {path: [] for path in self.paths}

    def _create_leads(self):
        leads = self.menv["crm.lead"].create(
            [
                {
                    "name": f"Bench opportunity {i}",
                    "type": "opportunity",
                    "team_id": self.team.id,
                    "user_id": self.menv.uid,
                    "expected_revenue": 1000 + i,
                }
                for i in range(self.count)
            ]
        )
        self.cr.precommit.run()
        self.cr.flush()
        return leads

    def _lose(self, leads):
        self.menv["crm.lead.lost"].with_context(
            active_ids=leads.ids, active_model="crm.lead"
        ).create(
            {
                "lead_ids": [(6, 0, leads.ids)],
                "lost_reason_id": self.reason.id,
                "lost_feedback": "<p>Bench: too expensive</p>",
            }
        ).action_lost_reason_apply()

    def _restore_wizard(self, leads):
        self.menv["crm.lead.restore"].create(
            {"lead_ids": [(6, 0, leads.ids)], "restore_note": "Bench"}
        ).action_restore()

    def _win(self, leads):
        if not self.addon:
            leads.action_set_won()
            return
        self.menv["crm.lead.won"].with_context(
            active_ids=leads.ids, active_model="crm.lead"
        ).create(
            {
                "lead_ids": [(6, 0, leads.ids)],
                "won_reason_id": self.won_reason.id,
                "won_note": "<p>Bench: better price</p>",
                "won_competitor_ids": [(6, 0, self.competitor.ids)],
            }
        ).action_won_reason_apply()

    def run(self, timed):
        for path in self.paths:
            leads = self._create_leads()
            if path == "won":
                run = measure(self.cr, lambda leads=leads: self._win(leads))
                self.cr.rollback()
                self.menv.invalidate_all()
                if timed:
                    self.results[path].append(run)
                continue
            lose_run = measure(self.cr, lambda leads=leads: self._lose(leads))
            if path == "lose":
                run = lose_run
            elif path == "unarchive":
                run = measure(self.cr, leads.action_unarchive)
            else:
                run = measure(self.cr, lambda leads=leads: self._restore_wizard(leads))
            self.cr.rollback()
            self.menv.invalidate_all()
            if timed:
                self.results[path].append(run)

    def medians(self):
        return {
            path: (
                statistics.median(t for t, _q in runs),
                statistics.median(q for _t, q in runs),
            )
            for path, runs in self.results.items()
        }

    def close(self):
        self.cr.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--odoo-bin", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--count", type=int, default=N, help="opportunities (the target is for 2,000)"
    )
    args = parser.parse_args()
    reuse = os.environ.get("CLM_BENCH_REUSE") == "1"
    dbs = {
        "stock": ("clm_bench_stock", "crm"),
        "addon": ("clm_bench_addon", "crm_lost_management"),
    }
    for db, module in dbs.values():
        if not (reuse and db_ready(db, module)):
            install(args, db, module)
        else:
            update_module(args.odoo_bin, args.addons_path, db, module)

    from odoo.tools import config

    config.parse_config([f"--addons-path={args.addons_path}", "--log-level=warn"])
    benches = {
        name: BulkBench(db, name == "addon", args.count)
        for name, (db, _m) in dbs.items()
    }
    # the databases take turns, so that a change of the machine's load hits
    # both sides alike; the first round warms caches and is not timed
    for rep in range(args.repeat + 1):
        for name, bench in benches.items():
            print(f"round {rep}/{args.repeat}: {name}", flush=True)
            bench.run(timed=rep > 0)
    found = {name: bench.medians() for name, bench in benches.items()}
    for bench in benches.values():
        bench.close()
    print()
    print(f"{args.count:,} opportunities, median of {args.repeat} runs")
    print(f"{'database':<8} {'path':<16} {'seconds':>8} {'queries':>8}")
    for name, paths in found.items():
        for path, (seconds, queries) in paths.items():
            print(f"{name:<8} {path:<16} {seconds:>8.2f} {queries:>8.0f}")
    lose = found["addon"]["lose"][0] / found["stock"]["lose"][0]
    restore = found["addon"]["unarchive"][0] / found["stock"]["unarchive"][0]
    won = found["addon"]["won"][0] / found["stock"]["won"][0]
    print(
        f"bulk ratio addon/stock: lose={lose:.2f} restore={restore:.2f} won={won:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
