"""Locust scenario of ``bench/run load`` (see bench_load.py): the web
client's JSON-RPC calls, screen by screen, for salespeople and managers.

Run by bench_load.py with Locust's own Python (not Odoo's), configured by
environment variables: LOAD_SIDE (``stock``: crm alone; ``addon``: with
crm_lost_management), LOAD_SALES and LOAD_MANAGERS
(users ``load_sales_<i>`` and ``load_manager_<i>``), LOAD_SESSIONS (a JSON
file: their session ids, signed in by bench_load.py), LOAD_THINK (``min,max``
seconds between clicks) and LOAD_SAMPLES (where to write every request's
type, time and outcome at the end).

Request types are named after the screen and the call. Both sides send the
same types for the same screens; only the module's screens (restore dialog,
Revisit Now, Lost Analysis, Win/Loss) and stock's replacements for them
(Restore button, Pipeline Analysis) differ. Specifications of the reads are
built from the views the server returns (``get_views``), as the web client
builds them, so a side sends the fields its views show.
"""

import datetime
import itertools
import json
import os
import random
import time
import xml.etree.ElementTree as ET
from collections import Counter

import gevent
from locust import HttpUser, between, events, task

SIDE = os.environ.get("LOAD_SIDE", "addon")
ADDON = SIDE == "addon"
SESSIONS = os.environ.get("LOAD_SESSIONS")
N_SALES = int(os.environ.get("LOAD_SALES", "16"))
N_MANAGERS = int(os.environ.get("LOAD_MANAGERS", "4"))
THINK = tuple(float(x) for x in os.environ.get("LOAD_THINK", "1,3").split(","))
SAMPLES = os.environ.get("LOAD_SAMPLES")
CONTROL = os.environ.get("LOAD_CONTROL")

LOST = [("active", "=", False), ("probability", "=", 0)]
KANBAN_LIMIT, LIST_LIMIT = 40, 80

_rpc_ids = itertools.count(1)
_sales_logins = (f"load_sales_{i}" for i in itertools.count())
_manager_logins = (f"load_manager_{i}" for i in itertools.count())

# ----------------------------------------------------------------------
# every request, kept for bench_load.py (Locust's CSV rounds percentiles)
# ----------------------------------------------------------------------

RECORD = {
    "samples": [],
    "errors": Counter(),
    "scenario_errors": 0,
    "start": None,
    "stop": None,
}


@events.user_error.add_listener
def _on_user_error(user_instance, exception, tb, **_kw):
    # an exception in the scenario itself (not a failed request): a user
    # whose flow broke is an error too
    RECORD["scenario_errors"] += 1
    RECORD["errors"][f"{type(user_instance).__name__}: {exception!r}"[:300]] += 1


@events.test_start.add_listener
def _on_test_start(**_kw):
    RECORD["start"] = time.time()


@events.request.add_listener
def _on_request(name, response_time, exception, **_kw):
    RECORD["samples"].append((name, response_time, int(exception is not None)))
    if exception is not None:
        RECORD["errors"][f"{name}: {exception}"[:300]] += 1


@events.quitting.add_listener
def _on_quitting(**_kw):
    RECORD["stop"] = RECORD["stop"] or time.time()
    if SAMPLES:
        with open(SAMPLES, "w") as file:
            json.dump(RECORD, file)


@events.test_stop.add_listener
def _on_test_stop(**_kw):
    RECORD["stop"] = time.time()


class RpcError(Exception):
    """A failed request, counted already: ends the user's current flow."""


# ----------------------------------------------------------------------
# turns: bench_load.py writes the side whose users may click now into the
# LOAD_CONTROL file; the other side's users wait between two clicks
# ----------------------------------------------------------------------

_control = {"mtime": None, "side": None}
_ready = []


def side_on_turn():
    if not CONTROL:
        return SIDE
    try:
        mtime = os.stat(CONTROL).st_mtime_ns
    except OSError:
        return None
    if mtime != _control["mtime"]:
        with open(CONTROL) as file:
            _control["side"] = file.read().strip()
        _control["mtime"] = mtime
    return _control["side"]


