#!/usr/bin/env python3
"""Take the README screenshots of crm_lost_management from a running server.

Needs a database with crm_lost_management installed WITH demo data (``tools/run``
creates one), Playwright for Python and a Chromium binary. Playwright's own
browsers are not needed: the system Chromium is driven instead.

    python3 -m venv /tmp/shots-venv
    /tmp/shots-venv/bin/pip install playwright pillow
    CLM_DB=clm_shots CLM_PORT=8070 tools/run &      # first run: ~1 min
    /tmp/shots-venv/bin/python tools/screenshots.py \\
        --url http://localhost:8070 --db clm_shots --login admin --password admin

Writes into --out (default: static/description of this addon):

    lost_analysis_graph.png  CRM > Reporting > Lost Analysis, default bar chart
    lost_analysis_pivot.png  the same action in pivot view (reason x team)
    mark_lost_wizard.png     an open opportunity with the Mark as Lost dialog
                             filled in (reason, competitor, closing note)
    lost_form.png            a lost opportunity: Lost ribbon and the Lost block
    mark_won_wizard.png      an open opportunity with the Mark as Won dialog
                             filled in (reason, competitor beaten, win note)
    competitive_analysis.png CRM > Reporting > Competitive Analysis in pivot
                             view: deals faced, won and lost, win rate and
                             revenue per competitor

Nothing is written to the database: the Mark as Lost and Mark as Won dialogs
are discarded.
Pillow, when installed, palettes PNGs above --max-kb.
"""

import argparse
import io
import logging
from pathlib import Path

from playwright.sync_api import sync_playwright

ADDON = "crm_lost_management"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Demo records (demo/crm_lost_management_demo.xml)
OPEN_OPPORTUNITY = f"{ADDON}.crm_lead_conference_room"
LOST_OPPORTUNITY = f"{ADDON}.crm_lead_executive_suite"
# Mark as Lost dialog content
WIZARD_REASON = "Chose a competitor"
WIZARD_COMPETITOR = "Contoso Furniture"
WIZARD_NOTE = (
    "Contoso offered the same tables with free installation and "
    "delivery in two weeks; we could not match the price."
)
# Mark as Won dialog content
WON_REASON = "Product fit"
WON_COMPETITOR = "Contoso Furniture"
WON_NOTE = (
    "The customer chose our modular tables for the new meeting rooms; "
    "Contoso could not deliver before the opening."
)
TIMEOUT = 30_000

_logger = logging.getLogger("screenshots")


def parse_args():
    here = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://localhost:8069")
    parser.add_argument("--db", default="crm_lost_demo")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--out", default=str(here / "static" / "description"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--max-kb", type=int, default=400)
    parser.add_argument(
        "--only",
        nargs="*",
        choices=["graph", "pivot", "wizard", "form", "won_wizard", "competitive"],
        help="take only these screenshots",
    )
    return parser.parse_args()


