"""Many users at once: crm_lost_management against stock Odoo, in one run.

Builds (or reuses, with CLM_BENCH_REUSE=1) two template databases from the
same seed, without demo data: ``clm_load_tpl_stock`` (crm only, filled
through the ORM with 16 salespeople, own documents only, each with 180
opportunities of which 30% lost and 10% won, each their own team, and 4
managers) and ``clm_load_tpl_addon`` (a copy of it with crm_lost_management
installed on top, whose install hook records the leads lost already, and a
few competitors). Each side gets a fresh copy (``clm_load_stock``,
``clm_load_addon``) served by ``odoo --workers 4 --max-cron-threads 0`` on a
free loopback port; its users are signed in beforehand (the sessions of the
last run are reused while valid: a password hash per user is costly and is
not what is compared).

Locust, installed on demand in its own virtualenv
(``$CLM_WORKDIR/locust-venv``, never in Odoo's), runs the scenario of
``load_locustfile.py`` headless against both servers at once: salespeople
working their own pipelines (Lost filter, open a lead, Mark as Lost through
the dialog, restore it) and managers reading the loss reports, with the
JSON-RPC calls of the web client. Once every web client is open, the sides
take turns of ``--turn`` seconds in ABBA order (stock, addon, addon,
stock, ...), the users of the other side waiting between two clicks, until
each side had ``--duration`` seconds: a machine shared with other jobs
changes its load over minutes, and the turns make that hit both sides
alike. Then Locust is stopped, so the run is bounded.

Prints, per side, requests/s and per request type the count, errors, p50 and
p95; then checks the loss history of the addon database by SQL. The p95 that
is compared is the p95 of all requests of the *compared* types: the types
both sides send while their users work (same name: same screen and call),
the start of the web client excluded. The module's own screens (restore
dialog, Revisit Now, Lost Analysis, Win/Loss) and stock's replacements for
them (Restore button, Pipeline Analysis) are reported, not compared. The
last line is ``load ratio addon/stock: p95=<x.xx> errors=<n>`` (errors of
both sides: failed requests and scenario exceptions). Exits non-zero when
there was an error or an invariant does not hold.
"""

import argparse
import contextlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
LOCUSTFILE = os.path.join(HERE, "load_locustfile.py")
LOCUST_REQUIREMENT = "locust>=2.30,<3"
TPL = {"stock": "clm_load_tpl_stock", "addon": "clm_load_tpl_addon"}
RUN = {"stock": "clm_load_stock", "addon": "clm_load_addon"}
PASSWORD = "clm-load-2026"
MARKER = "clm_load.fill"
STARTED = time.monotonic()

# one open loss per lost lead, none for the others, the lead's company
INVARIANTS = {
    "lost leads without exactly one open loss": """
        SELECT count(*) FROM crm_lead l
         WHERE NOT l.active AND l.probability = 0
           AND (SELECT count(*) FROM crm_lead_loss s
                 WHERE s.lead_id = l.id AND s.restored_date IS NULL) <> 1
    """,
    "leads not lost with an open loss": """
        SELECT count(*) FROM crm_lead l
         WHERE NOT (NOT l.active AND l.probability = 0)
           AND EXISTS (SELECT 1 FROM crm_lead_loss s
                        WHERE s.lead_id = l.id AND s.restored_date IS NULL)
    """,
    "losses whose state disagrees with Restored On": """
        SELECT count(*) FROM crm_lead_loss
         WHERE (state = 'lost') <> (restored_date IS NULL)
    """,
    "losses of another company than their lead's": """
        SELECT count(*) FROM crm_lead_loss s JOIN crm_lead l ON l.id = s.lead_id
         WHERE s.company_id IS DISTINCT FROM l.company_id
    """,
}


def say(message):
    print(f"[{time.monotonic() - STARTED:4.0f} s] {message}", flush=True)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def psql(db, query):
    out = subprocess.run(
        ["psql", "-X", "-d", db, "-Atc", query], capture_output=True, text=True
    )
    return out.stdout.strip() if out.returncode == 0 else None


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values, pct):
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    values = sorted(values)
    pos = (len(values) - 1) * pct / 100
    low = int(pos)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (pos - low)