def signal_ready():
    """One more user has its web client open (start-up requests done)."""
    _ready.append(1)
    if SAMPLES:
        with open(f"{SAMPLES}.ready", "w") as file:
            file.write(str(len(_ready)))


# ----------------------------------------------------------------------
# field specifications from view archs, as the web client builds them
# ----------------------------------------------------------------------

SUBVIEWS = ("list", "tree", "kanban")


def view_spec(arch, model, models, with_invisible=False):
    spec = {}
    _collect(ET.fromstring(arch), model, models, spec, with_invisible)
    return spec


def _collect(node, model, models, spec, with_invisible):
    fields = models[model]["fields"]
    for child in node:
        if child.tag == "field" and child.get("name") in fields:
            name = child.get("name")
            spec[name] = _field_spec(child, fields[name], models, with_invisible)
        elif child.tag != "field":
            _collect(child, model, models, spec, with_invisible)


def _field_spec(node, field, models, with_invisible):
    invisible = node.get("invisible") in ("1", "True")
    ftype = field["type"]
    if ftype in ("many2one", "reference"):
        return {"fields": {} if invisible else {"display_name": {}}}
    if ftype in ("one2many", "many2many") and (with_invisible or not invisible):
        sub = next((c for c in node if c.tag in SUBVIEWS), None)
        relation = field["relation"]
        if sub is not None and relation in models:
            return {
                "fields": view_spec(ET.tostring(sub), relation, models),
                "limit": 40,
            }
        if (node.get("widget") or "").startswith("many2many_tags"):
            return {"fields": {"display_name": {}}}
    return {}


def write_values(values):
    """Values of an onchange answer, as the client sends them back."""
    out = {}
    for name, value in values.items():
        if isinstance(value, dict):
            out[name] = value.get("id") or False
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            out[name] = [[4, rec["id"]] for rec in value if rec.get("id")]
        else:
            out[name] = value
    return out


def this_year(field):
    year = datetime.date.today().year
    return [
        "&",
        (field, ">=", f"{year}-01-01 00:00:00"),
        (field, "<=", f"{year}-12-31 23:59:59"),
    ]


# ----------------------------------------------------------------------
# a web client session
# ----------------------------------------------------------------------