class Shooter:
    def __init__(self, page, args):
        self.page = page
        self.args = args
        self.url = args.url.rstrip("/")
        self.out = Path(args.out)
        self.pending = set()
        page.on("request", self._on_request)
        page.on("requestfinished", lambda request: self.pending.discard(request))
        page.on("requestfailed", lambda request: self.pending.discard(request))

    def _on_request(self, request):
        # the bus worker lives as long as the page: never wait for it
        if "/bus/" not in request.url:
            self.pending.add(request)

    # ------------------------------------------------------------
    # Session and JSON-RPC
    # ------------------------------------------------------------

    def rpc(self, route, params):
        response = self.page.request.post(
            f"{self.url}{route}",
            data={"jsonrpc": "2.0", "method": "call", "id": 1, "params": params},
        )
        payload = response.json()
        if payload.get("error"):
            error = payload["error"]
            message = error.get("data", {}).get("message") or error.get("message")
            raise SystemExit(f"{route}: {message}")
        return payload["result"]

    def call(self, model, method, *args, **kwargs):
        return self.rpc(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def login(self):
        result = self.rpc(
            "/web/session/authenticate",
            {
                "db": self.args.db,
                "login": self.args.login,
                "password": self.args.password,
            },
        )
        if not result or not result.get("uid"):
            raise SystemExit("Login failed")
        lang = (result.get("user_context") or {}).get("lang")
        if lang and not lang.startswith("en"):
            _logger.warning("%s uses %s, not English", self.args.login, lang)

    def xmlid_to_id(self, xmlid):
        module, name = xmlid.split(".")
        rows = self.call(
            "ir.model.data",
            "search_read",
            [("module", "=", module), ("name", "=", name)],
            fields=["res_id"],
            limit=1,
        )
        if not rows:
            raise SystemExit(f"{xmlid} not found: is demo data installed?")
        return rows[0]["res_id"]

    # ------------------------------------------------------------
    # Page helpers
    # ------------------------------------------------------------

    def settle(self):
        """Wait until the web client is idle: no request, no spinner."""
        page = self.page
        quiet = 0
        for _tick in range(TIMEOUT // 100):
            quiet = 0 if self.pending else quiet + 1
            if quiet >= 5:
                break
            page.wait_for_timeout(100)
        else:
            urls = ", ".join(request.url for request in self.pending)
            raise SystemExit(f"Requests still running: {urls}")
        page.locator(".o_loading_indicator, .o_blockUI").first.wait_for(
            state="detached", timeout=TIMEOUT
        )
        # let CSS transitions and chart animations end
        page.wait_for_timeout(800)

    def open_web_client(self, path="/odoo/crm"):
        self.page.goto(f"{self.url}{path}")
        self.page.locator(".o_action_manager .o_view_controller").first.wait_for(
            timeout=TIMEOUT
        )
        if self.page.locator(".oe_login_form").count():
            raise SystemExit("Still on the login page")

    def pick_many2one(self, scope, field, text):
        """Type into a many2one and choose the proposal equal to text."""
        page = self.page
        field_input = scope.locator(f".o_field_widget[name={field}] input")
        field_input.click()
        field_input.fill(text)
        item = page.locator(".o-autocomplete--dropdown-item").filter(has_text=text)
        item.first.wait_for(timeout=TIMEOUT)
        item.first.click()
        page.locator(".o-autocomplete--dropdown-menu").wait_for(
            state="detached", timeout=TIMEOUT
        )

    def shoot(self, name):
        self.settle()
        # no hover effect or focus ring left by the last click
        self.page.mouse.move(0, 0)
        path = self.out / name
        png = self.page.screenshot(animations="disabled")
        png = shrink(png, self.args.max_kb)
        path.write_bytes(png)
        _logger.info("%s (%d KB)", path, len(png) // 1024)

    # ------------------------------------------------------------
    # Screenshots
    # ------------------------------------------------------------

    def open_lost_analysis(self):
        page = self.page
        self.open_web_client()
        page.locator('.o_menu_sections [data-menu-xmlid="crm.crm_menu_report"]').click()
        page.locator(
            f'.dropdown-item[data-menu-xmlid="{ADDON}.'
            'crm_lost_management_menu_lost_analysis"]'
        ).click()
        page.locator(".o_graph_renderer canvas").wait_for(timeout=TIMEOUT)
        page.locator(".o_breadcrumb").filter(has_text="Lost Analysis").wait_for()

    def graph(self):
        self.open_lost_analysis()
        if self.page.locator(".o_view_sample_data").count():
            raise SystemExit("Lost Analysis shows sample data: no loss this year?")
        self.shoot("lost_analysis_graph.png")

    def pivot(self):
        page = self.page
        self.open_lost_analysis()
        page.locator(".o_switch_view.o_pivot").click()
        page.locator(".o_pivot table tbody tr").first.wait_for(timeout=TIMEOUT)
        if page.locator(".o_view_sample_data").count():
            raise SystemExit("Lost Analysis shows sample data: no loss this year?")
        self.shoot("lost_analysis_pivot.png")

    def wizard(self):
        page = self.page
        lead_id = self.xmlid_to_id(OPEN_OPPORTUNITY)
        self.open_web_client(f"/odoo/crm/{lead_id}")
        page.locator(".o_form_view .o_form_sheet").wait_for(timeout=TIMEOUT)
        self.settle()
        page.locator(".o_form_statusbar button").filter(has_text="Lost").first.click()
        modal = page.locator(".modal").last
        modal.locator(".o_field_widget[name=lost_reason_id] input").wait_for(
            timeout=TIMEOUT
        )
        self.pick_many2one(modal, "lost_reason_id", WIZARD_REASON)
        modal.locator(".o_field_widget[name=lost_competitor_id] input").wait_for(
            timeout=TIMEOUT
        )
        self.pick_many2one(modal, "lost_competitor_id", WIZARD_COMPETITOR)
        note = modal.locator(
            ".o_field_widget[name=lost_feedback] [contenteditable=true]"
        )
        note.click()
        page.keyboard.type(WIZARD_NOTE)
        # leave the editor so that its toolbar is not in the picture
        modal.locator(".modal-title").click()
        self.shoot("mark_lost_wizard.png")
        # discard: nothing saved
        modal.locator(".modal-footer button").filter(has_text="Cancel").click()
        page.locator(".modal").wait_for(state="detached", timeout=TIMEOUT)

    def form(self):
        page = self.page
        lead_id = self.xmlid_to_id(LOST_OPPORTUNITY)
        self.open_web_client(f"/odoo/crm/{lead_id}")
        page.locator(".o_form_view .ribbon").filter(has_text="Lost").wait_for(
            timeout=TIMEOUT
        )
        page.locator(".o_form_view .o_field_widget[name=lost_reason_id]").wait_for()
        self.shoot("lost_form.png")

    def won_wizard(self):
        page = self.page
        lead_id = self.xmlid_to_id(OPEN_OPPORTUNITY)
        self.open_web_client(f"/odoo/crm/{lead_id}")
        page.locator(".o_form_view .o_form_sheet").wait_for(timeout=TIMEOUT)
        self.settle()
        # the dialog of the Won button when a won reason is required, opened
        # by the web client's action service: the company setting stays as is
        page.evaluate(
            """(leadId) => odoo.__WOWL_DEBUG__.root.env.services.action.doAction(
                "crm_lost_management.crm_lead_won_action",
                {additionalContext: {
                    active_id: leadId, active_ids: [leadId], active_model: "crm.lead"
                }}
            )""",
            lead_id,
        )
        modal = page.locator(".modal").last
        modal.locator(".o_field_widget[name=won_reason_id] input").wait_for(
            timeout=TIMEOUT
        )
        self.pick_many2one(modal, "won_reason_id", WON_REASON)
        tags = modal.locator(".o_field_widget[name=won_competitor_ids]")
        tag = tags.locator(".o_tag").filter(has_text=WON_COMPETITOR)
        # the dialog may propose the competitors the deal faced already
        if not tag.count():
            tags.locator("input").fill(WON_COMPETITOR)
            item = page.locator(".o-autocomplete--dropdown-item").filter(
                has_text=WON_COMPETITOR
            )
            item.first.click()
            tag.wait_for()
        note = modal.locator(".o_field_widget[name=won_note] [contenteditable=true]")
        note.click()
        page.keyboard.type(WON_NOTE)
        # leave the editor so that its toolbar is not in the picture
        modal.locator(".modal-title").click()
        self.shoot("mark_won_wizard.png")
        # discard: nothing saved
        modal.locator(".modal-footer button").filter(has_text="Cancel").click()
        page.locator(".modal").wait_for(state="detached", timeout=TIMEOUT)

    def competitive(self):
        page = self.page
        self.open_web_client()
        page.locator('.o_menu_sections [data-menu-xmlid="crm.crm_menu_report"]').click()
        page.locator(
            f'.dropdown-item[data-menu-xmlid="{ADDON}.'
            'crm_lost_management_menu_competitive_analysis"]'
        ).click()
        page.locator(".o_breadcrumb").filter(has_text="Competitive Analysis").wait_for()
        page.locator(".o_switch_view.o_pivot").click()
        page.locator(".o_pivot table tbody tr").first.wait_for(timeout=TIMEOUT)
        if page.locator(".o_view_sample_data").count():
            raise SystemExit("Competitive Analysis shows sample data: no competitor?")
        self.shoot("competitive_analysis.png")


def shrink(png, max_kb):
    """Palette the PNG when it is bigger than max_kb (needs Pillow)."""
    if len(png) <= max_kb * 1024:
        return png
    try:
        from PIL import Image
    except ImportError:
        _logger.warning("Pillow missing: PNG left as is")
        return png
    image = Image.open(io.BytesIO(png)).convert("RGB")
    for colors in (256, 128, 64):
        buffer = io.BytesIO()
        image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT).save(
            buffer, "PNG", optimize=True
        )
        if buffer.tell() <= max_kb * 1024:
            break
    return buffer.getvalue()


def main():
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    Path(args.out).mkdir(parents=True, exist_ok=True)
    wanted = args.only or [
        "graph",
        "pivot",
        "wizard",
        "form",
        "won_wizard",
        "competitive",
    ]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=args.chromium, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(
            viewport={"width": args.width, "height": args.height},
            locale="en-US",
        )
        context.set_default_timeout(TIMEOUT)
        page = context.new_page()
        shooter = Shooter(page, args)
        try:
            shooter.login()
            for name in wanted:
                getattr(shooter, name)()
        finally:
            browser.close()


if __name__ == "__main__":
    main()
