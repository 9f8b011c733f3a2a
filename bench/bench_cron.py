"""The revisit and stale opportunities jobs on 200,000 due records each, run
by the cron worker of a prefork server, with a fault: kill -9 of that worker
in the middle of a batch.

Creates (or reuses, with CLM_BENCH_REUSE=1) ``<db>_base`` with
crm_lost_management installed (no demo data), copies it to ``<db>``, and
makes there, by SQL from one record made by the ORM (see
tests/system/cron_faults.py):

- revisit: ``--count`` lost opportunities of one team whose open loss is due
  for a revisit (revisit date two days ago);
- stale: ``--count`` open opportunities of a team that marks them lost after
  30 days without activity, idle for 60 days;

spread over 8 salespeople (notifications in Odoo). Then starts
``odoo --workers 2 --max-cron-threads 1 --no-http`` on ``<db>``, its cron
worker's limits raised (``--limit-time-cpu 86400 --limit-time-real-cron 0``:
by default it is killed after 60 s of CPU time), and, for each job: makes it
due and wakes the cron worker, samples every half second the records the job
committed, the CPU time of the worker and of its PostgreSQL backend and the
worker's memory (/proc VmRSS, VmHWM), ``kill -9`` the worker once
``--kill-at`` of the records are done while a batch is uncommitted, lets the
worker the master forks again finish, and proves in SQL that each record was
processed exactly once and that the loss history's invariants hold.

Prints, per job and per 10,000 records (``--step``): wall seconds, CPU
seconds of the worker and of its PostgreSQL backend (median, min-max, steps
with a kill left out); the time to the first commit of each run (its search
and first batch), the total, and the peak RSS of the cron workers.
"""

import argparse
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "system"))

import cron_faults  # noqa: E402


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


def prepare_base(args):
    from bench_common import update_module

    base = f"{args.db}_base"
    module = "crm_lost_management"
    if os.environ.get("CLM_BENCH_REUSE") == "1" and db_ready(base, module):
        update_module(args.odoo_bin, args.addons_path, base, module)
        return base
    subprocess.run(["dropdb", "--if-exists", base], check=True)
    print(f"Creating scratch database {base} ({module})...", flush=True)
    subprocess.run(
        [
            args.odoo_bin,
            f"--addons-path={args.addons_path}",
            "-d",
            base,
            "-i",
            module,
            "--without-demo=all",
            "--stop-after-init",
            "--log-level=warn",
        ],
        check=True,
    )
    return base


def generate(args, jobs):
    started = time.monotonic()
    result = subprocess.run(
        [
            args.odoo_bin,
            "shell",
            f"--addons-path={args.addons_path}",
            "-d",
            args.db,
            "--log-level=warn",
            "--no-http",
        ],
        input=cron_faults.generate_script(jobs, args.count, args.batch_size),
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode:
        sys.exit(f"odoo shell failed:\n{result.stderr[-3000:]}")
    generated = cron_faults.parse_generated(result.stdout)
    print(
        f"{', '.join(jobs)}: {args.count:,} due records each made in "
        f"{time.monotonic() - started:.0f} s",
        flush=True,
    )
    return [generated[job] for job in jobs]


class Server:
    """``odoo`` in prefork mode with one cron worker and no HTTP."""

    def __init__(self, args):
        self.log = os.path.join(args.workdir, f"{args.db}-server.log")
        self.cmd = [
            args.odoo_bin,
            f"--addons-path={args.addons_path}",
            "-d",
            args.db,
            f"--db-filter=^{args.db}$",
            "--workers=2",
            "--max-cron-threads=1",
            "--no-http",
            # by default a cron worker is killed after 60 s of CPU time
            # (limit_time_cpu) or 120 s busy (limit_time_real): the job
            # continues in the next worker (the fault this bench makes),
            # but here one run is measured, cut by the bench's kill only
            "--limit-time-cpu=86400",
            "--limit-time-real-cron=0",
            "--log-level=info",
            f"--logfile={self.log}",
        ]
        self.process = None

    def start(self):
        if os.path.exists(self.log):
            os.remove(self.log)
        self.process = subprocess.Popen(self.cmd, start_new_session=True)
        return self

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def report(job, summary, checks, history):
    step = summary["step"]
    print()
    print(f"== {job['job']}: {summary['records']:,} records committed")
    print(
        f"total (first wake-up to the end, kill included): {summary['seconds']:.0f} s"
    )
    print(
        "first commit of each run (search + first batch): "
        + ", ".join(
            f"{seconds:.1f} s" if seconds is not None else "-"
            for seconds in summary["first_commit"]
        )
    )
    labels = {
        "wall": "wall seconds",
        "cpu": "CPU seconds of the cron worker",
        "db_cpu": "CPU seconds of its PostgreSQL backend",
    }
    for name, values in summary["steps"].items():
        if values:
            print(
                f"{labels[name]} per {step:,} records: median "
                f"{summary['median'][name]:.1f} (min {min(values):.1f}, "
                f"max {max(values):.1f}, {len(values)} steps)"
            )
    for pid, worker in summary["workers"].items():
        print(
            f"cron worker {pid}: RSS idle {worker['idle_rss'] / 1024:.0f} MiB, "
            f"peak (VmHWM) {worker['hwm'] / 1024:.0f} MiB"
        )
    for kill in summary["kills"]:
        print(
            f"kill -9 of worker {kill['pid']} with transaction {kill['xid']} "
            f"in flight ({kill['xact_status']} after the kill); "
            f"{kill['done_after']:,} records committed before it; "
            f"worker {kill['new_pid']} finished the job"
        )
    print(f"exactly once: {checks}")
    print(f"loss history invariants: {history}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--odoo-bin", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--count", type=int, default=200000)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument(
        "--jobs", default="revisit,stale", help="revisit, stale or both (default)"
    )
    parser.add_argument(
        "--kill-at",
        type=float,
        default=0.4,
        help="share of the records done when the worker is killed; 0: no kill",
    )
    parser.add_argument("--db", default="clm_bench_cron")
    parser.add_argument(
        "--step", type=int, default=10000, help="records per timed step"
    )
    args = parser.parse_args()
    args.workdir = os.environ.get("CLM_WORKDIR", "/tmp")
    # stopped (Ctrl-C, kill), the bench stops its server too
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_args: sys.exit("terminated"))
    jobs = [job for job in args.jobs.split(",") if job]
    print(f"load: {os.getloadavg()}", flush=True)
    base = prepare_base(args)
    subprocess.run(["dropdb", "--if-exists", "--force", args.db], check=True)
    subprocess.run(["createdb", "-T", base, args.db], check=True)
    generated = generate(args, jobs)
    server = Server(args).start()
    failed = False
    try:
        for job in generated:
            run = cron_faults.CronRun(
                args.db, server.process.pid, server.log, job, log=print
            )
            kill_after = int(args.count * args.kill_at) if args.kill_at else None
            print(f"{job['job']}: running in the cron worker...", flush=True)
            run.run(kill_after=kill_after, timeout=4 * 3600)
            summary = run.summary(step=args.step)
            check = (
                cron_faults.check_revisit
                if job["job"] == "revisit"
                else cron_faults.check_stale
            )(run.sql, job)
            history = cron_faults.check_loss_history(run.sql)
            report(job, summary, check, history)
            problems = cron_faults.violations(check) or cron_faults.violations(history)
            total = check.get("losses", check.get("opportunities"))
            if problems or total != args.count:
                print(f"FAILED: {problems or total}")
                failed = True
            run.close()
    finally:
        server.stop()
    print(f"load: {os.getloadavg()}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
