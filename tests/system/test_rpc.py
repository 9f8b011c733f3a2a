# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""External clients against a server run as in production.

One copy of the test database, one ``odoo --workers 2 --max-cron-threads 1``
server for the whole module. A salesperson (own documents only) drives it with
the stdlib XML-RPC client (``/xmlrpc/2``) and with JSON-RPC (``/jsonrpc``)
through ``requests``, as integration scripts do; every effect is checked in
the database with SQL, every refused call must come back as a user-facing
error that names the records and the fix, and leave nothing behind. The cron
worker of the same server runs the module's revisit job once triggered.
"""

import datetime
import itertools
import json
import os
import re
import time
import uuid
import xmlrpc.client

import pytest
import requests

SALES_LOGIN = "clm_rpc_sales"
SALES_PASSWORD = "clm-rpc-sales-2026"
UNKNOWN_ID = 999999

SETUP = f"""
import json
from odoo import Command

main = env.ref("base.main_company")
main.crm_lost_reason_required = True
other = env["res.company"].create({{"name": "RPC Company Two"}})
salesman = env["res.users"].with_context(no_reset_password=True).create({{
    "name": "RPC Salesman",
    "login": "{SALES_LOGIN}",
    "password": "{SALES_PASSWORD}",
    "email": "clm.rpc.sales@example.com",
    "groups_id": [Command.set([env.ref("sales_team.group_sale_salesman").id])],
    "company_id": main.id,
    "company_ids": [Command.set([main.id])],
}})
Reason = env["crm.lost.reason"]
ids = {{
    "uid": salesman.id,
    "company_2": other.id,
    "plain": Reason.create({{"name": "RPC Too Expensive"}}).id,
    "note": Reason.create(
        {{"name": "RPC Missing Features", "note_required": True}}
    ).id,
    "competitor_reason": Reason.create(
        {{"name": "RPC Went Elsewhere", "competitor_required": True}}
    ).id,
    "opportunity_only": Reason.create(
        {{"name": "RPC Opportunity Only", "applies_to": "opportunity"}}
    ).id,
    "company_2_reason": Reason.create(
        {{"name": "RPC Reason of Company Two", "company_id": other.id}}
    ).id,
    "archived": Reason.create(
        {{"name": "RPC Archived Reason", "active": False}}
    ).id,
    "competitor": env["crm.lost.competitor"].create(
        {{"name": "RPC Rival Inc."}}
    ).id,
    "revisit_type": env.ref(
        "crm_lost_management.mail_activity_type_revisit_lost"
    ).id,
    "revisit_cron": env.ref("crm_lost_management.ir_cron_crm_lead_loss_revisit").id,
}}
env.cr.commit()
print("CLM_IDS " + json.dumps(ids))
"""

LOG_LINE = re.compile(r"^\S+ \S+ (?P<pid>\d+) (?P<level>[A-Z]+) (?P<db>\S+) ")


# ----------------------------------------------------------------------------
# Clients
# ----------------------------------------------------------------------------


class RpcError(Exception):
    """A refused call, as the client library reports it: ``kind`` is the
    XML-RPC fault code or the JSON-RPC exception name."""

    def __init__(self, kind, message):
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message


class TimeoutTransport(xmlrpc.client.Transport):
    """A hung server fails the test instead of blocking it."""

    def make_connection(self, host):
        connection = super().make_connection(host)
        connection.timeout = 120
        return connection


class XmlRpcClient:
    """The stdlib client on /xmlrpc/2 (integer fault codes)."""

    protocol = "xmlrpc"

    def __init__(self, url, db, login, password):
        self.db, self.password = db, password
        transport = TimeoutTransport()
        common = xmlrpc.client.ServerProxy(
            f"{url}/xmlrpc/2/common", transport=transport
        )
        self.uid = common.authenticate(db, login, password, {})
        self.object = xmlrpc.client.ServerProxy(
            f"{url}/xmlrpc/2/object", transport=transport
        )

    def call(self, model, method, *args, **kwargs):
        try:
            return self.object.execute_kw(
                self.db, self.uid, self.password, model, method, list(args), kwargs
            )
        except xmlrpc.client.Fault as fault:
            raise RpcError(fault.faultCode, fault.faultString) from None

    @staticmethod
    def expected_kind(exception):
        # /xmlrpc/2 reports UserError (ValidationError included) as a warning
        return 2


class JsonRpcClient:
    """JSON-RPC 2.0 on /jsonrpc with requests, as odoorpc-like clients do."""

    protocol = "jsonrpc"
    _ids = itertools.count(1)

    def __init__(self, url, db, login, password):
        self.url, self.db, self.password = url, db, password
        self.session = requests.Session()
        self.uid = self._rpc("common", "authenticate", db, login, password, {})

    def _rpc(self, service, method, *args):
        response = self.session.post(
            f"{self.url}/jsonrpc",
            json={
                "jsonrpc": "2.0",
                "method": "call",
                "id": next(self._ids),
                "params": {"service": service, "method": method, "args": args},
            },
            timeout=120,
        )
        response.raise_for_status()
        body = response.json()
        if "error" in body:
            data = body["error"].get("data") or {}
            raise RpcError(data.get("name"), data.get("message"))
        # Odoo leaves "result" out when the method returned None
        return body.get("result")

    def call(self, model, method, *args, **kwargs):
        return self._rpc(
            "object",
            "execute_kw",
            self.db,
            self.uid,
            self.password,
            model,
            method,
            list(args),
            kwargs,
        )

    @staticmethod
    def expected_kind(exception):
        return f"odoo.exceptions.{exception}"


CLIENTS = {client.protocol: client for client in (XmlRpcClient, JsonRpcClient)}


# ----------------------------------------------------------------------------
# Fixtures
# ----------------------------------------------------------------------------


class Rpc:
    """The server of the module, its database and what the setup created."""

    def __init__(self, db, server, ids):
        self.db, self.server, self.ids = db, server, ids
        self.clients = {}

    def client(self, protocol):
        if protocol not in self.clients:
            client = CLIENTS[protocol](
                self.server.url, self.db.name, SALES_LOGIN, SALES_PASSWORD
            )
            assert client.uid == self.ids["uid"], "the salesperson logs in"
            self.clients[protocol] = client
        return self.clients[protocol]

    # records ------------------------------------------------------------

    def create_leads(self, client, count=1, lead_type="opportunity"):
        """Leads of the salesperson, created through the client itself."""
        tag = uuid.uuid4().hex[:6]
        return client.call(
            "crm.lead",
            "create",
            [
                {"name": f"RPC {client.protocol} {tag} {index}", "type": lead_type}
                for index in range(count)
            ],
        )

    def rows(self, sql, params=None):
        """Rows of ``sql`` as dicts."""
        return [
            row[0]
            for row in self.db.query(f"SELECT to_jsonb(r) FROM ({sql}) r", params)
        ]

    def leads(self, lead_ids):
        return self.rows(
            "SELECT id, name, active, lost_reason_id, lost_competitor_id, "
            "lost_date IS NOT NULL AS dated, lost_by_id, lost_note, probability "
            "FROM crm_lead WHERE id = ANY(%s) ORDER BY id",
            [list(lead_ids)],
        )

    def losses(self, lead_ids):
        return self.rows(
            "SELECT lead_id, state, lost_reason_id, closing_note_text, "
            "competitor_id, lost_by_id, user_id, restored_by_id, "
            "restored_date IS NOT NULL AS restored, restore_note "
            "FROM crm_lead_loss WHERE lead_id = ANY(%s) ORDER BY lead_id, id",
            [list(lead_ids)],
        )

    def footprint(self, lead_ids):
        """Everything a refused call must leave as it was."""
        return {
            "leads": self.leads(lead_ids),
            "losses": self.losses(lead_ids),
            "messages": self.db.value(
                "SELECT count(*) FROM mail_message WHERE model = 'crm.lead' "
                "AND res_id = ANY(%s)",
                [list(lead_ids)],
            ),
        }

    # server log ------------------------------------------------------------

    def log_lines(self):
        return self.server.log_text().splitlines()

    def worker_pids(self, timeout=60):
        """{"WorkerHTTP": {pid, ...}, "WorkerCron": {pid}} from the log."""
        pattern = re.compile(r"Worker (WorkerHTTP|WorkerCron) \((\d+)\) alive")
        deadline = time.monotonic() + timeout
        while True:
            pids = {"WorkerHTTP": set(), "WorkerCron": set()}
            for line in self.log_lines():
                match = pattern.search(line)
                if match:
                    pids[match[1]].add(int(match[2]))
            started = len(pids["WorkerHTTP"]) >= 2 and pids["WorkerCron"]
            if started or time.monotonic() > deadline:
                return pids
            time.sleep(0.5)


@pytest.fixture(scope="module")
def rpc(module_make_db, module_odoo_server):
    db = module_make_db("rpc")
    output = db.shell(SETUP, label="rpc-setup")
    marker = [line for line in output.splitlines() if line.startswith("CLM_IDS ")]
    assert marker, f"the setup script printed no ids:\n{output}"
    ids = json.loads(marker[-1].removeprefix("CLM_IDS "))
    server = module_odoo_server(db, workers=2, max_cron_threads=1)
    return Rpc(db, server, ids)


@pytest.fixture(params=sorted(CLIENTS))
def client(request, rpc):
    return rpc.client(request.param)


def _ppid(pid):
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


# ----------------------------------------------------------------------------
# The server runs as in production
# ----------------------------------------------------------------------------


def test_server_runs_prefork_workers_and_a_cron_worker(rpc):
    """Two HTTP workers and a cron worker, forked by the master; the RPC
    calls are served by the HTTP workers, not by the master."""
    for protocol in CLIENTS:
        client = rpc.client(protocol)
        assert client.call("res.users", "read", [client.uid], ["login"])
    master = rpc.server.process.pid
    pids = rpc.worker_pids()
    assert len(pids["WorkerHTTP"]) == 2, pids
    assert len(pids["WorkerCron"]) == 1, pids
    for pid in pids["WorkerHTTP"] | pids["WorkerCron"]:
        assert os.path.exists(f"/proc/{pid}"), f"worker {pid} is alive"
        assert _ppid(pid) == master, f"worker {pid} is a child of the master"
    log = rpc.log_lines()
    assert any(
        "HTTP service (werkzeug) running on 127.0.0.1" in line
        and LOG_LINE.match(line)["pid"] == str(master)
        for line in log
    ), "the master process listens"
    served_by = {
        int(LOG_LINE.match(line)["pid"])
        for line in log
        if re.search(r'"POST /(xmlrpc/2/object|jsonrpc) HTTP', line)
    }
    assert served_by, "the RPC requests are in the log"
    assert served_by <= pids["WorkerHTTP"], (served_by, pids)


# ----------------------------------------------------------------------------
# Losing and restoring
# ----------------------------------------------------------------------------


def test_action_set_lost_records_the_loss(rpc, client):
    ids = rpc.ids
    (lead_id,) = rpc.create_leads(client)
    result = client.call(
        "crm.lead",
        "action_set_lost",
        [lead_id],
        lost_reason_id=ids["plain"],
        lost_feedback="<p>Our price was 20% above theirs</p>",
    )
    assert result is True
    (lead,) = rpc.leads([lead_id])
    assert lead["active"] is False
    assert lead["lost_reason_id"] == ids["plain"]
    assert lead["lost_note"] == "Our price was 20% above theirs"
    assert lead["lost_by_id"] == client.uid
    assert lead["probability"] == 0
    (loss,) = rpc.losses([lead_id])
    assert loss["state"] == "lost"
    assert loss["lost_reason_id"] == ids["plain"]
    assert loss["closing_note_text"] == "Our price was 20% above theirs"
    assert loss["lost_by_id"] == client.uid
    assert loss["user_id"] == client.uid


def test_mark_lost_wizard_records_the_competitor(rpc, client):
    ids = rpc.ids
    lead_ids = rpc.create_leads(client, 2)
    wizard_id = client.call(
        "crm.lead.lost",
        "create",
        {
            "lead_ids": [(6, 0, lead_ids)],
            "lost_reason_id": ids["competitor_reason"],
            "lost_feedback": "<p>They bundled installation</p>",
            "lost_competitor_id": ids["competitor"],
        },
    )
    assert client.call("crm.lead.lost", "action_lost_reason_apply", [wizard_id])
    for lead in rpc.leads(lead_ids):
        assert lead["active"] is False
        assert lead["lost_reason_id"] == ids["competitor_reason"]
        assert lead["lost_competitor_id"] == ids["competitor"]
    losses = rpc.losses(lead_ids)
    assert [loss["lead_id"] for loss in losses] == lead_ids, "one loss each"
    for loss in losses:
        assert loss["state"] == "lost"
        assert loss["lost_reason_id"] == ids["competitor_reason"]
        assert loss["competitor_id"] == ids["competitor"]
        assert loss["closing_note_text"] == "They bundled installation"
        assert loss["lost_by_id"] == client.uid


def test_archiving_through_the_api_records_a_loss(rpc, client):
    """Lost Reason Required is a user interface setting (see the roadmap):
    archiving through the API still records a loss, without reason; with a
    reason in the same write, the loss has it."""
    ids = rpc.ids
    plain_id, reasoned_id, archived_id = rpc.create_leads(client, 3)
    assert client.call("crm.lead", "write", [plain_id], {"active": False}) is True
    assert (
        client.call(
            "crm.lead",
            "write",
            [reasoned_id],
            {"active": False, "lost_reason_id": ids["plain"]},
        )
        is True
    )
    assert client.call("crm.lead", "action_archive", [archived_id]) is True
    lead_ids = [plain_id, reasoned_id, archived_id]
    losses = {loss["lead_id"]: loss for loss in rpc.losses(lead_ids)}
    assert set(losses) == {plain_id, reasoned_id, archived_id}
    assert all(loss["state"] == "lost" for loss in losses.values())
    assert losses[plain_id]["lost_reason_id"] is None
    assert losses[archived_id]["lost_reason_id"] is None
    assert losses[reasoned_id]["lost_reason_id"] == ids["plain"]
    assert not any(lead["active"] for lead in rpc.leads(lead_ids))


def test_action_unarchive_restores(rpc, client):
    ids = rpc.ids
    (lead_id,) = rpc.create_leads(client)
    client.call("crm.lead", "action_set_lost", [lead_id], lost_reason_id=ids["plain"])
    assert client.call("crm.lead", "action_unarchive", [lead_id]) is True
    (lead,) = rpc.leads([lead_id])
    assert lead["active"] is True
    assert lead["lost_reason_id"] is None
    assert lead["dated"] is False
    (loss,) = rpc.losses([lead_id])
    assert loss["state"] == "recovered"
    assert loss["restored_by_id"] == client.uid
    assert loss["restored"] is True
    assert loss["lost_reason_id"] == ids["plain"], "the history keeps the reason"


def test_batch_lost_in_one_call_restored_by_the_wizard(rpc, client):
    ids = rpc.ids
    lead_ids = rpc.create_leads(client, 3)
    client.call(
        "crm.lead",
        "action_set_lost",
        lead_ids,
        lost_reason_id=ids["note"],
        lost_feedback="<p>Needs the API module</p>",
    )
    losses = rpc.losses(lead_ids)
    assert [loss["lead_id"] for loss in losses] == lead_ids
    assert {loss["state"] for loss in losses} == {"lost"}
    assert {loss["closing_note_text"] for loss in losses} == {"Needs the API module"}
    wizard_id = client.call(
        "crm.lead.restore",
        "create",
        {"lead_ids": [(6, 0, lead_ids)], "restore_note": "Budget approved"},
    )
    result = client.call("crm.lead.restore", "action_restore", [wizard_id])
    assert result == {"type": "ir.actions.act_window_close"}
    assert all(lead["active"] for lead in rpc.leads(lead_ids))
    losses = rpc.losses(lead_ids)
    assert [loss["lead_id"] for loss in losses] == lead_ids, "no new loss"
    for loss in losses:
        assert loss["state"] == "recovered"
        assert loss["restored_by_id"] == client.uid
        assert loss["restore_note"] == "Budget approved"
    # lost again later: a second loss, the first one stays recovered
    client.call("crm.lead", "action_set_lost", lead_ids[:1])
    states = [loss["state"] for loss in rpc.losses(lead_ids[:1])]
    assert states == ["recovered", "lost"]


# ----------------------------------------------------------------------------
# Refused calls: a clear error, nothing written
# ----------------------------------------------------------------------------


def _names(rpc, lead_ids):
    return ", ".join(f'"{lead["name"]}"' for lead in rpc.leads(lead_ids))


def _set_lost(values):
    def call(rpc, client, lead_ids):
        client.call("crm.lead", "action_set_lost", lead_ids, **values(rpc.ids))

    return call


def _write(values):
    def call(rpc, client, lead_ids):
        client.call("crm.lead", "write", lead_ids, values(rpc.ids))

    return call


def _wizard(values):
    def call(rpc, client, lead_ids):
        wizard_id = client.call(
            "crm.lead.lost",
            "create",
            {"lead_ids": [(6, 0, lead_ids)], **values(rpc.ids)},
        )
        client.call("crm.lead.lost", "action_lost_reason_apply", [wizard_id])

    return call


def _restore_wizard(rpc, client, lead_ids):
    wizard_id = client.call(
        "crm.lead.restore", "create", {"lead_ids": [(6, 0, lead_ids)]}
    )
    client.call("crm.lead.restore", "action_restore", [wizard_id])


UNKNOWN_REASON = (
    f"The lost reason with ID {UNKNOWN_ID} does not exist (it may have been "
    "deleted). Pick an existing lost reason."
)
UNKNOWN_COMPETITOR = (
    f"The competitor with ID {UNKNOWN_ID} does not exist (it may have been "
    "deleted). Pick an existing competitor."
)
OTHER_COMPANY = (
    "The lost reason RPC Reason of Company Two cannot be used for {names}: it "
    "belongs to the company RPC Company Two. Pick another lost reason."
)
NOTE_MISSING = (
    "The lost reason RPC Missing Features requires a closing note for {names}. "
    "Explain what went wrong in the closing note."
)
ARCHIVED = (
    "The lost reason RPC Archived Reason is archived. Pick an active lost reason."
)

# id: (call, lead types, exception, message; {names}: the leads refused)
BAD_CALLS = {
    "set_lost-unknown-reason": (
        _set_lost(lambda ids: {"lost_reason_id": UNKNOWN_ID}),
        ["opportunity"],
        "ValidationError",
        UNKNOWN_REASON,
    ),
    "write-unknown-reason": (
        _write(lambda ids: {"active": False, "lost_reason_id": UNKNOWN_ID}),
        ["opportunity"],
        "ValidationError",
        UNKNOWN_REASON,
    ),
    "wizard-unknown-reason": (
        _wizard(lambda ids: {"lost_reason_id": UNKNOWN_ID}),
        ["opportunity"],
        "ValidationError",
        UNKNOWN_REASON,
    ),
    "set_lost-unknown-competitor": (
        _set_lost(
            values=lambda ids: {
                "lost_reason_id": ids["competitor_reason"],
                "lost_competitor_id": UNKNOWN_ID,
            }
        ),
        ["opportunity"],
        "ValidationError",
        UNKNOWN_COMPETITOR,
    ),
    "set_lost-other-company": (
        _set_lost(lambda ids: {"lost_reason_id": ids["company_2_reason"]}),
        ["opportunity"],
        "ValidationError",
        OTHER_COMPANY,
    ),
    "wizard-other-company": (
        _wizard(lambda ids: {"lost_reason_id": ids["company_2_reason"]}),
        ["opportunity"],
        "UserError",
        OTHER_COMPANY,
    ),
    "set_lost-note-missing": (
        _set_lost(
            values=lambda ids: {
                "lost_reason_id": ids["note"],
                "lost_feedback": "<p><br></p>",
            }
        ),
        ["opportunity", "opportunity"],
        "ValidationError",
        NOTE_MISSING,
    ),
    "wizard-note-missing": (
        _wizard(lambda ids: {"lost_reason_id": ids["note"]}),
        ["opportunity"],
        "UserError",
        NOTE_MISSING,
    ),
    "set_lost-archived-reason": (
        _set_lost(lambda ids: {"lost_reason_id": ids["archived"]}),
        ["opportunity"],
        "ValidationError",
        ARCHIVED,
    ),
    "wizard-no-reason": (
        _wizard(lambda ids: {}),
        ["opportunity"],
        "UserError",
        "A lost reason is required to mark {names} as lost. Pick the reason why "
        "it was lost.",
    ),
    "wizard-batch-with-one-lead": (
        _wizard(lambda ids: {"lost_reason_id": ids["opportunity_only"]}),
        ["opportunity", "lead", "opportunity"],
        "UserError",
        "The lost reason RPC Opportunity Only cannot be used for {lead_names}: it "
        "is only for opportunities. Pick another lost reason.",
    ),
    "restore-active-lead": (
        _restore_wizard,
        ["opportunity"],
        "UserError",
        "Only lost leads and opportunities can be restored; {names} are not "
        "lost. Remove them from the selection.",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CALLS))
def test_refused_call_is_clear_and_writes_nothing(rpc, client, case):
    call, types, exception, message = BAD_CALLS[case]
    lead_ids = []
    for lead_type in types:
        lead_ids += rpc.create_leads(client, lead_type=lead_type)
    before = rpc.footprint(lead_ids)
    with pytest.raises(RpcError) as caught:
        call(rpc, client, lead_ids)
    error = caught.value
    lead_only = [
        lead_id
        for lead_id, type_ in zip(lead_ids, types, strict=True)
        if type_ == "lead"
    ]
    expected = message.format(
        names=_names(rpc, lead_ids), lead_names=_names(rpc, lead_only)
    )
    assert error.message == expected
    assert error.kind == client.expected_kind(exception), error.message
    assert rpc.footprint(lead_ids) == before
    assert all(lead["active"] for lead in before["leads"])
    assert before["losses"] == []


def test_http_workers_logged_no_error(rpc):
    """Refused calls are checked before writing: PostgreSQL never refuses a
    query (the server would log ERROR "bad query"), nothing crashes."""
    http_pids = {str(pid) for pid in rpc.worker_pids()["WorkerHTTP"]}
    errors = [
        line
        for line in rpc.log_lines()
        if (match := LOG_LINE.match(line))
        and match["pid"] in http_pids
        and match["level"] in ("ERROR", "CRITICAL")
    ]
    assert errors == []


# ----------------------------------------------------------------------------
# The cron worker runs the module's jobs
# ----------------------------------------------------------------------------


def test_cron_worker_schedules_the_revisit(rpc):
    """A loss due for a revisit gets its activity from the revisit job, run by
    the cron worker once the job is triggered (as code does with
    ``_trigger()``)."""
    ids = rpc.ids
    client = rpc.client("xmlrpc")
    (lead_id,) = rpc.create_leads(client)
    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    client.call(
        "crm.lead",
        "action_set_lost",
        [lead_id],
        lost_reason_id=ids["plain"],
        lost_revisit_date=yesterday,
    )
    (loss,) = rpc.rows(
        "SELECT revisit_date::text, revisit_scheduled IS TRUE AS scheduled "
        "FROM crm_lead_loss "
        "WHERE lead_id = %s",
        [lead_id],
    )
    assert loss == {"revisit_date": yesterday, "scheduled": False}
    rpc.db.shell(
        "env['ir.cron'].browse(%d)._trigger()\nenv.cr.commit()\n" % ids["revisit_cron"],
        label="rpc-trigger",
    )
    deadline = time.monotonic() + 120
    activities = []
    while not activities and time.monotonic() < deadline:
        time.sleep(1)
        activities = rpc.rows(
            "SELECT a.user_id, l.revisit_scheduled IS TRUE AS scheduled, "
            "l.revisit_activity_id = a.id AS linked "
            "FROM mail_activity a JOIN crm_lead_loss l ON l.lead_id = a.res_id "
            "WHERE a.res_model = 'crm.lead' AND a.res_id = %s "
            "AND a.activity_type_id = %s",
            [lead_id, ids["revisit_type"]],
        )
    assert activities == [{"user_id": client.uid, "scheduled": True, "linked": True}], (
        "the revisit job ran within 120 s"
    )
    cron_pids = {
        LOG_LINE.match(line)["pid"]
        for line in rpc.log_lines()
        if "Job 'CRM: Revisit lost deals'" in line and "starting" in line
    }
    assert cron_pids == {str(pid) for pid in rpc.worker_pids()["WorkerCron"]}