class WebClient(HttpUser):
    abstract = True
    wait_time = between(*THINK)

    def rpc(self, name, route, params):
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": next(_rpc_ids),
            "params": params,
        }
        with self.client.post(
            route, json=payload, name=name, catch_response=True
        ) as resp:
            if resp.status_code != 200:
                resp.failure(f"HTTP {resp.status_code}")
                raise RpcError(name)
            try:
                body = resp.json()
            except ValueError:
                resp.failure("answer is not JSON")
                raise RpcError(name) from None
            if body.get("error"):
                data = body["error"].get("data") or {}
                message = data.get("message") or body["error"].get("message")
                resp.failure(f"{data.get('name', 'error')}: {message}")
                raise RpcError(name)
            resp.success()
            return body.get("result")

    def call_kw(self, label, model, method, args, /, **kwargs):
        kwargs.setdefault("context", self.ctx)
        return self.rpc(
            label,
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": args, "kwargs": kwargs},
        )

    def call_button(self, name, model, method, ids, context=None):
        return self.rpc(
            name,
            f"/web/dataset/call_button/{model}/{method}",
            {
                "model": model,
                "method": method,
                "args": [ids],
                "kwargs": {"context": context or self.ctx},
            },
        )

    def open_web_client(self, login):
        """The user signed in before the test (bench_load.py): with their
        session cookie, the web client starts from the session's info."""
        with open(SESSIONS) as file:
            session_id = json.load(file)[login]
        self.client.cookies.set("session_id", session_id)
        info = self.rpc("start: session info", "/web/session/get_session_info", {})
        self.uid = info["uid"]
        company = info["user_companies"]["current_company"]
        self.ctx = dict(info["user_context"], allowed_company_ids=[company])

    def load_action(self, label, xmlid, view_types):
        """/web/action/load then get_views of the action's views; returns
        the views and fields (the client keeps them for the session)."""
        action = self.rpc(
            f"{label}: action/load",
            "/web/action/load",
            {"action_id": xmlid, "context": self.ctx},
        )
        views = [[vid, vtype] for vid, vtype in action["views"] if vtype in view_types]
        if "search" in view_types:
            views.append([(action.get("search_view_id") or [False])[0], "search"])
        found = self.call_kw(
            f"{label}: get_views",
            action["res_model"],
            "get_views",
            [],
            views=views,
            options={"action_id": action["id"], "load_filters": True, "toolbar": True},
        )
        found["action"] = action
        return found

    def spec(self, views, vtype, **kw):
        model = views["action"]["res_model"]
        return view_spec(views["views"][vtype]["arch"], model, views["models"], **kw)

    def on_start(self):
        self.ctx = {}

    def on_ready(self):
        signal_ready()
        self.hold(resume=False)

    def wait(self):
        super().wait()
        self.hold()

    def hold(self, resume=True):
        """Wait for this side's turn; back at the keyboard, the user thinks
        a moment first (their clicks do not all land at once)."""
        if side_on_turn() == SIDE:
            return
        while side_on_turn() != SIDE:
            gevent.sleep(0.1)
        if resume:
            gevent.sleep(random.uniform(*THINK))

    def parallel(self, *calls):
        """Requests the web client sends at once (Promise.all)."""
        jobs = [gevent.spawn(call) for call in calls]
        gevent.joinall(jobs)
        for job in jobs:
            if not job.successful():
                if isinstance(job.exception, RpcError):
                    raise job.exception
                raise RuntimeError(job.exception)
        return [job.value for job in jobs]

    # shared reads ------------------------------------------------------

    def web_read(self, name, model, res_id, spec):
        return self.call_kw(
            name,
            model,
            "web_read",
            [[res_id]],
            specification=spec,
            context=dict(self.ctx, bin_size=True),
        )[0]

    def graph(self, label, model, domain, measure, groupby):
        measures = ["__count"] + ([measure] if measure else [])
        return self.call_kw(
            f"{label}: graph web_read_group",
            model,
            "web_read_group",
            [],
            domain=domain,
            fields=measures,
            groupby=groupby,
            lazy=False,
            context=dict(self.ctx, fill_temporal=True),
        )

    def pivot(self, label, model, domain, measures, rows, cols):
        """The pivot's read_groups: the total, then the rows x cols
        subdivisions at once."""

        def read_group(groupby):
            return lambda: self.call_kw(
                f"{label}: pivot read_group",
                model,
                "read_group",
                [],
                domain=domain,
                fields=measures,
                groupby=groupby,
                lazy=False,
            )

        read_group([])()
        self.parallel(*(read_group(g) for g in (rows, cols, rows + cols)))


