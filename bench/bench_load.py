"""Many users at once: crm_lost_management against stock Odoo, in one run.

Builds (or reuses, with CLM_BENCH_REUSE=1) two template databases from the
same seed, without demo data: ``clm_load_tpl_stock`` (crm only, filled with
salespeople, managers and their opportunities) and ``clm_load_tpl_addon``
(a copy of it with crm_lost_management installed on top, whose install hook
records the leads lost already). For each side in turn, a fresh copy of the
template (``clm_load_stock``, ``clm_load_addon``) is served by
``odoo --workers 4 --max-cron-threads 0`` on a free loopback port, and Locust
(installed on demand in its own virtualenv, ``$CLM_WORKDIR/locust-venv``,
never in Odoo's) runs the scenario of ``load_locustfile.py`` headless for a
fixed time: salespeople working their own pipelines (Lost filter, open a
lead, Mark as Lost through the dialog, restore it) and managers reading the
loss reports, with the JSON-RPC calls of the web client.

Prints, per side, requests/s and per request type the count, errors, p50 and
p95; then checks the loss history of the addon database by SQL. The p95 that
is compared is the p95 of all requests of the *shared* types, the request
types both sides send (same name: same screen and call); the module's own
screens (restore dialog, Revisit Now, Lost Analysis, Win/Loss) and stock's
replacements for them are reported but not compared. The last line is
``load ratio addon/stock: p95=<x.xx> errors=<n>`` (errors of both sides).
Exits non-zero when a request failed or an invariant does not hold.
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
        print(f"Installing Locust into {venv}...", flush=True)
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
    return {
        "sales": args.users - args.managers,
        "managers": args.managers,
        "per_user": args.leads_per_user,
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
        print(f"Reusing {TPL['stock']} and {TPL['addon']}.", flush=True)
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
    print(f"Creating {TPL['stock']} (crm)...", flush=True)
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
    print(
        f"Filling it: {params['sales']} salespeople x {params['per_user']} "
        f"opportunities, {params['managers']} managers...",
        flush=True,
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
    print(f"Creating {TPL['addon']} (its copy + crm_lost_management)...", flush=True)
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


def fill(args, params):
    """Salespeople (own documents only) each with their own opportunities,
    managers, two teams, a few partners and reasons; 30% of the
    opportunities lost, 10% won. Through the ORM, from a fixed seed."""
    import odoo
    from odoo import Command
    from odoo.tools import config

    db = TPL["stock"]
    config.parse_config(
        [f"--addons-path={args.addons_path}", "-d", db, "--log-level=warn"]
    )
    rng = random.Random(2026)
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
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
                        Command.create({"user_id": user.id}) for user in sales[t::2]
                    ],
                }
                for t in range(2)
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
            team = teams[i % 2]
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


def start_side(args, stack, side, outdir):
    """A fresh copy of the side's template, its server, its users signed
    in; returns (server url, sessions file)."""
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
    with open(sessions, "w") as file:
        json.dump(log_in(server.url, db, logins), file)
    print(
        f"{side}: {db} served at {server.url} ({args.workers} workers), "
        f"{len(logins)} users signed in ({time.monotonic() - start:.0f} s)",
        flush=True,
    )
    return server.url, sessions


def run_locust(args, locust, side, url, sessions, outdir, label, seconds):
    """One Locust run: ``seconds`` of the scenario against one side."""
    samples = os.path.join(outdir, f"{label}-samples.json")
    if os.path.exists(samples):
        os.unlink(samples)
    print(f"{label}: {args.users} users for {seconds} s...", flush=True)
    env = dict(
        os.environ,
        LOAD_SESSIONS=sessions,
        LOAD_SIDE=side,
        LOAD_SALES=str(args.users - args.managers),
        LOAD_MANAGERS=str(args.managers),
        LOAD_THINK=args.think,
        LOAD_SAMPLES=samples,
    )
    with open(os.path.join(outdir, f"{label}-locust.log"), "w") as log:
        subprocess.run(
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
                os.path.join(outdir, label),
                "--only-summary",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=seconds + 120,
            check=False,
        )
    with open(samples) as file:
        return json.load(file)


def run_sides(args, locust, outdir):
    """Both servers up at once (an idle one costs nothing); the sides take
    turns, ABBA, so that a change of the machine's load over the run hits
    both alike. Returns every side's runs merged."""
    seconds = args.duration // args.rounds
    order = []
    for round_ in range(args.rounds):
        order += ["stock", "addon"] if round_ % 2 == 0 else ["addon", "stock"]
    runs = {
        side: {"samples": [], "errors": {}, "scenario_errors": 0, "seconds": 0}
        for side in ("stock", "addon")
    }
    with contextlib.ExitStack() as stack:
        started = {side: start_side(args, stack, side, outdir) for side in runs}
        for i, side in enumerate(order):
            url, sessions = started[side]
            run = run_locust(
                args, locust, side, url, sessions, outdir, f"{side}-{i // 2}", seconds
            )
            merged = runs[side]
            merged["samples"] += run["samples"]
            merged["scenario_errors"] += run["scenario_errors"]
            merged["seconds"] += run["stop"] - run["start"]
            for message, count in run["errors"].items():
                merged["errors"][message] = merged["errors"].get(message, 0) + count
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