# ----------------------------------------------------------------------
# Locust, in its own virtualenv
# ----------------------------------------------------------------------


def ensure_locust(workdir):
    venv = os.path.join(workdir, "locust-venv")
    locust = os.path.join(venv, "bin", "locust")
    if not os.path.exists(locust):
        say(f"Installing Locust into {venv}...")
        # the system's Python, not Odoo's: Odoo's environment stays as tests use it
        python = shutil.which("python3") or "python3"
        sh([python, "-m", "venv", venv])
        sh(
            [
                os.path.join(venv, "bin", "pip"),
                "install",
                "--quiet",
                "--disable-pip-version-check",
                LOCUST_REQUIREMENT,
            ]
        )
    version = subprocess.run(
        [locust, "--version"], capture_output=True, text=True, check=True
    ).stdout.split(" from ")[0]
    return locust, version.strip()


# ----------------------------------------------------------------------
# Databases
# ----------------------------------------------------------------------


def fill_params(args):
    sales = args.users - args.managers
    return {
        "sales": sales,
        "managers": args.managers,
        "per_user": args.leads_per_user,
        # stock's lead scoring keeps its counts per team (one row per team,
        # field and value), updated by every loss and restore: salespeople
        # of one team losing leads within the same seconds (a day's losses
        # in a minute, here) wait on those rows and Odoo retries their
        # transactions. The same on both sides, but it would swamp what is
        # compared: each salesperson is a team of their own.
        "teams": sales,
        "competitors": 6,
    }


def template_ready(args, side):
    db = TPL[side]
    found = psql(db, f"SELECT value FROM ir_config_parameter WHERE key = '{MARKER}'")
    if not found or json.loads(found) != fill_params(args):
        return False
    if side == "addon":
        state = psql(
            db,
            "SELECT state FROM ir_module_module WHERE name = 'crm_lost_management'",
        )
        return state == "installed"
    return True


def odoo_cmd(args, db, *extra):
    return [args.odoo_bin, f"--addons-path={args.addons_path}", "-d", db, *extra]


def copy_db(template, db):
    """CREATE DATABASE ... TEMPLATE, with the filestore."""
    from_store, to_store = filestore(template), filestore(db)
    sh(["dropdb", "--if-exists", db])
    shutil.rmtree(to_store, ignore_errors=True)
    sh(["createdb", "-T", template, db])
    if os.path.isdir(from_store):
        shutil.copytree(from_store, to_store)


def filestore(db):
    data_dir = os.environ.get("CLM_LOAD_DATA_DIR") or os.path.expanduser(
        "~/.local/share/Odoo"
    )
    return os.path.join(data_dir, "filestore", db)


def build_templates(args):
    reuse = os.environ.get("CLM_BENCH_REUSE") == "1"
    if reuse and template_ready(args, "stock") and template_ready(args, "addon"):
        say(f"Reusing {TPL['stock']} and {TPL['addon']}.")
        sh(
            odoo_cmd(
                args,
                TPL["addon"],
                "-u",
                "crm_lost_management",
                "--stop-after-init",
                "--log-level=warn",
            )
        )
        return
    for db in (*RUN.values(), *TPL.values()):
        sh(["dropdb", "--if-exists", db])
    say(f"Creating {TPL['stock']} (crm)...")
    sh(
        odoo_cmd(
            args,
            TPL["stock"],
            "-i",
            "crm",
            "--without-demo=all",
            "--stop-after-init",
            "--log-level=warn",
        )
    )
    params = fill_params(args)
    say(
        f"Filling it: {params['sales']} salespeople x {params['per_user']} "
        f"opportunities, {params['managers']} managers..."
    )
    # in a process of its own: no connection left open to the template
    sh(
        [
            sys.executable,
            __file__,
            "--odoo-bin",
            args.odoo_bin,
            "--addons-path",
            args.addons_path,
            "--fill",
            json.dumps(params),
        ]
    )
    say(f"Creating {TPL['addon']} (its copy + crm_lost_management)...")
    copy_db(TPL["stock"], TPL["addon"])
    sh(
        odoo_cmd(
            args,
            TPL["addon"],
            "-i",
            "crm_lost_management",
            "--stop-after-init",
            "--log-level=warn",
        )
    )
    sh(
        [
            sys.executable,
            __file__,
            "--odoo-bin",
            args.odoo_bin,
            "--addons-path",
            args.addons_path,
            "--fill-addon",
            json.dumps(fill_params(args)),
        ]
    )