class Salesperson(WebClient):
    """Works on their own opportunities only (salesperson: own documents),
    so that users do not wait on each other's rows. One task: pick an
    opportunity in the pipeline, open it, Mark as Lost with the dialog, find
    it with the Lost filter and bring it back, in turn by each way the side
    offers."""

    fixed_count = N_SALES

    def on_start(self):
        super().on_start()
        self.open_web_client(next(_sales_logins))
        self.pipeline = self.load_action(
            "start: pipeline",
            "crm.crm_lead_action_pipeline",
            ("kanban", "list", "form", "search"),
        )
        self.kanban_spec = self.spec(self.pipeline, "kanban")
        self.list_spec = self.spec(self.pipeline, "list")
        self.form_spec = self.spec(self.pipeline, "form")
        self.action_context = dict(self.ctx, default_type="opportunity")
        self.lost_dialog = None
        self.restore_dialog = None
        if ADDON:
            # the form's Restore button opens the module's dialog
            self.restore_ways = ["restore dialog", "revisit now", "unarchive"]
        else:
            self.restore_ways = ["restore button", "unarchive"]
        self.turn = itertools.count(random.randrange(len(self.restore_ways)))
        self.on_ready()

    @task
    def lose_and_restore(self):
        self.hold()
        try:
            lead_id = self.open_pipeline()
            if not lead_id:
                return
            self.wait()
            self.open_lead(lead_id)
            self.wait()
            self.mark_as_lost(lead_id)
            self.wait()
            self.lost_filter()
            self.wait()
            way = self.restore_ways[next(self.turn) % len(self.restore_ways)]
            if way == "unarchive":
                # Lost filter list, select the lead, Actions > Unarchive
                self.call_kw(
                    "unarchive: action_unarchive",
                    "crm.lead",
                    "action_unarchive",
                    [[lead_id]],
                )
                self.lost_filter(reload=True)
                return
            self.open_lead(lead_id, label="lost lead")
            self.wait()
            if way == "restore dialog":
                self.restore_with_dialog(lead_id)
            elif way == "revisit now":
                self.call_button(
                    "revisit now: action_revisit_now",
                    "crm.lead",
                    "action_revisit_now",
                    [lead_id],
                )
            else:
                self.call_button(
                    "restore button: toggle_active",
                    "crm.lead",
                    "toggle_active",
                    [lead_id],
                )
            self.web_read(
                "lost lead: reload web_read", "crm.lead", lead_id, self.form_spec
            )
        except RpcError:
            pass

    def open_pipeline(self):
        """My Pipeline, kanban: columns, progress bars, then each open
        column's cards. Returns one of my opportunities still in play."""
        domain = [("type", "=", "opportunity"), ("user_id", "=", self.uid)]
        aggregates = [
            f"{name}:{field['aggregator']}"
            for name, field in self.pipeline["models"]["crm.lead"]["fields"].items()
            if name in self.kanban_spec
            and field.get("aggregator")
            and name != "stage_id"
        ]
        read_group, __ = self.parallel(
            lambda: self.call_kw(
                "pipeline: web_read_group",
                "crm.lead",
                "web_read_group",
                [],
                domain=domain,
                fields=aggregates,
                groupby=["stage_id"],
                lazy=True,
                context=self.action_context,
            ),
            lambda: self.call_kw(
                "pipeline: read_progress_bar",
                "crm.lead",
                "read_progress_bar",
                [],
                domain=domain,
                group_by="stage_id",
                progress_bar={
                    "field": "activity_state",
                    "colors": {
                        "planned": "success",
                        "today": "warning",
                        "overdue": "danger",
                    },
                },
                context=self.action_context,
            ),
        )
        groups = read_group["groups"]

        def column(group):
            return lambda: self.call_kw(
                "pipeline: web_search_read",
                "crm.lead",
                "web_search_read",
                [],
                domain=group["__domain"],
                specification=self.kanban_spec,
                limit=KANBAN_LIMIT,
                offset=0,
                order="",
                context=dict(self.action_context, bin_size=True),
            )["records"]

        columns = self.parallel(
            *(
                column(group)
                for group in groups
                if not group.get("__fold") and group.get("stage_id_count")
            )
        )
        candidates = [
            r["id"]
            for records in columns
            for r in records
            if r.get("probability", 0) < 100
        ]
        return random.choice(candidates) if candidates else None

    def open_lead(self, lead_id, label="lead"):
        self.web_read(f"{label}: web_read", "crm.lead", lead_id, self.form_spec)
        self.rpc(
            f"{label}: chatter messages",
            "/mail/thread/messages",
            {"thread_model": "crm.lead", "thread_id": lead_id, "limit": 30},
        )

    def mark_as_lost(self, lead_id):
        """The form's Lost button: the action, its dialog (a new
        crm.lead.lost: defaults, reason picked), Save then the dialog's
        button, and the form reloaded."""
        active = {
            "active_id": lead_id,
            "active_ids": [lead_id],
            "active_model": "crm.lead",
        }
        if self.lost_dialog is None:
            self.lost_dialog = self.load_action(
                "lost dialog", "crm.crm_lead_lost_action", ("form",)
            )
        else:
            self.rpc(
                "lost dialog: action/load",
                "/web/action/load",
                {
                    "action_id": "crm.crm_lead_lost_action",
                    "context": dict(self.ctx, **active),
                },
            )
        context = dict(
            self.ctx, **active, dialog_size="medium", default_lead_ids=[lead_id]
        )
        arch = self.lost_dialog["views"]["form"]["arch"]
        spec = self.spec(self.lost_dialog, "form", with_invisible=True)
        values = self.call_kw(
            "lost dialog: onchange",
            "crm.lead.lost",
            "onchange",
            [[], {}, [], spec],
            context=context,
        )["value"]
        values = write_values(values)
        values.setdefault("lead_ids", [[4, lead_id]])
        domain = []
        if values.get("available_reason_ids"):
            domain = [("id", "in", [c[1] for c in values["available_reason_ids"]])]
        reasons = self.call_kw(
            "lost dialog: name_search reason",
            "crm.lost.reason",
            "name_search",
            [],
            name="",
            operator="ilike",
            args=domain,
            limit=8,
            context=context,
        )
        values["lost_reason_id"] = random.choice(reasons)[0]
        reason_node = ET.fromstring(arch).find(".//field[@name='lost_reason_id']")
        if reason_node.get("on_change") == "1":
            changed = self.call_kw(
                "lost dialog: onchange lost_reason_id",
                "crm.lead.lost",
                "onchange",
                [[], values, ["lost_reason_id"], spec],
                context=context,
            )["value"]
            values.update(write_values(changed))
            if changed.get("competitor_required"):
                values["lost_competitor_id"] = self.pick_competitor(context)
        self.wait()
        values["lost_feedback"] = "<p>Went with a cheaper offer.</p>"
        if ADDON:
            values["lost_revisit_date"] = (
                datetime.date.today() + datetime.timedelta(days=90)
            ).isoformat()
        # the client saves what the user may edit, not computed read-only fields
        fields = self.lost_dialog["models"]["crm.lead.lost"]["fields"]
        values = {
            name: value
            for name, value in values.items()
            if not fields.get(name, {}).get("readonly")
        }
        wizard = self.call_kw(
            "lost dialog: web_save",
            "crm.lead.lost",
            "web_save",
            [[], values],
            specification=self.spec(self.lost_dialog, "form"),
            context=context,
        )[0]
        self.call_button(
            "lost dialog: action_lost_reason_apply",
            "crm.lead.lost",
            "action_lost_reason_apply",
            [wizard["id"]],
            context,
        )
        self.web_read("lead: reload web_read", "crm.lead", lead_id, self.form_spec)

    def pick_competitor(self, context):
        """The competitor field's dropdown."""
        found = self.call_kw(
            "lost dialog: name_search competitor",
            "crm.lost.competitor",
            "name_search",
            [],
            name="",
            operator="ilike",
            args=[],
            limit=8,
            context=context,
        )
        return random.choice(found)[0] if found else False

    def lost_filter(self, reload=False):
        """My Pipeline + Lost, list view."""
        label = (
            "lost filter: reload web_search_read"
            if reload
            else ("lost filter: web_search_read")
        )
        self.call_kw(
            label,
            "crm.lead",
            "web_search_read",
            [],
            domain=[("type", "=", "opportunity"), ("user_id", "=", self.uid), *LOST],
            specification=self.list_spec,
            limit=LIST_LIMIT,
            offset=0,
            order="",
            count_limit=10001,
            context=dict(self.action_context, bin_size=True),
        )

    def restore_with_dialog(self, lead_id):
        """The module's Restore button: its action, its dialog, Restore."""
        action = self.call_button(
            "restore dialog: action_open_restore_wizard",
            "crm.lead",
            "action_open_restore_wizard",
            [lead_id],
        )
        if self.restore_dialog is None:
            self.restore_dialog = self.call_kw(
                "restore dialog: get_views",
                "crm.lead.restore",
                "get_views",
                [],
                views=[[vid, vtype] for vid, vtype in action["views"]],
                options={"load_filters": False, "toolbar": False},
            )
            self.restore_dialog["action"] = action
        context = dict(self.ctx, **action["context"])
        spec = self.spec(self.restore_dialog, "form", with_invisible=True)
        values = write_values(
            self.call_kw(
                "restore dialog: onchange",
                "crm.lead.restore",
                "onchange",
                [[], {}, [], spec],
                context=context,
            )["value"]
        )
        values.setdefault("lead_ids", [[4, lead_id]])
        self.wait()
        values["restore_note"] = "Customer called back."
        wizard = self.call_kw(
            "restore dialog: web_save",
            "crm.lead.restore",
            "web_save",
            [[], values],
            specification=self.spec(self.restore_dialog, "form"),
            context=context,
        )[0]
        self.call_button(
            "restore dialog: action_restore",
            "crm.lead.restore",
            "action_restore",
            [wizard["id"]],
            context,
        )


