# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The module's crons under faults, shared by ``test_cron_faults.py`` (a few
thousand records, in CI) and ``bench/bench_cron.py`` (200,000 records).

- ``generate(env, job, count)``, run in ``odoo shell``: the due records of one
  job, ``count`` copies (by SQL) of one record made by the ORM: lost leads
  whose open loss is due for a revisit (``revisit``), or opportunities idle
  for 60 days in a team that marks them lost after 30 (``stale``);
- ``CronRun``: runs the job in the cron worker of a running prefork server
  (``odoo --workers N --max-cron-threads 1``), as production does: makes the
  job due, wakes the worker, samples the job's progress (its
  ``ir.cron.progress`` rows, committed with each batch) and the worker's
  memory, and can ``kill -9`` the worker in the middle of a batch (while the
  job's transaction holds uncommitted writes); the server's master forks a
  new cron worker, which runs the job again until it is done;
- ``check_revisit``, ``check_stale``, ``check_loss_history``: the proofs, in
  SQL, as a dict of counts of violations (all zero when the promise holds).

Plain Python (psycopg2, psutil) outside Odoo; ``generate`` only runs inside
Odoo.
"""

import logging
import os
import re
import signal
import statistics
import time
from datetime import timedelta

import psutil
import psycopg2

_logger = logging.getLogger(__name__)

# what the jobs leave on each record they process
REVISIT_NOTE = "Revisit of this lost deal scheduled"
TEAMS = {"revisit": "CLM Cron Revisit", "stale": "CLM Cron Stale"}
CRONS = {
    "revisit": "crm_lost_management.ir_cron_crm_lead_loss_revisit",
    "stale": "crm_lost_management.ir_cron_crm_team_stale_lost",
}
METHODS = {
    "revisit": "_cron_schedule_revisits",
    "stale": "_cron_lose_stale_opportunities",
}
# the table a batch of each job writes to before its commit: a lock on it
# held by the job's transaction means a batch is half done
BATCH_TABLES = {"revisit": "mail_activity", "stale": "crm_lead_loss"}
SALESPEOPLE = 8
STALE_DAYS = 30


# ----------------------------------------------------------------------------
# Due records (inside Odoo: odoo shell)
# ----------------------------------------------------------------------------


def generate(env, job, count, batch_size=None):
    """Make ``count`` records due for ``job`` ("revisit" or "stale"): one made
    by the ORM, the others copied from it by SQL, spread over salespeople.
    With ``batch_size``, the cron calls its method with it. Returns what the
    checks need (ids). The caller commits."""
    from odoo import Command, fields

    users = _salespeople(env)
    team = env["crm.team"].create(
        {
            "name": TEAMS[job],
            "user_id": users[0].id,
            "member_ids": [Command.set(users.ids)],
        }
    )
    reason = env["crm.lost.reason"].create({"name": f"{TEAMS[job]} reason"})
    template = env["crm.lead"].create(
        {
            "name": f"{TEAMS[job]} 1",
            "type": "opportunity",
            "team_id": team.id,
            "user_id": users[0].id,
            "expected_revenue": 5000,
            "partner_name": "CLM Cron Customer",
            "email_from": "customer@example.com",
        }
    )
    today = fields.Date.context_today(template)
    if job == "revisit":
        template.action_set_lost(
            lost_reason_id=reason.id,
            lost_revisit_date=today - timedelta(days=2),
        )
    else:
        team.write(
            {
                "stale_lost_days": STALE_DAYS,
                "stale_lost_reason_id": reason.id,
                "stale_warning_days": 3,
            }
        )
    env.flush_all()
    _copy_lead(env, template, count - 1, users.ids, with_loss=job == "revisit")
    if job == "stale":
        # idle for twice the team's delay: created, moved and logged then
        _backdate(env, team, days=2 * STALE_DAYS)
    env.invalidate_all()
    cron = env.ref(CRONS[job])
    if batch_size:
        cron.code = f"model.{METHODS[job]}(batch_size={int(batch_size)})"
    env.cr.execute("ANALYZE crm_lead, crm_lead_loss, mail_message, mail_activity")
    return {
        "job": job,
        "count": count,
        "cron_id": cron.id,
        "team_id": team.id,
        "reason_id": reason.id,
        "activity_type_id": env.ref(
            "crm_lost_management.mail_activity_type_revisit_lost"
        ).id,
    }


def _salespeople(env):
    """Salespeople with their notifications in Odoo (no mail server here)."""
    from odoo import Command

    Users = env["res.users"].with_context(no_reset_password=True)
    users = Users.search([("login", "=like", "clm_cron_sales_%")], order="id")
    group = env.ref("sales_team.group_sale_salesman")
    for index in range(len(users), SALESPEOPLE):
        users |= Users.create(
            {
                "name": f"CLM Cron Salesperson {index}",
                "login": f"clm_cron_sales_{index}",
                "email": f"clm.cron.sales.{index}@example.com",
                "notification_type": "inbox",
                "groups_id": [Command.set([group.id])],
            }
        )
    return users


def _copy_lead(env, template, count, user_ids, with_loss):
    """``count`` copies of ``template`` (every column but its id, name and
    salesperson), and of its open loss with ``with_loss``, in one statement."""
    from odoo.tools import SQL

    cr = env.cr
    cr.execute(
        SQL(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = %s AND column_name NOT IN %s ORDER BY column_name",
            "crm_lead",
            ("id", "name", "user_id"),
        )
    )
    columns = [name for (name,) in cr.fetchall()]
    copy = SQL(
        """
        INSERT INTO crm_lead (name, user_id, %(columns)s)
        SELECT %(prefix)s || g, (%(users)s::int[])[1 + mod(g, %(size)s)], %(values)s
          FROM crm_lead t, generate_series(2, %(last)s) g
         WHERE t.id = %(template)s
        RETURNING id, user_id
        """,
        columns=SQL(", ").join(SQL.identifier(name) for name in columns),
        values=SQL(", ").join(SQL.identifier("t", name) for name in columns),
        prefix=template.name.removesuffix("1"),
        users=list(user_ids),
        size=len(user_ids),
        last=count + 1,
        template=template.id,
    )
    if not with_loss:
        cr.execute(copy)
        return
    cr.execute(
        SQL(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = %s AND column_name NOT IN %s ORDER BY column_name",
            "crm_lead_loss",
            ("id", "lead_id", "user_id"),
        )
    )
    loss_columns = [name for (name,) in cr.fetchall()]
    (loss,) = env["crm.lead.loss"].search([("lead_id", "=", template.id)])
    cr.execute(
        SQL(
            """
            WITH new AS (%(copy)s)
            INSERT INTO crm_lead_loss (lead_id, user_id, %(columns)s)
            SELECT new.id, new.user_id, %(values)s
              FROM new, crm_lead_loss l
             WHERE l.id = %(loss)s
            """,
            copy=copy,
            columns=SQL(", ").join(SQL.identifier(name) for name in loss_columns),
            values=SQL(", ").join(SQL.identifier("l", name) for name in loss_columns),
            loss=loss.id,
        )
    )


def _backdate(env, team, days):
    from odoo.tools import SQL

    env.cr.execute(
        SQL(
            """
            UPDATE crm_lead
               SET create_date = create_date - %(delta)s::interval,
                   write_date = write_date - %(delta)s::interval,
                   date_open = date_open - %(delta)s::interval,
                   date_last_stage_update = date_last_stage_update
                       - %(delta)s::interval
             WHERE team_id = %(team)s
            """,
            delta=f"{days} days",
            team=team.id,
        )
    )
    env.cr.execute(
        SQL(
            "UPDATE mail_message SET date = date - %s::interval "
            "WHERE model = 'crm.lead' AND res_id IN "
            "(SELECT id FROM crm_lead WHERE team_id = %s)",
            f"{days} days",
            team.id,
        )
    )


def generate_script(jobs, count, batch_size=None):
    """``odoo shell`` input: ``generate()`` for each of ``jobs``, committed;
    prints a line ``CLM_CRON <json>``: {job: its result}."""
    here = os.path.dirname(os.path.abspath(__file__))
    return (
        "import json, sys\n"
        f"sys.path.insert(0, {here!r})\n"
        "import cron_faults\n"
        "result = {\n"
        f"    job: cron_faults.generate(env, job, {int(count)}, {batch_size!r})\n"
        f"    for job in {list(jobs)!r}\n"
        "}\n"
        "env.cr.commit()\n"
        "print('CLM_CRON ' + json.dumps(result))\n"
    )


def parse_generated(output):
    import json

    lines = [line for line in output.splitlines() if line.startswith("CLM_CRON ")]
    if not lines:
        raise AssertionError(f"generate() printed nothing:\n{output}")
    return json.loads(lines[-1].removeprefix("CLM_CRON "))


# ----------------------------------------------------------------------------
# SQL (outside Odoo)
# ----------------------------------------------------------------------------


class Sql:
    """An autocommit connection to ``dbname``: each query sees what is
    committed at that moment."""

    def __init__(self, dbname):
        self.dbname = dbname
        self.conn = psycopg2.connect(dbname=dbname)
        self.conn.autocommit = True

    def rows(self, sql, params=None):
        with self.conn.cursor() as cr:
            cr.execute(sql, params)
            if not cr.description:
                return []
            names = [column.name for column in cr.description]
            return [dict(zip(names, row, strict=True)) for row in cr.fetchall()]

    def row(self, sql, params=None):
        rows = self.rows(sql, params)
        return rows[0] if rows else None

    def value(self, sql, params=None):
        row = self.row(sql, params)
        return next(iter(row.values())) if row else None

    def close(self):
        self.conn.close()


# ----------------------------------------------------------------------------
# A job in the cron worker, and its fault
# ----------------------------------------------------------------------------


def cron_worker_pids(server_pid, log_path):
    """Pids of the live cron workers forked by the prefork master
    ``server_pid``, from the server's log (``Worker WorkerCron (<pid)
    alive``)."""
    pattern = re.compile(r"Worker WorkerCron \((\d+)\) alive")
    try:
        with open(log_path, encoding="utf-8", errors="replace") as log:
            logged = [int(match[1]) for match in pattern.finditer(log.read())]
    except OSError:
        return []
    pids = []
    for pid in logged:
        try:
            process = psutil.Process(pid)
            if process.ppid() == server_pid and process.status() != "zombie":
                pids.append(pid)
        except psutil.NoSuchProcess:
            continue
    return pids


def memory_kib(pid):
    """(VmRSS, VmHWM) of ``pid`` in KiB, from /proc; None once it is gone."""
    values = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                key, _sep, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    values[key] = int(rest.split()[0])
    except OSError:
        return None
    return values.get("VmRSS"), values.get("VmHWM")


def cpu_seconds(pid):
    """User + system CPU time of ``pid``; None once it is gone."""
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return None
    return times.user + times.system


class CronFailed(AssertionError):
    pass


class CronRun:
    """One run of ``job`` (a ``generate()`` result) in the cron worker of the
    prefork server whose master is ``server_pid`` (logging to ``log_path``),
    on ``dbname``.

    ``run(kill_after=n)``: once ``n`` records are committed, ``kill -9`` the
    worker while its transaction holds a batch's uncommitted writes, then let
    the new worker finish the job. Afterwards: ``samples`` (time, records
    committed, worker pid, RSS), ``kills`` (what was killed),
    ``workers`` (peak RSS per worker), ``summary(step)``."""

    def __init__(self, dbname, server_pid, log_path, job, log=None):
        self.dbname = dbname
        self.server_pid = server_pid
        self.log_path = log_path
        self.job = job
        self.cron_id = job["cron_id"]
        self.log = log or _logger.info
        self.sql = Sql(dbname)
        self.postgres = Sql("postgres")
        self.samples = []
        self.kills = []
        self.workers = {}
        self.backend = None  # the pid of the job's PostgreSQL backend
        self.start_time = None
        self.end_time = None
        self.first_progress = None

    # the cron ---------------------------------------------------------------

    def arm(self):
        """Only this job is active and due now."""
        self.sql.rows(
            "UPDATE ir_cron SET active = (id = %s), failure_count = 0, "
            "first_failure_date = NULL, "
            "nextcall = CASE WHEN id = %s "
            "  THEN (now() at time zone 'UTC') - interval '1 minute' "
            "  ELSE nextcall END",
            [self.cron_id, self.cron_id],
        )
        self.first_progress = self.sql.value(
            "SELECT coalesce(max(id), 0) FROM ir_cron_progress"
        )

    def wake(self):
        """What ``ir.cron._trigger()`` does after its commit: notify the cron
        workers (they listen on the ``postgres`` database)."""
        self.postgres.rows("SELECT pg_notify('cron_trigger', %s)", [self.dbname])

    def progress(self):
        """Records committed by the job since ``arm()``: the ``done`` of each
        of its runs (one ``ir.cron.progress`` row per run, updated with each
        batch's commit), and how many runs started."""
        return self.sql.row(
            "SELECT coalesce(sum(done), 0)::int AS done, count(*)::int AS runs "
            "FROM ir_cron_progress WHERE cron_id = %s AND id > %s",
            [self.cron_id, self.first_progress],
        )

    def finished(self):
        """The job's last run is over: rescheduled to its next day, or
        failed (then CronFailed)."""
        cron = self.sql.row(
            "SELECT nextcall > (now() at time zone 'UTC') AS later, failure_count "
            "FROM ir_cron WHERE id = %s",
            [self.cron_id],
        )
        if cron["failure_count"]:
            raise CronFailed(f"the cron job {self.cron_id} failed (see the log)")
        return cron["later"]

    def in_flight(self):
        """The job's transaction if it holds uncommitted writes in the job's
        batch table: {"backend": its PostgreSQL backend's pid, "xid": ...},
        else None. (Nothing else writes to this database while the job runs;
        the worker's connections may carry the master's pid in their
        application name, as they come from a pool made before the fork.)"""
        return self.sql.row(
            """
            SELECT a.pid AS backend, a.backend_xid::text AS xid
              FROM pg_stat_activity a
              JOIN pg_locks l ON l.pid = a.pid
              JOIN pg_class c ON c.oid = l.relation
             WHERE a.datname = %s AND a.pid != pg_backend_pid()
               AND c.relname = %s AND l.mode = 'RowExclusiveLock' AND l.granted
               AND a.backend_xid IS NOT NULL
             LIMIT 1
            """,
            [self.dbname, BATCH_TABLES[self.job["job"]]],
        )

    def xact_status(self, xid):
        """committed / aborted / in progress, of a 32-bit xid of this epoch."""
        return self.sql.value(
            "SELECT pg_xact_status((((pg_snapshot_xmax(pg_current_snapshot())"
            "::text::bigint >> 32) << 32) + %s)::text::xid8)",
            [int(xid)],
        )

    # the run ----------------------------------------------------------------

    def _worker(self, exclude=(), timeout=300):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = [
                pid
                for pid in cron_worker_pids(self.server_pid, self.log_path)
                if pid not in exclude
            ]
            if pids:
                return pids[0]
            time.sleep(0.2)
        raise CronFailed(f"no cron worker under the server {self.server_pid}")

    def _sample(self, pid):
        progress = self.progress()
        memory = memory_kib(pid)
        if self.backend is None and (flight := self.in_flight()):
            self.backend = flight["backend"]
        sample = {
            "t": time.monotonic(),
            "done": progress["done"],
            "runs": progress["runs"],
            "pid": pid,
            "rss": memory and memory[0],
            "hwm": memory and memory[1],
            "cpu": cpu_seconds(pid),
            "backend": self.backend,
            "db_cpu": cpu_seconds(self.backend) if self.backend else None,
        }
        self.samples.append(sample)
        if memory:
            worker = self.workers.setdefault(pid, {"idle_rss": memory[0], "hwm": 0})
            worker["hwm"] = max(worker["hwm"], memory[1])
        return sample

    def _start(self, pid, runs, timeout):
        """Wake the worker ``pid`` until the job's run number ``runs`` + 1
        has started."""
        deadline = time.monotonic() + timeout
        while self.progress()["runs"] <= runs:
            if time.monotonic() > deadline:
                raise CronFailed(f"the cron worker {pid} did not start the job")
            self._sample(pid)
            self.wake()
            time.sleep(0.5)

    def run(self, kill_after=None, timeout=3600, interval=0.5):
        self.arm()
        pid = self._worker()
        self._sample(pid)  # idle memory of the worker
        self.start_time = time.monotonic()
        self._start(pid, 0, timeout=120)
        deadline = self.start_time + timeout
        while not self.finished():
            if time.monotonic() > deadline:
                raise CronFailed(f"the job did not end in {timeout} s")
            sample = self._sample(pid)
            if (
                kill_after is not None
                and not self.kills
                and (sample["done"] >= kill_after)
            ):
                pid = self._kill_mid_batch(pid)
                continue
            time.sleep(interval)
        self.end_time = time.monotonic()
        self._sample(pid)
        return self

    def _kill_mid_batch(self, pid, timeout=120):
        """``kill -9`` the worker while its transaction holds uncommitted
        writes of a batch; wait until PostgreSQL aborted that transaction and
        the master forked a new worker, and wake it until the job restarts."""
        deadline = time.monotonic() + timeout
        while not (flight := self.in_flight()):
            if time.monotonic() > deadline:
                raise CronFailed("no batch in flight to kill")
            time.sleep(0.02)
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        xid = flight["xid"]
        self.backend = None
        runs = self.progress()["runs"]
        while self.xact_status(xid) == "in progress":
            if time.monotonic() > deadline:
                raise CronFailed(f"the transaction {xid} of the killed worker lives")
            time.sleep(0.1)
        kill = {
            "pid": pid,
            "t": killed_at,
            "xid": xid,
            "xact_status": self.xact_status(xid),
            "done_after": self.progress()["done"],
        }
        self.kills.append(kill)
        self.log(
            f"killed cron worker {pid} (kill -9) with batch transaction {xid} "
            f"in flight, {kill['done_after']} records committed; "
            f"transaction {xid}: {kill['xact_status']}"
        )
        new_pid = self._worker(exclude={pid})
        kill["new_pid"] = new_pid
        self._start(new_pid, runs, timeout=timeout)
        kill["restarted_at"] = time.monotonic()
        self.log(f"cron worker {new_pid} forked by the master runs the job again")
        return new_pid

    # results ----------------------------------------------------------------

    def summary(self, step=10000):
        """Per ``step`` records, between the samples where the committed
        count crossed successive multiples of ``step`` (those with a kill
        between them left out): wall seconds, CPU seconds of the cron worker
        and of its PostgreSQL backend. Also: the time to the first commit of
        each run (its search and first batch), the peak RSS of the
        workers."""
        crossings = []
        for sample in self.samples:
            while len(crossings) < sample["done"] // step:
                crossings.append(sample)
        steps = {"wall": [], "cpu": [], "db_cpu": []}
        for start, end in zip(crossings, crossings[1:], strict=False):
            if start["pid"] != end["pid"]:
                continue
            steps["wall"].append(end["t"] - start["t"])
            if None not in (start["cpu"], end["cpu"]):
                steps["cpu"].append(end["cpu"] - start["cpu"])
            if start["backend"] == end["backend"] and None not in (
                start["db_cpu"],
                end["db_cpu"],
            ):
                steps["db_cpu"].append(end["db_cpu"] - start["db_cpu"])
        first_commits = []
        for run_start in [self.start_time] + [k["restarted_at"] for k in self.kills]:
            base = max(
                (s["done"] for s in self.samples if s["t"] <= run_start), default=0
            )
            later = [
                s["t"] for s in self.samples if s["t"] > run_start and s["done"] > base
            ]
            first_commits.append(later[0] - run_start if later else None)
        return {
            "records": self.samples[-1]["done"] if self.samples else 0,
            "seconds": (self.end_time or time.monotonic()) - self.start_time,
            "step": step,
            "steps": steps,
            "median": {
                name: statistics.median(values) if values else None
                for name, values in steps.items()
            },
            "first_commit": first_commits,
            "workers": self.workers,
            "peak_rss_mib": max((w["hwm"] for w in self.workers.values()), default=0)
            / 1024,
            "kills": self.kills,
        }

    def close(self):
        self.sql.close()
        self.postgres.close()


# ----------------------------------------------------------------------------
# Proofs (SQL)
# ----------------------------------------------------------------------------


def check_revisit(sql, job):
    """Each lost lead of the revisit team, due, got its revisit exactly once:
    one revisit activity, linked from its loss, one note; the loss flagged."""
    return sql.row(
        """
        SELECT count(*) AS losses,
               count(*) FILTER (WHERE l.state != 'lost') AS not_open,
               count(*) FILTER (WHERE l.revisit_scheduled IS NOT TRUE)
                   AS not_flagged,
               count(*) FILTER (WHERE a.n IS NULL) AS without_activity,
               count(*) FILTER (WHERE a.n > 1) AS several_activities,
               count(*) FILTER (
                   WHERE l.revisit_activity_id IS DISTINCT FROM a.first_id
               ) AS activity_not_linked,
               count(*) FILTER (WHERE m.n IS NULL) AS without_note,
               count(*) FILTER (WHERE m.n > 1) AS several_notes
          FROM crm_lead_loss l
          JOIN crm_lead ld ON ld.id = l.lead_id
          LEFT JOIN (
                SELECT res_id, count(*) AS n, min(id) AS first_id
                  FROM mail_activity
                 WHERE res_model = 'crm.lead' AND activity_type_id = %s
                 GROUP BY res_id
               ) a ON a.res_id = l.lead_id
          LEFT JOIN (
                SELECT res_id, count(*) AS n
                  FROM mail_message
                 WHERE model = 'crm.lead' AND body LIKE %s
                 GROUP BY res_id
               ) m ON m.res_id = l.lead_id
         WHERE ld.team_id = %s
        """,
        [job["activity_type_id"], f"%{REVISIT_NOTE}%", job["team_id"]],
    )


def check_stale(sql, job):
    """Each opportunity of the stale team was lost once by the job: archived,
    one loss (open, automatic, with the team's reason)."""
    return sql.row(
        """
        SELECT count(*) AS opportunities,
               count(*) FILTER (WHERE ld.active) AS still_active,
               count(*) FILTER (WHERE ls.n IS NULL) AS without_loss,
               count(*) FILTER (WHERE ls.n > 1) AS lost_several_times,
               count(*) FILTER (WHERE ls.open != 1) AS not_one_open_loss,
               count(*) FILTER (WHERE NOT ls.automatic) AS not_automatic,
               count(*) FILTER (WHERE NOT ls.team_reason) AS other_reason
          FROM crm_lead ld
          LEFT JOIN (
                SELECT lead_id, count(*) AS n,
                       count(*) FILTER (WHERE state = 'lost') AS open,
                       bool_and(is_automatic) AS automatic,
                       bool_and(lost_reason_id = %s) AS team_reason
                  FROM crm_lead_loss
                 GROUP BY lead_id
               ) ls ON ls.lead_id = ld.id
         WHERE ld.team_id = %s
        """,
        [job["reason_id"], job["team_id"]],
    )


def check_loss_history(sql):
    """The loss history's invariants over every lead of the database: a lead
    is lost (archived, probability 0) iff it has exactly one open loss, whose
    data is the lead's current loss data; an archived lead has no chance
    left; a loss is open iff not restored; a loss has its lead's company."""
    return sql.row(
        """
        WITH open AS (
            SELECT lead_id, count(*) AS n, min(id) AS loss_id
              FROM crm_lead_loss WHERE state = 'lost' GROUP BY lead_id
        )
        SELECT
            (SELECT count(*) FROM crm_lead
              WHERE active IS NOT TRUE AND coalesce(probability, 0) != 0)
                AS archived_with_chance,
            (SELECT count(*) FROM crm_lead ld LEFT JOIN open o ON o.lead_id = ld.id
              WHERE ld.active IS NOT TRUE AND coalesce(o.n, 0) != 1)
                AS lost_without_one_open_loss,
            (SELECT count(*) FROM crm_lead ld JOIN open o ON o.lead_id = ld.id
              WHERE ld.active) AS active_with_open_loss,
            (SELECT count(*) FROM crm_lead ld
               JOIN open o ON o.lead_id = ld.id
               JOIN crm_lead_loss l ON l.id = o.loss_id
              WHERE ld.lost_reason_id IS DISTINCT FROM l.lost_reason_id
                 OR ld.lost_competitor_id IS DISTINCT FROM l.competitor_id
                 OR ld.lost_revisit_date IS DISTINCT FROM l.revisit_date
                 OR coalesce(ld.lost_feedback, '') != coalesce(l.closing_note, ''))
                AS lead_data_not_its_open_loss,
            (SELECT count(*) FROM crm_lead_loss
              WHERE (state = 'lost') != (restored_date IS NULL))
                AS state_not_restored_date,
            (SELECT count(*) FROM crm_lead_loss l JOIN crm_lead ld ON ld.id = l.lead_id
              WHERE l.company_id IS DISTINCT FROM ld.company_id)
                AS company_not_the_leads
        """
    )


def violations(counts, totals=("losses", "opportunities")):
    """The non-zero counts of a check (its totals left out)."""
    return {name: n for name, n in counts.items() if n and name not in totals}