def odoo_env(args, db):
    """A superuser cursor on ``db``, in this (helper) process."""
    import odoo
    from odoo.tools import config

    config.parse_config(
        [f"--addons-path={args.addons_path}", "-d", db, "--log-level=warn"]
    )
    return odoo.modules.registry.Registry(db).cursor()


def fill_addon(args, params):
    """What the module's screens offer on top: a few competitors to pick
    in the Mark as Lost dialog."""
    import odoo

    with odoo_env(args, TPL["addon"]) as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["crm.lost.competitor"].create(
            [{"name": f"Load Rival {i}"} for i in range(params["competitors"])]
        )


def fill(args, params):
    """Salespeople (own documents only) each with their own opportunities,
    managers leading the teams (one per salesperson), a few partners and
    reasons; 30% of the opportunities lost, 10% won. Through the ORM, from a
    fixed seed."""
    import odoo
    from odoo import Command

    rng = random.Random(2026)
    with odoo_env(args, TPL["stock"]) as cr:
        env = odoo.api.Environment(
            cr,
            odoo.SUPERUSER_ID,
            {"tracking_disable": True, "mail_create_nolog": True},
        )
        Users = env["res.users"].with_context(no_reset_password=True)

        def users(kind, group, count):
            return Users.create(
                [
                    {
                        "name": f"Load {kind.title()} {i}",
                        "login": f"load_{kind}_{i}",
                        "password": PASSWORD,
                        "email": f"load.{kind}.{i}@example.com",
                        "groups_id": [Command.set([env.ref(group).id])],
                    }
                    for i in range(count)
                ]
            )

        sales = users("sales", "sales_team.group_sale_salesman", params["sales"])
        managers = users("manager", "sales_team.group_sale_manager", params["managers"])
        teams = env["crm.team"].create(
            [
                {
                    "name": f"Load Team {t}",
                    "user_id": managers[t % len(managers)].id,
                    "crm_team_member_ids": [
                        Command.create({"user_id": user.id})
                        for user in sales[t :: params["teams"]]
                    ],
                }
                for t in range(params["teams"])
            ]
        )
        reasons = env["crm.lost.reason"].search([]) | env["crm.lost.reason"].create(
            [{"name": f"Load Reason {i}"} for i in range(5)]
        )
        partners = env["res.partner"].create(
            [
                {
                    "name": f"Load Customer {i} Ltd",
                    "is_company": True,
                    "email": f"info@customer{i}.example.com",
                    "city": "Brussels",
                }
                for i in range(200)
            ]
        )
        stages = env["crm.stage"].search([("is_won", "=", False)])
        vals = []
        for i, user in enumerate(sales):
            team = teams[i % len(teams)]
            for k in range(params["per_user"]):
                partner = rng.choice(partners)
                vals.append(
                    {
                        "name": f"Load {i}-{k}: {partner.name} deal",
                        "type": "opportunity",
                        "user_id": user.id,
                        "team_id": team.id,
                        "partner_id": partner.id,
                        "stage_id": rng.choice(stages).id,
                        "expected_revenue": rng.randrange(1, 100) * 500,
                        "priority": rng.choice("0012"),
                        "contact_name": f"Contact {i}-{k}",
                        "phone": f"+32 470 {i:02d} {k:04d}",
                        "description": f"<p>{'Needs a quote. ' * 20}</p>",
                    }
                )
        leads = env["crm.lead"].create(vals)
        env.flush_all()
        ids = leads.ids
        rng.shuffle(ids)
        n_lost, n_won = len(ids) * 3 // 10, len(ids) // 10
        lost = env["crm.lead"].browse(ids[:n_lost])
        for r, reason in enumerate(reasons):
            lost[r :: len(reasons)].action_set_lost(lost_reason_id=reason.id)
        env["crm.lead"].browse(ids[n_lost : n_lost + n_won]).action_set_won()
        env["ir.config_parameter"].set_param(MARKER, json.dumps(params))
        cr.commit()
        print(
            f"  {len(ids)} opportunities ({n_lost} lost, {n_won} won), "
            f"{len(sales)} salespeople, {len(managers)} managers",
            flush=True,
        )


