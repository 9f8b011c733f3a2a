# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Fixtures of the system tests: real Odoo processes on copies of the test
database.

tools/test installs crm_lost_management (with demo data) into a database,
runs the Odoo tests on it, then runs these tests with plain pytest (the
pytest-odoo plugin off) and these variables set:

- ``CLM_TEST_DB``: the installed database, used as a template (never changed);
- ``ODOO_BIN``, ``ODOO_PYTHON``, ``ODOO_ADDONS_PATH``, ``CLM_WORKDIR``: from
  tools/odoo-env.sh.

A missing variable fails the tests: they are never skipped.
"""

import contextlib
import os
import socket
import subprocess
import time
import urllib.request
import uuid

import psycopg2
import pytest


def _require_env(name):
    value = os.environ.get(name)
    if not value:
        pytest.fail(
            f"{name} is not set: run the system tests through tools/test "
            "(tools/test crm_lost_management/tests/system)",
            pytrace=False,
        )
    return value


class OdooEnv:
    """Where Odoo is and which database the copies are made from."""

    def __init__(self):
        self.bin = _require_env("ODOO_BIN")
        self.python = _require_env("ODOO_PYTHON")
        self.addons_path = _require_env("ODOO_ADDONS_PATH")
        self.template = _require_env("CLM_TEST_DB")
        self.workdir = _require_env("CLM_WORKDIR")
        self.logdir = os.path.join(self.workdir, "system-logs")
        os.makedirs(self.logdir, exist_ok=True)


class Database:
    """A scratch database (a copy of the test database, or an empty one), with
    SQL and Odoo CLI helpers. ``addons_path``: the one of its Odoo commands
    (default: the test database's). ``port``: the port of its PostgreSQL
    cluster, on the default Unix socket (default: the main cluster's)."""

    def __init__(self, odoo_env, name, addons_path=None, port=None):
        self.odoo_env = odoo_env
        self.name = name
        self.addons_path = addons_path or odoo_env.addons_path
        self.port = port

    def with_addons_path(self, addons_path=None):
        """The same database, its Odoo commands run with ``addons_path``
        (default: the test database's)."""
        return Database(
            self.odoo_env, self.name, addons_path=addons_path, port=self.port
        )

    @property
    def db_args(self):
        """The Odoo options that reach its cluster."""
        return [f"--db_port={self.port}"] if self.port else []

    # SQL --------------------------------------------------------------------

    def query(self, sql, params=None):
        """Rows of one query, in its own committed transaction."""
        port = {"port": self.port} if self.port else {}
        with contextlib.closing(psycopg2.connect(dbname=self.name, **port)) as conn:
            with conn, conn.cursor() as cr:
                cr.execute(sql, params)
                return cr.fetchall() if cr.description else []

    def value(self, sql, params=None):
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    # Odoo command line ------------------------------------------------------

    def log_path(self, label):
        return os.path.join(self.odoo_env.logdir, f"{self.name}-{label}.log")

    def odoo(self, *args, label="cli", timeout=900, check=True):
        """Run ``odoo -d <db> --stop-after-init <args>``; fail the test with
        the log's tail when it exits non-zero or logs an ERROR."""
        log = self.log_path(label)
        cmd = [
            self.odoo_env.bin,
            f"--addons-path={self.addons_path}",
            *self.db_args,
            "-d",
            self.name,
            "--stop-after-init",
            "--log-level=warn",
            f"--logfile={log}",
            "--no-http",
            *args,
        ]
        result = subprocess.run(cmd, timeout=timeout, check=False)
        with open(log, encoding="utf-8", errors="replace") as file:
            text = file.read()
        errors = [
            line
            for line in text.splitlines()
            if " ERROR " in line or " CRITICAL " in line
        ]
        if check and (result.returncode or errors):
            tail = "\n".join(text.splitlines()[-40:])
            pytest.fail(
                f"odoo {' '.join(args)} on {self.name} failed "
                f"(exit {result.returncode}, log {log}):\n{tail}",
                pytrace=False,
            )
        return result, text

    def shell(self, script, label="shell", timeout=600):
        """Run Python in ``odoo shell`` (``env`` is there); return its stdout.
        The script commits itself when it changes data."""
        log = self.log_path(label)
        cmd = [
            self.odoo_env.bin,
            "shell",
            f"--addons-path={self.addons_path}",
            *self.db_args,
            "-d",
            self.name,
            "--log-level=warn",
            f"--logfile={log}",
            "--no-http",
        ]
        result = subprocess.run(
            cmd,
            input=script,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode:
            pytest.fail(
                f"odoo shell on {self.name} failed (exit {result.returncode}, "
                f"log {log}):\n{result.stderr[-3000:]}",
                pytrace=False,
            )
        return result.stdout


def _dropdb(name):
    subprocess.run(
        ["dropdb", "--if-exists", "--force", name], check=False, capture_output=True
    )


@pytest.fixture(scope="session")
def odoo_env():
    return OdooEnv()


@contextlib.contextmanager
def _database_copies(odoo_env):
    created = []

    def make(label="sys", empty=False, addons_path=None):
        name = f"{odoo_env.template}_{label}_{uuid.uuid4().hex[:6]}"
        template = [] if empty else ["-T", odoo_env.template]
        subprocess.run(
            ["createdb", *template, name],
            check=True,
            capture_output=True,
        )
        created.append(name)
        return Database(odoo_env, name, addons_path=addons_path)

    try:
        yield make
    finally:
        for name in created:
            _dropdb(name)


@pytest.fixture
def make_db(odoo_env):
    """Factory: ``make_db(label)`` copies the test database (CREATE DATABASE
    ... TEMPLATE) and drops the copy after the test, whatever happens.
    ``make_db(label, empty=True)`` creates an empty database instead, to
    install into (``db.odoo("-i", ...)``); ``addons_path=`` gives the Odoo
    commands of the database another addons path (another version of the
    addon)."""
    with _database_copies(odoo_env) as make:
        yield make


@pytest.fixture(scope="module")
def module_make_db(odoo_env):
    """As ``make_db``, for a copy shared by the tests of one module (one
    server for all of them, a database uninstalled once and checked by
    several tests...); dropped after the last test of the module."""
    with _database_copies(odoo_env) as make:
        yield make


def free_port():
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OdooServer:
    """``odoo`` serving one database the way production runs it: prefork
    workers, crons in their own process, loopback only. ``extra_args``: more
    options of the command (another PostgreSQL cluster, a read replica...)."""

    def __init__(self, db, workers=2, max_cron_threads=1, extra_args=()):
        self.db = db
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = db.log_path("server")
        self.cmd = [
            db.odoo_env.bin,
            f"--addons-path={db.addons_path}",
            *db.db_args,
            "-d",
            db.name,
            f"--db-filter=^{db.name}$",
            "--http-interface=127.0.0.1",
            f"--http-port={self.port}",
            f"--gevent-port={free_port()}",
            f"--workers={workers}",
            f"--max-cron-threads={max_cron_threads}",
            "--log-level=info",
            f"--logfile={self.log}",
            *extra_args,
        ]
        self.process = None

    def start(self, timeout=120):
        self.process = subprocess.Popen(self.cmd, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"odoo server exited with {self.process.returncode} "
                    f"(log {self.log}):\n{self.log_tail()}",
                    pytrace=False,
                )
            try:
                with urllib.request.urlopen(f"{self.url}/web/health", timeout=5):
                    return self
            except OSError:
                time.sleep(0.5)
        self.stop()
        pytest.fail(f"odoo server did not answer in {timeout} s (log {self.log})")

    def stop(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()

    def log_text(self):
        with open(self.log, encoding="utf-8", errors="replace") as file:
            return file.read()

    def log_tail(self, lines=40):
        return "\n".join(self.log_text().splitlines()[-lines:])


@contextlib.contextmanager
def _servers(make_db):
    servers = []

    def start(db=None, **options):
        server = OdooServer(db or make_db("rpc"), **options)
        servers.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def odoo_server(make_db):
    """Factory: ``odoo_server(db=None, **options)`` starts a multi-worker
    server on a copy of the test database (or on ``db``) and stops it after
    the test."""
    with _servers(make_db) as start:
        yield start


@pytest.fixture(scope="module")
def module_odoo_server(module_make_db):
    """As ``odoo_server``, but the servers are stopped after the last test of
    the module."""
    with _servers(module_make_db) as start:
        yield start