def print_side(side, run, by_type, shared):
    total = sum(len(e["times"]) for e in by_type.values())
    errors = sum(e["errors"] for e in by_type.values()) + run["scenario_errors"]
    seconds = run["seconds"]
    print()
    print(
        f"{side}: {total} requests in {seconds:.0f} s = {total / seconds:.1f} "
        f"requests/s, {errors} errors ({run['scenario_errors']} in the scenario "
        f"itself), {run['retries']} serialization retries"
    )
    print(
        f"  {'request type':<52} {'count':>6} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7}"
    )
    for name in sorted(by_type):
        entry = by_type[name]
        mark = " " if name in shared else "*"
        print(
            f"{mark} {name:<52} {len(entry['times']):>6} {entry['errors']:>6} "
            f"{percentile(entry['times'], 50):>7.0f} "
            f"{percentile(entry['times'], 95):>7.0f}"
        )
    for label, names in (("shared types", shared), ("all types", set(by_type))):
        times = [t for n in names for t in by_type[n]["times"]]
        print(
            f"  {'overall, ' + label:<52} {len(times):>6} {'':>6} "
            f"{percentile(times, 50):>7.0f} {percentile(times, 95):>7.0f}"
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
    print(f"  ({lost} lost leads, {losses} loss records)")
    return broken


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--odoo-bin", required=True)
    parser.add_argument("--addons-path", required=True)
    parser.add_argument("--users", type=int, default=20, help="simulated users")
    parser.add_argument("--managers", type=int, default=4, help="of which managers")
    parser.add_argument("--spawn-rate", type=float, default=5)
    parser.add_argument("--duration", type=int, default=60, help="seconds per side")
    parser.add_argument(
        "--rounds", type=int, default=2, help="turns per side (the time is split)"
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--leads-per-user", type=int, default=180)
    parser.add_argument(
        "--think", default="1,3", help="seconds between a user's clicks: min,max"
    )
    parser.add_argument("--fill", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fill:
        fill(args, json.loads(args.fill))
        return 0

    started = time.monotonic()
    workdir = os.environ.get("CLM_WORKDIR") or os.path.expanduser(
        "~/.cache/crm_lost_management"
    )
    outdir = os.path.join(workdir, "load")
    os.makedirs(outdir, exist_ok=True)
    locust, version = ensure_locust(workdir)
    build_templates(args)
    runs = run_sides(args, locust, outdir)
    found = {side: summarize(run) for side, run in runs.items()}
    shared = set(found["stock"]) & set(found["addon"])

    print()
    print(
        f"{version}, {args.users} users ({args.managers} managers) for "
        f"{args.duration} s per side in {args.rounds} turns, think time "
        f"{args.think} s, "
        f"odoo --workers {args.workers}; * = not a shared type"
    )
    errors = sum(print_side(side, runs[side], found[side], shared) for side in runs)
    broken = check_invariants(RUN["addon"])
    p95 = {
        side: percentile([t for n in shared for t in found[side][n]["times"]], 95)
        for side in runs
    }
    print()
    print(f"logs and Locust CSV in {outdir}; {time.monotonic() - started:.0f} s in all")
    print(
        f"load ratio addon/stock: p95={p95['addon'] / p95['stock']:.2f} errors={errors}"
    )
    return 1 if errors or broken else 0


if __name__ == "__main__":
    sys.exit(main())