# ----------------------------------------------------------------------
# One side: server + Locust
# ----------------------------------------------------------------------


class Server:
    def __init__(self, args, db, logfile):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.cmd = odoo_cmd(
            args,
            db,
            f"--db-filter=^{db}$",
            "--http-interface=127.0.0.1",
            f"--http-port={self.port}",
            f"--gevent-port={free_port()}",
            f"--workers={args.workers}",
            "--max-cron-threads=0",
            "--log-level=warn",
            "--log-handler=odoo.service.model:INFO",
            f"--logfile={logfile}",
        )
        self.logfile = logfile
        self.process = None

    def __enter__(self):
        if os.path.exists(self.logfile):
            os.unlink(self.logfile)  # odoo appends: one run per log
        self.process = subprocess.Popen(self.cmd, start_new_session=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"odoo exited (log {self.logfile})")
            try:
                with urllib.request.urlopen(f"{self.url}/web/health", timeout=5):
                    return self
            except OSError:
                time.sleep(0.5)
        self.__exit__()
        raise RuntimeError(f"odoo did not answer in 120 s (log {self.logfile})")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()


def log_in(url, db, logins):
    """Sign every scenario user in before the test (four at a time), as
    users who have the web client open already: password hashing is
    stock's and costly, and is not what is compared. Returns their session
    ids; it also loads the registry in the workers."""
    from concurrent.futures import ThreadPoolExecutor
    from http.cookies import SimpleCookie

    def one(login):
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "call",
                "params": {"db": db, "login": login, "password": PASSWORD},
            }
        ).encode()
        request = urllib.request.Request(
            f"{url}/web/session/authenticate",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as resp:
            answer = json.load(resp)
            if answer.get("error") or not answer["result"].get("uid"):
                raise RuntimeError(f"{login} cannot log in: {answer}")
            cookie = SimpleCookie(resp.headers.get("Set-Cookie"))
            return login, cookie["session_id"].value

    with ThreadPoolExecutor(4) as pool:
        return dict(pool.map(one, logins))


def sessions_valid(url, path, logins):
    """The sessions of the last run still open (the copy of the same
    template has the same users and database secret): signing in again
    would cost a password hash per user."""
    try:
        with open(path) as file:
            sessions = json.load(file)
    except (OSError, ValueError):
        return False
    if set(sessions) != set(logins):
        return False
    for session_id in sessions.values():
        request = urllib.request.Request(
            f"{url}/web/session/get_session_info",
            data=b'{"jsonrpc": "2.0", "method": "call", "params": {}}',
            headers={
                "Content-Type": "application/json",
                "Cookie": f"session_id={session_id}",
            },
        )
        with urllib.request.urlopen(request, timeout=60) as resp:
            if not (json.load(resp).get("result") or {}).get("uid"):
                return False
    return True


def start_side(args, stack, side, outdir):
    """A fresh copy of the side's template, its server, its users signed
    in; returns (server, sessions file)."""
    db = RUN[side]
    copy_db(TPL[side], db)
    server = stack.enter_context(
        Server(args, db, os.path.join(outdir, f"{side}-odoo.log"))
    )
    logins = [f"load_sales_{i}" for i in range(args.users - args.managers)] + [
        f"load_manager_{i}" for i in range(args.managers)
    ]
    sessions = os.path.join(outdir, f"{side}-sessions.json")
    start = time.monotonic()
    if sessions_valid(server.url, sessions, logins):
        how = "still signed in"
    else:
        with open(sessions, "w") as file:
            json.dump(log_in(server.url, db, logins), file)
        how = "signed in"
    say(
        f"{side}: {db} served at {server.url} ({args.workers} workers), "
        f"{len(logins)} users {how} ({time.monotonic() - start:.0f} s)"
    )
    return server, sessions


def cpu_seconds(server, db):
    """CPU time used so far by the server's processes (master and
    workers, exited workers included) and by the PostgreSQL backends of its
    database. Linux /proc; None elsewhere."""
    ticks = os.sysconf("SC_CLK_TCK")

    def used(pid, children):
        try:
            with open(f"/proc/{pid}/stat") as file:
                fields = file.read().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0, None
        # fields[0] is field 3 (state): utime, stime, cutime, cstime = 14-17
        times = [int(x) for x in fields[11 : 15 if children else 13]]
        return sum(times) / ticks, int(fields[2])  # field 5: process group

    if not os.path.isdir("/proc"):
        return None
    group = server.process.pid
    odoo = 0.0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            seconds, pgrp = used(int(entry), children=True)
            if pgrp == group:
                odoo += seconds
    backends = psql(
        "postgres", f"SELECT pid FROM pg_stat_activity WHERE datname = '{db}'"
    )
    pg = sum(used(int(pid), children=False)[0] for pid in (backends or "").split())
    return odoo, pg


def start_locust(args, locust, side, url, sessions, outdir, control, seconds):
    """Locust for one side, in the background, bounded by ``seconds``."""
    samples = os.path.join(outdir, f"{side}-samples.json")
    for path in (samples, f"{samples}.ready"):
        if os.path.exists(path):
            os.unlink(path)
    env = dict(
        os.environ,
        LOAD_SESSIONS=sessions,
        LOAD_SIDE=side,
        LOAD_SALES=str(args.users - args.managers),
        LOAD_MANAGERS=str(args.managers),
        LOAD_THINK=args.think,
        LOAD_SAMPLES=samples,
        LOAD_CONTROL=control,
    )
    log = open(os.path.join(outdir, f"{side}-locust.log"), "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            locust,
            "-f",
            LOCUSTFILE,
            "--headless",
            "-u",
            str(args.users),
            "-r",
            str(args.spawn_rate),
            "-t",
            f"{seconds}s",
            "--stop-timeout",
            "5",
            "--host",
            url,
            "--csv",
            os.path.join(outdir, side),
            "--only-summary",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, samples, log


def ready_users(samples):
    try:
        with open(f"{samples}.ready") as file:
            return int(file.read() or 0)
    except (OSError, ValueError):
        return 0


def run_sides(args, locust, outdir):
    """Both servers up and both Locusts started at once; once every user of
    both sides has its web client open, the sides take turns of
    ``--turn`` seconds, in ABBA order (stock, addon, addon, stock, ...),
    until each had ``--duration`` seconds: the users of the side not on
    turn wait between two clicks. So a change of the machine's load during
    the run (other jobs on a shared machine) hits both sides alike."""
    turns = max(1, round(args.duration / args.turn))
    order = []
    for pair in range(turns):
        order += ["stock", "addon"] if pair % 2 == 0 else ["addon", "stock"]
    control = os.path.join(outdir, "turn")
    with open(control, "w") as file:
        file.write("start")
    runs = {}
    with contextlib.ExitStack() as stack:
        started = {side: start_side(args, stack, side, outdir) for side in RUN}
        servers = {side: server for side, (server, _s) in started.items()}
        bound = 180 + 2 * turns * args.turn
        locusts = {
            side: start_locust(
                args, locust, side, server.url, sessions, outdir, control, bound
            )
            for side, (server, sessions) in started.items()
        }
        t0 = time.monotonic()
        while any(ready_users(s) < args.users for _p, s, _l in locusts.values()):
            if time.monotonic() - t0 > 150 or any(
                p.poll() is not None for p, _s, _l in locusts.values()
            ):
                break
            time.sleep(0.5)
        say(
            f"web clients open ({time.monotonic() - t0:.0f} s); {turns} turns of "
            f"{args.turn} s per side..."
        )
        active = {side: 0.0 for side in RUN}
        cpu_before = {side: cpu_seconds(servers[side], RUN[side]) for side in RUN}
        for side in order:
            with open(control, "w") as file:
                file.write(side)
            start = time.monotonic()
            time.sleep(args.turn)
            active[side] += time.monotonic() - start
        with open(control, "w") as file:
            file.write("stop")
        cpu_after = {side: cpu_seconds(servers[side], RUN[side]) for side in RUN}
        for process, _samples, _log in locusts.values():
            process.terminate()
        for side, (process, samples, log) in locusts.items():
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
            with open(samples) as file:
                runs[side] = json.load(file)
            runs[side]["seconds"] = active[side]
            if cpu_before[side] and cpu_after[side]:
                runs[side]["cpu"] = [
                    after - before
                    for before, after in zip(
                        cpu_before[side], cpu_after[side], strict=True
                    )
                ]
    for side in runs:
        runs[side]["retries"] = serialization_retries(
            os.path.join(outdir, f"{side}-odoo.log")
        )
    return runs


def serialization_retries(logfile):
    """Concurrent updates Odoo retried by itself (odoo.service.model logs
    them at INFO): not errors, but a sign of users waiting on each other."""
    try:
        with open(logfile, encoding="utf-8", errors="replace") as file:
            return sum("tries left, try again" in line for line in file)
    except OSError:
        return 0


def summarize(run):
    by_type = {}
    for name, ms, failed in run["samples"]:
        entry = by_type.setdefault(name, {"times": [], "errors": 0})
        entry["times"].append(ms)
        entry["errors"] += failed
    return by_type


def compared_types(found):
    """The request types both sides send while users work; the start of
    the web client (``start: ...``, once per user and day in real life,
    here all at once) is reported, not compared."""
    return {
        name
        for name in set(found["stock"]) & set(found["addon"])
        if not name.startswith("start: ")
    }


def print_side(side, run, by_type, shared):
    work = [n for n in by_type if not n.startswith("start: ")]
    total = sum(len(by_type[n]["times"]) for n in work)
    errors = sum(e["errors"] for e in by_type.values()) + run["scenario_errors"]
    seconds = run["seconds"]
    print()
    print(
        f"{side}: {total} requests in {seconds:.0f} s of turns = "
        f"{total / seconds:.1f} requests/s; {errors} errors "
        f"({run['scenario_errors']} in the scenario itself); "
        f"{run['retries']} serialization retries"
    )
    print(
        f"  {'request type':<52} {'count':>6} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7}"
    )
    for name in sorted(by_type):
        entry = by_type[name]
        mark = " " if name in shared else "-" if name.startswith("start: ") else "*"
        print(
            f"{mark} {name:<52} {len(entry['times']):>6} {entry['errors']:>6} "
            f"{percentile(entry['times'], 50):>7.0f} "
            f"{percentile(entry['times'], 95):>7.0f}"
        )
    for label, names in (("compared types", shared), ("all work types", work)):
        times = [t for n in names for t in by_type[n]["times"]]
        print(
            f"  {'overall, ' + label:<52} {len(times):>6} {'':>6} "
            f"{percentile(times, 50):>7.0f} {percentile(times, 95):>7.0f}"
        )
    if run.get("cpu"):
        odoo, pg = run["cpu"]
        print(
            f"  CPU used during the turns: odoo {odoo:.1f} s + PostgreSQL "
            f"{pg:.1f} s = {(odoo + pg) * 1000 / max(total, 1):.0f} ms per request"
        )
    for message, count in sorted(run["errors"].items(), key=lambda x: -x[1])[:10]:
        print(f"  error x{count}: {message}")
    return errors


def check_invariants(db):
    print()
    print(f"Loss history invariants ({db}):")
    broken = 0
    for label, query in INVARIANTS.items():
        found = psql(db, query)
        count = int(found) if found is not None else -1
        broken += count != 0
        print(f"  {label}: {count if count >= 0 else 'query failed'}")
    lost = psql(
        db, "SELECT count(*) FROM crm_lead WHERE NOT active AND probability = 0"
    )
    losses = psql(db, "SELECT count(*) FROM crm_lead_loss")
    before = psql(TPL["addon"], "SELECT count(*) FROM crm_lead_loss")
    closed = "SELECT count(*) FROM crm_lead_loss WHERE restored_date IS NOT NULL"
    restored = int(psql(db, closed)) - int(psql(TPL["addon"], closed))
    print(
        f"  ({lost} lost leads, {losses} loss records; the run recorded "
        f"{int(losses) - int(before)} losses and closed {restored})"
    )
    return broken


def bootstrap_ratio(stock, addon, rounds=500):
    """95% interval of the p95 ratio over resamples of the requests: how
    much of the ratio is the luck of this run."""
    rng = random.Random(11)
    ratios = sorted(
        percentile(rng.choices(addon, k=len(addon)), 95)
        / percentile(rng.choices(stock, k=len(stock)), 95)
        for _ in range(rounds)
    )
    return ratios[int(rounds * 0.025)], ratios[int(rounds * 0.975) - 1]


def check_scenario(locust, version):
    """Locust loads the scenario of each side and finds its users."""
    for side in RUN:
        out = subprocess.run(
            [locust, "-f", LOCUSTFILE, "--list"],
            env=dict(os.environ, LOAD_SIDE=side),
            capture_output=True,
            text=True,
        )
        users = {line.strip() for line in out.stdout.splitlines()[1:]}
        if out.returncode or users != {"Salesperson", "Manager"}:
            print(out.stdout + out.stderr)
            print(f"{version}: the {side} scenario does not load")
            return 1
    print(f"{version}: the scenario loads for both sides (Salesperson, Manager)")
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--odoo-bin", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--users", type=int, default=20, help="simulated users")
    parser.add_argument("--managers", type=int, default=4, help="of which managers")
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--duration", type=int, default=60, help="seconds per side")
    parser.add_argument("--turn", type=int, default=15, help="seconds of a side's turn")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--leads-per-user", type=int, default=180)
    parser.add_argument(
        "--think", default="1,3", help="seconds between a user's clicks: min,max"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="only install Locust and load the scenario (no database, no server)",
    )
    parser.add_argument("--fill", help=argparse.SUPPRESS)
    parser.add_argument("--fill-addon", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fill:
        fill(args, json.loads(args.fill))
        return 0
    if args.fill_addon:
        fill_addon(args, json.loads(args.fill_addon))
        return 0

    workdir = os.environ.get("CLM_WORKDIR") or os.path.expanduser(
        "~/.cache/crm_lost_management"
    )
    outdir = os.path.join(workdir, "load")
    os.makedirs(outdir, exist_ok=True)
    locust, version = ensure_locust(workdir)
    if args.check:
        return check_scenario(locust, version)
    build_templates(args)
    runs = run_sides(args, locust, outdir)
    found = {side: summarize(run) for side, run in runs.items()}
    shared = compared_types(found)

    print()
    print(
        f"{version}, {args.users} users ({args.managers} managers) for "
        f"{args.duration} s per side in turns of {args.turn} s, think time "
        f"{args.think} s, "
        f"odoo --workers {args.workers}; compared: the request types of both sides "
        "(* one side only, - web client start, not compared)"
    )
    errors = sum(print_side(side, runs[side], found[side], shared) for side in runs)
    broken = check_invariants(RUN["addon"])
    compared = {
        side: [t for n in shared for t in found[side][n]["times"]] for side in runs
    }
    p95 = {side: percentile(times, 95) for side, times in compared.items()}
    low, high = bootstrap_ratio(compared["stock"], compared["addon"])
    print()
    print(
        f"p95 of the compared types: stock {p95['stock']:.0f} ms, addon "
        f"{p95['addon']:.0f} ms; ratio {p95['addon'] / p95['stock']:.2f} "
        f"(95% bootstrap interval {low:.2f}-{high:.2f})"
    )
    print(f"logs and Locust CSV in {outdir}; {time.monotonic() - STARTED:.0f} s in all")
    print(
        f"load ratio addon/stock: p95={p95['addon'] / p95['stock']:.2f} errors={errors}"
    )
    return 1 if errors or broken else 0


if __name__ == "__main__":
    sys.exit(main())