class Manager(WebClient):
    """Reads the loss reports: with the module, Lost Analysis and Win/Loss
    (graph, then pivot); without, their nearest stock screens, Pipeline
    Analysis with the Lost filter by reason and team, and won or lost by
    salesperson."""

    fixed_count = N_MANAGERS

    def on_start(self):
        super().on_start()
        self.open_web_client(next(_manager_logins))
        if ADDON:
            self.load_action(
                "start: lost analysis",
                "crm_lost_management.crm_lead_loss_action_analysis",
                ("graph", "pivot", "search"),
            )
            self.load_action(
                "start: win/loss",
                "crm_lost_management.crm_win_loss_report_action",
                ("graph", "pivot", "search"),
            )
        else:
            self.load_action(
                "start: pipeline analysis",
                "crm.crm_opportunity_report_action",
                ("graph", "pivot", "search"),
            )
        self.on_ready()

    @task
    def reports(self):
        self.hold()
        try:
            if ADDON:
                self.lost_analysis()
                self.wait()
                self.win_loss()
            else:
                self.stock_lost()
                self.wait()
                self.stock_won_lost()
        except RpcError:
            pass

    def lost_analysis(self):
        label, model = "lost analysis", "crm.lead.loss"
        domain = this_year("lost_date")
        self.graph(label, model, domain, None, ["lost_date:month", "team_id"])
        self.wait()
        self.pivot(
            label,
            model,
            domain,
            ["expected_revenue:sum"],
            ["lost_reason_id"],
            ["team_id"],
        )

    def win_loss(self):
        label, model = "win/loss", "crm.win.loss.report"
        domain = this_year("date_closed")
        self.graph(label, model, domain, "win_rate:avg", ["user_id"])
        self.wait()
        self.pivot(
            label,
            model,
            domain,
            ["win_rate:avg", "won_count:sum", "lost_count:sum"],
            ["user_id"],
            ["outcome"],
        )

    def stock_lost(self):
        label = "pipeline analysis lost"
        domain = [*LOST, *this_year("date_closed")]
        self.graph(label, "crm.lead", domain, None, ["date_closed:month", "team_id"])
        self.wait()
        self.pivot(
            label,
            "crm.lead",
            domain,
            ["expected_revenue:sum"],
            ["lost_reason_id"],
            ["team_id"],
        )

    def stock_won_lost(self):
        label = "pipeline analysis won/lost"
        domain = ["|", ("probability", "=", 100), "&", *LOST, *this_year("date_closed")]
        self.graph(label, "crm.lead", domain, None, ["user_id"])
        self.wait()
        self.pivot(
            label, "crm.lead", domain, ["expected_revenue:sum"], ["user_id"], ["active"]
        )
