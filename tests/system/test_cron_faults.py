# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The revisit and stale jobs survive a kill -9 of the cron worker.

One copy of the test database with ``COUNT`` records due for each job (made
by SQL from one record made by the ORM: ``cron_faults.generate``) and the
jobs set to batches of ``BATCH``; one ``odoo --workers 2 --max-cron-threads
1`` server. For each job: the cron is made due and the cron worker woken;
once a third of the records are committed, the worker is killed (SIGKILL)
while its transaction holds a batch's uncommitted writes; the master forks a
new cron worker, which runs the job again to its end. Then SQL proves that
the batch in flight was rolled back, that every due record was processed
exactly once (nothing twice, nothing skipped) and that the loss history's
invariants hold over the whole database. ``bench/run cron`` does the same
with 200,000 records and measures time and memory.
"""

import logging
import re

import cron_faults
import pytest

COUNT = 600
BATCH = 15
KILL_AFTER = COUNT // 3
JOBS = ("revisit", "stale")
CHECKS = {"revisit": cron_faults.check_revisit, "stale": cron_faults.check_stale}

_logger = logging.getLogger(__name__)


@pytest.fixture(scope="module")
def cron_server(module_make_db, module_odoo_server):
    db = module_make_db("cron")
    output = db.shell(
        cron_faults.generate_script(JOBS, COUNT, BATCH), label="cron-generate"
    )
    jobs = cron_faults.parse_generated(output)
    # a run is not cut by the cron worker's limits (60 s of CPU time, 120 s
    # busy) on a slow machine: the only kill is the test's
    server = module_odoo_server(
        db,
        workers=2,
        max_cron_threads=1,
        extra_args=["--limit-time-cpu=3600", "--limit-time-real-cron=0"],
    )
    return db, server, jobs


@pytest.mark.parametrize("name", JOBS)
def test_job_killed_mid_batch_does_each_record_once(cron_server, name):
    db, server, jobs = cron_server
    job = jobs[name]
    run = cron_faults.CronRun(
        db.name, server.process.pid, server.log, job, log=_logger.info
    )
    try:
        run.run(kill_after=KILL_AFTER, timeout=900)
        summary = run.summary(step=100)
        _logger.info("%s: %s", name, summary)

        # killed in the middle of a batch, which was rolled back
        (kill,) = run.kills
        assert kill["xact_status"] == "aborted", kill
        assert KILL_AFTER <= kill["done_after"] < COUNT, kill
        # the job ran again in the new worker, and processed what was left
        assert kill["new_pid"] != kill["pid"]
        progress = run.progress()
        assert progress["runs"] >= 2
        assert progress["done"] == COUNT, (
            "the runs together processed each due record once"
        )
        assert run.finished()

        check = (
            cron_faults.check_revisit if name == "revisit" else cron_faults.check_stale
        )
        counts = check(run.sql, job)
        assert counts.get("losses", counts.get("opportunities")) == COUNT
        assert cron_faults.violations(counts) == {}, counts
        history = cron_faults.check_loss_history(run.sql)
        assert cron_faults.violations(history) == {}, history
    finally:
        run.close()

    job_name = {
        "revisit": "CRM: Revisit lost deals",
        "stale": "CRM: Mark stale opportunities lost",
    }[name]
    log = server.log_text()
    started_in = {
        int(match[1])
        for match in re.finditer(
            rf"^\S+ \S+ (\d+) INFO \S+ \S+: Job '{re.escape(job_name)}' \(\d+\) "
            r"starting",
            log,
            re.MULTILINE,
        )
    }
    assert {kill["pid"], kill["new_pid"]} <= started_in
    errors = [
        line for line in log.splitlines() if " ERROR " in line or " CRITICAL " in line
    ]
    assert errors == []
