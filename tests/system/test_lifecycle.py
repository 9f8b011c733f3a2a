# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Upgrade, uninstall and reinstall crm_lost_management on copies of the test
database, after a user edited what the addon installed.

- Upgrading twice (``-u crm_lost_management``) changes nothing: the addon's
  tables, the lost fields of leads and the addon's records (views, menus,
  crons, rules, access rights, external ids) are the same after the first and
  the second upgrade, and the user's edits (names in English and Chinese,
  policies, archived reasons, categories, crons) survive both.
- Uninstalling leaves every lead that is not the addon's demo data, the stock
  lost reasons and the reasons still in use; removes the addon's tables,
  columns, views, menus, crons, rules and external ids; the crm views still
  render, the stock Mark Lost wizard works, and Odoo's own crm tests pass.
- Reinstalling works, brings the data reasons and categories back and gives
  every lost lead its open loss record (post_init_hook).
"""

import contextlib
import json
import logging
import os
import re
import subprocess
import time

import psycopg2
import pytest

_logger = logging.getLogger(__name__)

ADDON = "crm_lost_management"
MARK = "CLM-LIFE "

# shell scripts print one line: MARK + JSON
SHELL_PRELUDE = f"""
import json
from odoo import Command

def report(value):
    print({MARK!r} + json.dumps(value, default=str))
"""

# What a customer does in the weeks after installing: Chinese as second
# language, renamed and re-categorised reasons (the addon's and a stock one),
# changed policies, an archived reason, an edited category, an own reason, a
# competitor, crons and activity types adjusted, idle-opportunity settings,
# and losses of all kinds (stock reason, the addon's reasons, own reason, a
# restored lead, a revisited lead with its activity).
USER_EDITS = (
    SHELL_PRELUDE
    + """
env["res.lang"]._activate_lang("zh_CN")
env["ir.module.module"].search(
    [("name", "in", ["crm", "crm_lost_management"])]
)._update_translations("zh_CN")
ref = env.ref

def zh(record):
    return record.with_context(lang="zh_CN").name

shipped = {
    "postponed": zh(ref("crm_lost_management.crm_lost_reason_postponed")),
    "reason_1": zh(ref("crm.lost_reason_1")),
    "price": zh(ref("crm_lost_management.crm_lost_reason_category_price")),
}

manager = env["res.users"].create({
    "name": "Lifecycle Manager",
    "login": "clm_life_manager",
    "groups_id": [Command.set([
        ref("base.group_user").id, ref("sales_team.group_sale_manager").id,
    ])],
})
menv = env(user=manager.id)
Reason = menv["crm.lost.reason"]
category = lambda xmlid: ref(f"crm_lost_management.crm_lost_reason_category_{xmlid}")
reason = lambda xmlid: Reason.browse(ref(xmlid).id)

# the manager edits reasons and categories in English, then in Chinese
postponed = reason("crm_lost_management.crm_lost_reason_postponed")
postponed.with_context(lang="en_US").name = "Project on hold (edited)"
postponed.with_context(lang="zh_CN").name = "项目搁置（已编辑）"
postponed.write({
    "note_required": True,
    "category_id": category("budget").id,
    "description": "Ask for the new date (edited)",
    "applies_to": "opportunity",
    "revisit_after_days": 45,
    "sequence": 33,
})
reason_1 = reason("crm.lost_reason_1")
reason_1.with_context(lang="en_US").name = "Price too high (edited)"
reason_1.with_context(lang="zh_CN").name = "价格太高（已编辑）"
reason_1.write({
    "note_required": True,
    "category_id": category("budget").id,
    "description": "Quote the competitor's price (edited)",
    "applies_to": "opportunity",
    "sequence": 12,
})
reason("crm_lost_management.crm_lost_reason_duplicate").active = False
price = menv["crm.lost.reason.category"].browse(category("price").id)
price.with_context(lang="en_US").name = "Pricing (edited)"
price.with_context(lang="zh_CN").name = "定价（已编辑）"
price.write({"sequence": 5, "color": 11, "description": "Edited category"})
own = Reason.create({
    "name": "Lost to an internal project",
    "category_id": category("other").id,
    "note_required": True,
})
rival = menv["crm.lost.competitor"].create({"name": "Rival Ltd"})
team = menv["crm.team"].browse(ref("sales_team.team_sales_department").id)
no_response = reason("crm_lost_management.crm_lost_reason_no_response")
team.write({
    "stale_lost_days": 60,
    "stale_warning_days": 5,
    "stale_lost_reason_id": no_response.id,
})

# the administrator adjusts the jobs, an activity type and the company policy
ref("crm_lost_management.ir_cron_crm_lead_loss_revisit").interval_number = 2
ref("crm_lost_management.ir_cron_crm_team_stale_lost").active = False
ref("crm_lost_management.mail_activity_type_revisit_lost").write(
    {"name": "Call back the lost deal (edited)", "delay_count": 3}
)
env.company.crm_lost_reason_required = False

# losses through the Mark Lost wizard, a restore and a revisit
Lead = menv["crm.lead"]
def new_lead(name, lead_type="opportunity"):
    return Lead.create({
        "name": name,
        "type": lead_type,
        "team_id": team.id,
        "user_id": manager.id,
        "expected_revenue": 1000,
    })

def lose(lead, reason, **values):
    menv["crm.lead.lost"].with_context(
        active_ids=lead.ids, active_model="crm.lead"
    ).create({
        "lead_ids": [Command.set(lead.ids)],
        "lost_reason_id": reason.id,
        **values,
    }).action_lost_reason_apply()
    return lead

leads = {
    "stock_reason": lose(new_lead("Life: too expensive"), reason_1,
                         lost_feedback="<p>Their budget was half</p>"),
    "addon_reason": lose(
        new_lead("Life: lost to Rival"),
        reason("crm_lost_management.crm_lost_reason_competitor"),
        lost_competitor_id=rival.id,
        lost_feedback="<p>Rival was faster</p>",
    ),
    "own_reason": lose(new_lead("Life: internal project"), own,
                       lost_feedback="<p>They build it themselves</p>"),
    "lead_type": lose(
        new_lead("Life: not qualified", "lead"),
        reason("crm_lost_management.crm_lost_reason_not_qualified"),
    ),
    "restored": lose(new_lead("Life: budget back"),
                     reason("crm_lost_management.crm_lost_reason_no_budget")),
    "revisited": lose(new_lead("Life: call back"), no_response),
}
leads["restored"]._action_restore(restore_note="Budget is back")
leads["revisited"].action_revisit_now()
activity = leads["revisited"].activity_ids.filtered(
    lambda a: a.activity_type_id
    == ref("crm_lost_management.mail_activity_type_revisit_lost")
)
assert activity, "the revisit activity was not planned"
env.cr.commit()
report({
    "shipped": shipped,
    "manager_id": manager.id,
    "leads": {key: lead.id for key, lead in leads.items()},
    "reasons": {"postponed": postponed.id, "reason_1": reason_1.id, "own": own.id},
    "category_price": price.id,
    "activity_id": activity.id,
})
"""
)


def shell_report(db, script, label):
    """Run ``script`` in odoo shell on ``db``; return what it reported."""
    out = db.shell(script, label=label)
    lines = [line for line in out.splitlines() if line.startswith(MARK)]
    assert lines, f"odoo shell ({label}) reported nothing:\n{out[-3000:]}"
    return json.loads(lines[-1][len(MARK) :])


def module_ids(model):
    """SQL: ids of the records of ``model`` the addon created (external ids)."""
    return (
        f"SELECT res_id FROM ir_model_data "
        f"WHERE module = '{ADDON}' AND model = '{model}'"
    )


# ---------------------------------------------------------------------------
# Upgrade
# ---------------------------------------------------------------------------

# What users own: the lost reason tables, the loss history, the lost fields of
# leads, the company policy, team settings, crons and activity types.
USER_DATA = {
    "crm_lost_reason": "SELECT * FROM crm_lost_reason ORDER BY id",
    "crm_lost_reason_crm_team_rel": (
        "SELECT * FROM crm_lost_reason_crm_team_rel ORDER BY 1, 2"
    ),
    "crm_lost_reason_category": "SELECT * FROM crm_lost_reason_category ORDER BY id",
    "crm_lost_competitor": "SELECT * FROM crm_lost_competitor ORDER BY id",
    "crm_lead_loss": "SELECT * FROM crm_lead_loss ORDER BY id",
    "crm_lead": "SELECT * FROM crm_lead ORDER BY id",
    "res_company": "SELECT id, crm_lost_reason_required FROM res_company ORDER BY id",
    "crm_team": (
        "SELECT id, stale_lost_days, stale_lost_reason_id, stale_warning_days "
        "FROM crm_team ORDER BY id"
    ),
    "ir_cron": (
        "SELECT c.*, a.name AS action_name, a.code, a.state AS action_state "
        "FROM ir_cron c JOIN ir_act_server a ON a.id = c.ir_actions_server_id "
        f"WHERE c.id IN ({module_ids('ir.cron')}) ORDER BY c.id"
    ),
    "mail_activity_type": (
        "SELECT * FROM mail_activity_type "
        f"WHERE id IN ({module_ids('mail.activity.type')}) ORDER BY id"
    ),
    "mail_activity": "SELECT * FROM mail_activity ORDER BY id",
}

# What the addon owns: loaded again by each upgrade, must come out the same.
ADDON_RECORDS = {
    "ir_model_data": (
        f"SELECT * FROM ir_model_data WHERE module = '{ADDON}' ORDER BY id"
    ),
    "ir_ui_view": (
        f"SELECT * FROM ir_ui_view WHERE id IN ({module_ids('ir.ui.view')}) ORDER BY id"
    ),
    "ir_ui_menu": (
        f"SELECT * FROM ir_ui_menu WHERE id IN ({module_ids('ir.ui.menu')}) ORDER BY id"
    ),
    "ir_act_window": (
        "SELECT * FROM ir_act_window "
        f"WHERE id IN ({module_ids('ir.actions.act_window')}) ORDER BY id"
    ),
    "ir_model_access": (
        "SELECT * FROM ir_model_access "
        f"WHERE id IN ({module_ids('ir.model.access')}) ORDER BY id"
    ),
    "ir_rule": (
        "SELECT r.*, ARRAY(SELECT group_id FROM rule_group_rel g "
        "WHERE g.rule_group_id = r.id ORDER BY 1) AS group_ids "
        f"FROM ir_rule r WHERE r.id IN ({module_ids('ir.rule')}) ORDER BY r.id"
    ),
    "ir_act_client": (
        "SELECT * FROM ir_act_client "
        f"WHERE id IN ({module_ids('ir.actions.client')}) ORDER BY id"
    ),
    "ir_model": (
        f"SELECT * FROM ir_model WHERE id IN ({module_ids('ir.model')}) ORDER BY id"
    ),
    "ir_model_fields": (
        "SELECT * FROM ir_model_fields "
        f"WHERE id IN ({module_ids('ir.model.fields')}) ORDER BY id"
    ),
    "ir_model_fields_selection": (
        "SELECT * FROM ir_model_fields_selection "
        f"WHERE id IN ({module_ids('ir.model.fields.selection')}) ORDER BY id"
    ),
    "ir_model_constraint": (
        "SELECT * FROM ir_model_constraint "
        f"WHERE id IN ({module_ids('ir.model.constraint')}) ORDER BY id"
    ),
    # the schema: the lost analysis SQL view, indexes and constraints of the
    # addon's tables and of the tables it adds columns to
    "sql_view": (
        "SELECT viewname, definition FROM pg_views "
        "WHERE viewname = 'crm_win_loss_report'"
    ),
    "indexes": (
        "SELECT indexname, tablename, indexdef FROM pg_indexes "
        "WHERE tablename IN ('crm_lead', 'crm_lead_loss', 'crm_lost_reason', "
        "'crm_lost_reason_category', 'crm_lost_competitor', 'crm_team') "
        "ORDER BY indexname"
    ),
    "constraints": (
        "SELECT conname, conrelid::regclass::text AS tablename, "
        "pg_get_constraintdef(oid) AS definition FROM pg_constraint "
        "WHERE conrelid::regclass::text IN ('crm_lead', 'crm_lead_loss', "
        "'crm_lost_reason', 'crm_lost_reason_category', 'crm_lost_competitor', "
        "'crm_team', 'res_company') ORDER BY conname"
    ),
}


def snapshot(db, queries):
    """Rows of each query as dicts (column -> value), keyed by query name."""
    result = {}
    with contextlib.closing(psycopg2.connect(dbname=db.name)) as conn:
        with conn, conn.cursor() as cr:
            for name, sql in queries.items():
                cr.execute(sql)
                columns = [column.name for column in cr.description]
                result[name] = [
                    dict(zip(columns, row, strict=False)) for row in cr.fetchall()
                ]
    return result


def snapshot_diff(before, after, ignore=()):
    """Readable differences between two snapshots (empty when equal), but for
    the ``(query name, column)`` pairs in ``ignore``."""
    lines = []
    for name in before:
        rows_before = {row.get("id", i): row for i, row in enumerate(before[name])}
        rows_after = {row.get("id", i): row for i, row in enumerate(after[name])}
        for key in sorted(rows_before.keys() | rows_after.keys(), key=str):
            old, new = rows_before.get(key), rows_after.get(key)
            if old is None or new is None:
                lines.append(f"{name} id={key}: {old!r} -> {new!r}")
                continue
            for column in sorted(old.keys() | new.keys()):
                if (name, column) in ignore:
                    continue
                if old.get(column) != new.get(column):
                    lines.append(
                        f"{name} id={key} {column}: "
                        f"{old.get(column)!r} -> {new.get(column)!r}"
                    )
    return lines


def log_lines(text, level):
    return [line for line in text.splitlines() if f" {level} " in line]


def test_upgrade_twice_changes_nothing_and_keeps_user_edits(make_db):
    db = make_db("upgrade")
    edits = shell_report(db, USER_EDITS, "edits")
    # the addon's Chinese terms were loaded, so an upgrade that overwrote
    # translations would show
    assert edits["shipped"] == {
        "postponed": "项目推迟",
        "reason_1": "太昂贵",
        "price": "价格",
    }
    queries = {**USER_DATA, **ADDON_RECORDS}
    edited = snapshot(db, queries)

    _, log_1 = db.odoo("-u", ADDON, label="upgrade-1")
    first = snapshot(db, queries)
    _, log_2 = db.odoo("-u", ADDON, label="upgrade-2")
    second = snapshot(db, queries)

    assert not log_lines(log_1, "WARNING") + log_lines(log_2, "WARNING")
    # user data: not even rewritten (write_date included)
    diff = snapshot_diff(
        {name: edited[name] for name in USER_DATA},
        {name: first[name] for name in USER_DATA},
    )
    assert not diff, "the upgrade wrote user data:\n" + "\n".join(diff)
    # Everything the same after the second upgrade, but write_date of the
    # addon's views, menus, actions, access rights and rules: they are not
    # noupdate (the addon ships fixes to them), and Odoo's XML loader writes
    # every such record at each upgrade; write() stamps write_date even when
    # no value changes. Their values (arch_db, domain_force, groups, ...)
    # are compared.
    rewritten = {
        (name, "write_date")
        for name in ("ir_ui_view", "ir_ui_menu", "ir_act_window", "ir_act_client")
        + ("ir_model_access", "ir_rule")
    }
    diff = snapshot_diff(first, second, ignore=rewritten)
    assert not diff, "the second upgrade changed:\n" + "\n".join(diff)

    # the edits, as the user made them, after both upgrades
    reasons = {row["id"]: row for row in second["crm_lost_reason"]}
    postponed = reasons[edits["reasons"]["postponed"]]
    assert postponed["name"] == {
        "en_US": "Project on hold (edited)",
        "zh_CN": "项目搁置（已编辑）",
    }
    budget = db.value(
        "SELECT res_id FROM ir_model_data WHERE module = %s AND name = %s",
        [ADDON, "crm_lost_reason_category_budget"],
    )
    assert postponed["note_required"] is True
    assert postponed["category_id"] == budget
    assert postponed["description"] == {"en_US": "Ask for the new date (edited)"}
    assert postponed["applies_to"] == "opportunity"
    assert postponed["revisit_after_days"] == 45
    assert postponed["sequence"] == 33
    reason_1 = reasons[edits["reasons"]["reason_1"]]
    assert reason_1["name"] == {
        "en_US": "Price too high (edited)",
        "zh_CN": "价格太高（已编辑）",
    }
    assert reason_1["category_id"] == budget
    assert reason_1["note_required"] is True
    assert reason_1["applies_to"] == "opportunity"
    assert reason_1["sequence"] == 12
    duplicate = db.value(
        "SELECT r.active FROM crm_lost_reason r JOIN ir_model_data d "
        "ON d.res_id = r.id AND d.model = 'crm.lost.reason' "
        "WHERE d.module = %s AND d.name = 'crm_lost_reason_duplicate'",
        [ADDON],
    )
    assert duplicate is False
    own = reasons[edits["reasons"]["own"]]
    assert own["name"] == {"en_US": "Lost to an internal project"}
    price = next(
        row
        for row in second["crm_lost_reason_category"]
        if row["id"] == edits["category_price"]
    )
    assert price["name"] == {"en_US": "Pricing (edited)", "zh_CN": "定价（已编辑）"}
    assert (price["sequence"], price["color"]) == (5, 11)
    crons = {row["code"]: row for row in second["ir_cron"]}
    assert crons["model._cron_schedule_revisits()"]["interval_number"] == 2
    assert crons["model._cron_lose_stale_opportunities()"]["active"] is False
    (revisit_type,) = [
        row
        for row in second["mail_activity_type"]
        if row["name"]["en_US"].startswith("Call back")
    ]
    assert revisit_type["delay_count"] == 3
    assert {row["crm_lost_reason_required"] for row in second["res_company"]} >= {False}
    # the data the user edits stays noupdate
    noupdate = {
        (row["model"], row["noupdate"])
        for row in second["ir_model_data"]
        if row["model"]
        in ("crm.lost.reason", "crm.lost.reason.category", "ir.cron")
        + ("mail.activity.type",)
    }
    assert noupdate == {
        ("crm.lost.reason", True),
        ("crm.lost.reason.category", True),
        ("ir.cron", True),
        ("mail.activity.type", True),
    }
    # and the losses are still there, open or recovered
    leads = {row["id"]: row for row in second["crm_lead"]}
    losses = {}
    for row in second["crm_lead_loss"]:
        losses.setdefault(row["lead_id"], []).append(row["state"])
    lost_to_rival = leads[edits["leads"]["addon_reason"]]
    assert lost_to_rival["active"] is False
    assert lost_to_rival["lost_competitor_id"]
    assert losses[lost_to_rival["id"]] == ["lost"]
    assert losses[edits["leads"]["restored"]] == ["recovered"]
    assert leads[edits["leads"]["restored"]]["active"] is True


# ---------------------------------------------------------------------------
# Uninstall and reinstall
# ---------------------------------------------------------------------------

UNINSTALL = (
    SHELL_PRELUDE
    + f"""
module = env["ir.module.module"].search([("name", "=", {ADDON!r})])
module.button_immediate_uninstall()
env.cr.commit()
report(env["ir.module.module"].search([("name", "=", {ADDON!r})]).state)
"""
)

LEADS = (
    "SELECT id, name, active, type, stage_id, lost_reason_id, probability, "
    "user_id, team_id, partner_id, expected_revenue, date_closed, company_id, "
    "write_date FROM crm_lead ORDER BY id"
)

# Records of the addon that stay after uninstalling, because data that stays
# refers to them: Odoo deletes the addon's records (ir.model.data) before it
# drops its tables, keeps those a foreign key protects, and keeps their
# external ids so that a reinstall finds them again.
KEPT_IN_USE = {
    # reasons of the user's lost leads (crm_lead.lost_reason_id, stock's
    # ondelete='restrict')
    ("crm.lost.reason", "crm_lost_reason_competitor"),
    ("crm.lost.reason", "crm_lost_reason_not_qualified"),
    # reasons of the loss history of restored leads (crm_lead_loss, dropped
    # just after: harmless, they stay usable lost reasons)
    ("crm.lost.reason", "crm_lost_reason_no_budget"),
    ("crm.lost.reason", "crm_lost_reason_no_response"),
    # the type of the planned revisit activity (mail's ondelete='restrict'):
    # the user's activity stays
    ("mail.activity.type", "mail_activity_type_revisit_lost"),
}


def uninstall_log_errors(text):
    """ERROR lines of an uninstall log but Odoo's own trial deletions: it
    deletes the addon's records in batches, halves a batch a foreign key
    refuses (logging the refused query), and tests the records of dropped
    tables (logging 'relation does not exist')."""
    unexpected = []
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if " CRITICAL " in line or "Traceback" in line:
            unexpected.append(line)
        elif " ERROR " in line:
            detail = lines[number + 1] if number + 1 < len(lines) else ""
            refused = "violates foreign key constraint" in detail
            dropped = "relation" in detail and "does not exist" in detail
            expected = "odoo.sql_db: bad query: b'" in line and (refused or dropped)
            if not expected:
                unexpected += [line, detail]
    return unexpected


@pytest.fixture(scope="module")
def uninstalled(module_make_db):
    """A copy the user worked in, then uninstalled: what it held before."""
    db = module_make_db("uninstall")
    edits = shell_report(db, USER_EDITS, "edits")
    # the addon's external ids, but those of records other modules define too
    # (the ir.model of crm.lead, ...), which uninstalling leaves alone
    module_data = db.query(
        """
        SELECT d.model, d.name, d.res_id FROM ir_model_data d
         WHERE d.module = %s
           AND NOT EXISTS (
                SELECT 1 FROM ir_model_data o
                 WHERE o.model = d.model AND o.res_id = d.res_id
                   AND o.module != %s)
        """,
        [ADDON, ADDON],
    )
    # columns and tables only the addon defines
    columns = db.query(
        """
        SELECT c.table_name, c.column_name
          FROM ir_model_fields f
          JOIN ir_model_data d
            ON d.model = 'ir.model.fields' AND d.res_id = f.id AND d.module = %s
          JOIN information_schema.columns c
            ON c.table_schema = 'public'
           AND c.table_name = replace(f.model, '.', '_')
           AND c.column_name = f.name
         WHERE NOT EXISTS (
                SELECT 1 FROM ir_model_data o
                 WHERE o.model = 'ir.model.fields' AND o.res_id = f.id
                   AND o.module != %s)
        """,
        [ADDON, ADDON],
    )
    tables = db.query(
        """
        SELECT t.table_name
          FROM ir_model m
          JOIN ir_model_data d
            ON d.model = 'ir.model' AND d.res_id = m.id AND d.module = %s
          JOIN information_schema.tables t
            ON t.table_schema = 'public' AND t.table_name = replace(m.model, '.', '_')
         WHERE NOT EXISTS (
                SELECT 1 FROM ir_model_data o
                 WHERE o.model = 'ir.model' AND o.res_id = m.id AND o.module != %s)
        UNION
        SELECT r.name FROM ir_model_relation r
          JOIN ir_module_module mm ON mm.id = r.module AND mm.name = %s
         WHERE NOT EXISTS (
                -- a stock relation the addon redefines (crm.lead.lost's
                -- lead_ids) stays with crm
                SELECT 1 FROM ir_model_relation o
                  JOIN ir_module_module om ON om.id = o.module
                 WHERE o.name = r.name AND om.name != %s)
        """,
        [ADDON, ADDON, ADDON, ADDON],
    )
    before = {
        "leads": snapshot(db, {"leads": LEADS})["leads"],
        "demo_lead_ids": {
            res_id for model, _name, res_id in module_data if model == "crm.lead"
        },
        "module_data": module_data,
        "columns": set(columns),
        "tables": {table for (table,) in tables},
        "reasons": db.query("SELECT id, name, active FROM crm_lost_reason"),
    }
    state = shell_report(db, UNINSTALL, "uninstall")
    with open(db.log_path("uninstall"), encoding="utf-8") as file:
        log = file.read()
    return {"db": db, "edits": edits, "before": before, "state": state, "log": log}


def test_uninstall_succeeds(uninstalled):
    db = uninstalled["db"]
    assert uninstalled["state"] == "uninstalled"
    assert (
        db.value("SELECT state FROM ir_module_module WHERE name = %s", [ADDON])
        == "uninstalled"
    )
    assert uninstall_log_errors(uninstalled["log"]) == []


def test_uninstall_keeps_every_lead(uninstalled):
    db, before = uninstalled["db"], uninstalled["before"]
    leads = {lead["id"]: lead for lead in snapshot(db, {"leads": LEADS})["leads"]}
    # the addon's demo leads are the addon's data: removed with it
    demo = before["demo_lead_ids"]
    assert demo and not demo & leads.keys()
    # every other lead, active or lost, unchanged (not even written)
    kept = {lead["id"]: lead for lead in before["leads"] if lead["id"] not in demo}
    assert leads == kept
    assert {lead["active"] for lead in leads.values()} == {True, False}
    # the user's leads keep their stock fields, lost reason included
    ids = uninstalled["edits"]["leads"]
    reasons = uninstalled["edits"]["reasons"]
    competitor = db.value(
        "SELECT res_id FROM ir_model_data WHERE module = %s AND name = %s",
        [ADDON, "crm_lost_reason_competitor"],
    )
    expected = {
        "stock_reason": (False, reasons["reason_1"], 0.0),
        "own_reason": (False, reasons["own"], 0.0),
        "addon_reason": (False, competitor, 0.0),
        "restored": (True, None),
        "revisited": (True, None),
    }
    for key, values in expected.items():
        lead = leads[ids[key]]
        found = (lead["active"], lead["lost_reason_id"], lead["probability"])
        assert found[: len(values)] == values, key


def test_uninstall_keeps_stock_and_used_lost_reasons(uninstalled):
    db, before = uninstalled["db"], uninstalled["before"]
    reasons = {
        row[0]: row for row in db.query("SELECT id, name, active FROM crm_lost_reason")
    }
    edits = uninstalled["edits"]["reasons"]
    # the stock reasons, with the names the user gave them
    stock = db.query(
        "SELECT d.name, r.name, r.active FROM ir_model_data d "
        "JOIN crm_lost_reason r ON r.id = d.res_id "
        "WHERE d.module = 'crm' AND d.model = 'crm.lost.reason' ORDER BY d.name"
    )
    assert [row[0] for row in stock] == [
        "lost_reason_1",
        "lost_reason_2",
        "lost_reason_3",
    ]
    assert stock[0][1] == {
        "en_US": "Price too high (edited)",
        "zh_CN": "价格太高（已编辑）",
    }
    assert all(row[2] for row in stock)
    # the user's own reason, and every reason a remaining lead uses
    assert reasons[edits["own"]][1] == {"en_US": "Lost to an internal project"}
    used = {
        reason_id
        for (reason_id,) in db.query(
            "SELECT DISTINCT lost_reason_id FROM crm_lead "
            "WHERE lost_reason_id IS NOT NULL"
        )
    }
    assert used <= reasons.keys()
    # only the addon's unused reasons are removed; no reason is changed
    removed = {row[0] for row in before["reasons"]} - reasons.keys()
    assert removed == {
        res_id
        for model, name, res_id in before["module_data"]
        if model == "crm.lost.reason" and (model, name) not in KEPT_IN_USE
    }
    assert all(reasons[row[0]] == row for row in before["reasons"] if row[0] in reasons)


def test_uninstall_removes_the_addon(uninstalled):
    db, before = uninstalled["db"], uninstalled["before"]
    # tables (the lost analysis is an SQL view) and columns
    assert {"crm_lead_loss", "crm_lost_reason_category", "crm_lost_competitor"} | {
        "crm_win_loss_report",
        "crm_lost_reason_crm_team_rel",
    } <= before["tables"]
    left = db.query(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = 'public' AND table_name = ANY(%s)",
        [sorted(before["tables"])],
    )
    assert left == []
    assert {
        ("crm_lead", "lost_date"),
        ("crm_lead", "lost_competitor_id"),
        ("crm_lead", "lost_feedback"),
        ("crm_lost_reason", "category_id"),
        ("crm_team", "stale_lost_days"),
        ("res_company", "crm_lost_reason_required"),
    } <= before["columns"]
    columns = set(
        db.query(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public'"
        )
    )
    assert before["columns"] & columns == set()
    # the addon's records: gone, but those still in use
    kept = db.query(
        "SELECT model, name, res_id FROM ir_model_data WHERE module = %s", [ADDON]
    )
    assert {(model, name) for model, name, _id in kept} == KEPT_IN_USE
    tables = {
        "ir.ui.view": "ir_ui_view",
        "ir.ui.menu": "ir_ui_menu",
        "ir.actions.act_window": "ir_act_window",
        "ir.actions.client": "ir_act_client",
        "ir.actions.server": "ir_act_server",
        "ir.cron": "ir_cron",
        "ir.rule": "ir_rule",
        "ir.model.access": "ir_model_access",
        "ir.model": "ir_model",
        "ir.model.fields": "ir_model_fields",
        "ir.model.fields.selection": "ir_model_fields_selection",
        "ir.model.constraint": "ir_model_constraint",
        "crm.lost.reason": "crm_lost_reason",
        "mail.activity.type": "mail_activity_type",
        "crm.team": "crm_team",
        "res.users": "res_users",
        "res.partner": "res_partner",
        "mail.alias": "mail_alias",
        "crm.lead": "crm_lead",
        "crm.team.member": "crm_team_member",
    }
    kept_ids = {(model, res_id) for model, _name, res_id in kept}
    left = []
    for model, name, res_id in before["module_data"]:
        if model not in tables or (model, res_id) in kept_ids:
            continue
        if db.value(f"SELECT 1 FROM {tables[model]} WHERE id = %s", [res_id]):
            left.append((model, name))
    assert left == []
    # the others had their table dropped (checked above)
    assert {model for model, _name, _id in before["module_data"]} - set(tables) == {
        "crm.lost.competitor",
        "crm.lost.reason.category",
        "crm.won.reason",
        "crm.lead.competitor",
    }


# As a salesperson: the crm views of the pipeline, leads, lost reasons and
# the Mark Lost wizard render and their fields read; the menus load; the stock
# Mark Lost wizard, restore and won work. Rolled back.
CRM_AFTER_UNINSTALL = (
    SHELL_PRELUDE
    + """
ref = env.ref
salesman = ref("base.user_demo")
senv = env(user=salesman.id)
result = {"views": {}, "read": {}}
for xmlid in (
    "crm.crm_lead_action_pipeline",
    "crm.crm_lead_all_leads",
    "crm.crm_lead_lost_action",
    "crm.crm_lost_reason_action",
):
    action = ref(xmlid)
    model = senv[action.res_model]
    views = [list(view) for view in action.views]
    if action.search_view_id:
        views.append([action.search_view_id.id, "search"])
    elif "search" not in {mode for _id, mode in views}:
        views.append([False, "search"])
    info = model.get_views(views, {"toolbar": True, "load_filters": True})
    result["views"][xmlid] = sorted(info["views"])
    if model._transient:
        continue
    # every field of the views reads (no column of the addon missing)
    fields = info["models"][action.res_model]["fields"]
    spec = {name: {} for name in fields}
    records = model.with_context(active_test=False).web_search_read(
        [], spec, limit=80
    )["records"]
    result["read"][xmlid] = len(records)
menus = senv["ir.ui.menu"].load_web_menus(False)
result["menus"] = len(menus)

# one of the salesperson's open opportunities (stock demo data)
lead = senv["crm.lead"].search(
    [("user_id", "=", salesman.id), ("type", "=", "opportunity")], limit=1
)
senv["crm.lead.lost"].with_context(
    active_ids=lead.ids, active_model="crm.lead"
).create({
    "lead_ids": [Command.set(lead.ids)],
    "lost_reason_id": ref("crm.lost_reason_2").id,
    "lost_feedback": "<p>No people for it</p>",
}).action_lost_reason_apply()
env.cr.precommit.run()  # post the tracking message with the closing note
result["lost"] = [
    lead.active,
    lead.probability,
    lead.lost_reason_id.id == ref("crm.lost_reason_2").id,
    "No people for it" in (lead.message_ids[:1].body or ""),
]
lead.action_unarchive()
result["restored"] = [lead.active, bool(lead.lost_reason_id)]
lead.action_set_won()
result["won"] = [lead.active, lead.probability, lead.stage_id.is_won]
env.cr.rollback()
report(result)
"""
)


def test_crm_works_after_uninstall(uninstalled):
    facts = shell_report(uninstalled["db"], CRM_AFTER_UNINSTALL, "crm-check")
    assert facts["views"] == {
        "crm.crm_lead_action_pipeline": [
            "activity",
            "calendar",
            "form",
            "graph",
            "kanban",
            "list",
            "pivot",
            "search",
        ],
        "crm.crm_lead_all_leads": [
            "activity",
            "calendar",
            "form",
            "graph",
            "kanban",
            "list",
            "pivot",
            "search",
        ],
        "crm.crm_lead_lost_action": ["form", "search"],
        "crm.crm_lost_reason_action": ["form", "list", "search"],
    }
    assert set(facts["read"]) == set(facts["views"]) - {"crm.crm_lead_lost_action"}
    assert all(count > 0 for count in facts["read"].values()), facts["read"]
    assert facts["menus"] > 0
    assert facts["lost"] == [False, 0.0, True, True]
    assert facts["restored"] == [True, False]
    assert facts["won"] == [True, 100.0, True]


def stock_crm_tests(db, odoo_env):
    """Run Odoo's own crm tests (pytest-odoo, tours included) on ``db``; return
    (exit code, output, seconds)."""
    crm = next(
        os.path.join(path, "crm")
        for path in odoo_env.addons_path.split(",")
        if os.path.isdir(os.path.join(path, "crm"))
    )
    folder = os.path.join(odoo_env.workdir, "stock-crm")
    os.makedirs(folder, exist_ok=True)
    link = os.path.join(folder, "crm")
    if os.path.islink(link):
        os.unlink(link)
    os.symlink(crm, link)
    tools = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "tools")
    cmd = [
        odoo_env.python,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "-p",
        "pytest_clm",
        f"--odoo-database={db.name}",
        f"--odoo-addons-path={odoo_env.addons_path}",
        "--odoo-http",
        "--odoo-log-level=warn",
        "--odoo-extra=test-enable",
        "-q",
        "-rf",
        "crm/tests",
    ]
    env = dict(os.environ, PYTHONPATH=os.path.abspath(tools))
    start = time.monotonic()
    result = subprocess.run(
        cmd,
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    output = result.stdout + result.stderr
    with open(db.log_path("stock-crm-tests"), "w", encoding="utf-8") as file:
        file.write(output)
    return result.returncode, output, time.monotonic() - start


def test_stock_crm_tests_pass_after_uninstall(uninstalled, odoo_env):
    code, output, seconds = stock_crm_tests(uninstalled["db"], odoo_env)
    summary = output.strip().splitlines()[-1] if output.strip() else ""
    _logger.info("stock crm tests after uninstall: %s (%.0f s)", summary, seconds)
    assert code == 0, f"stock crm tests failed after uninstall:\n{output[-6000:]}"
    assert re.search(r"\b\d+ passed\b", summary), summary
    assert "failed" not in summary and "error" not in summary, summary


# After reinstalling: the lost leads got their open loss record (post_init_hook);
# then a manager loses and restores a lead through the ORM. Rolled back.
LOSE_AND_RESTORE = (
    SHELL_PRELUDE
    + """
manager = env["res.users"].search([("login", "=", "clm_life_manager")])
menv = env(user=manager.id)
lead = menv["crm.lead"].browse(LEAD_ID)
reason = env.ref("crm_lost_management.crm_lost_reason_postponed")
lead.action_set_lost(lost_reason_id=reason.id)
open_losses = lead.loss_ids.filtered(lambda loss: loss.state == "lost")
result = {
    "lost": [lead.active, bool(lead.lost_date), len(open_losses)],
    "loss_reason": open_losses.lost_reason_id.id == reason.id,
}
lead._action_restore(restore_note="Back after the reinstall")
result["restored"] = [
    lead.active,
    bool(lead.lost_date),
    bool(lead.lost_reason_id),
    open_losses.state,
    open_losses.restore_note,
]
env.cr.rollback()
report(result)
"""
)


def test_reinstall(uninstalled):
    """Last: reinstalls the module on the shared copy."""
    db, before = uninstalled["db"], uninstalled["before"]
    _, log = db.odoo("-i", ADDON, label="reinstall")
    assert not log_lines(log, "WARNING"), log_lines(log, "WARNING")
    assert (
        db.value("SELECT state FROM ir_module_module WHERE name = %s", [ADDON])
        == "installed"
    )
    # the data reasons and categories are back; reasons kept in use are the
    # same records again
    data = dict(
        db.query(
            "SELECT d.name, r.id FROM ir_model_data d JOIN crm_lost_reason r "
            "ON r.id = d.res_id WHERE d.module = %s AND d.model = 'crm.lost.reason'",
            [ADDON],
        )
    )
    assert {name for name in data if not name.startswith("crm_lost_reason_demo")} >= {
        "crm_lost_reason_competitor",
        "crm_lost_reason_postponed",
        "crm_lost_reason_no_budget",
        "crm_lost_reason_missing_features",
        "crm_lost_reason_no_response",
        "crm_lost_reason_not_qualified",
        "crm_lost_reason_duplicate",
        "crm_lost_reason_other",
    }
    for model, name, res_id in before["module_data"]:
        if (model, name) in KEPT_IN_USE and model == "crm.lost.reason":
            assert data[name] == res_id, name
    categories = db.value(
        "SELECT count(*) FROM ir_model_data d JOIN crm_lost_reason_category c "
        "ON c.id = d.res_id WHERE d.module = %s "
        "AND d.model = 'crm.lost.reason.category'",
        [ADDON],
    )
    assert categories == 8
    stock_categories = db.query(
        "SELECT r.category_id FROM crm_lost_reason r JOIN ir_model_data d "
        "ON d.res_id = r.id AND d.model = 'crm.lost.reason' AND d.module = 'crm'"
    )
    assert all(category for (category,) in stock_categories)
    # every lost lead has its one open loss, every active lead none
    wrong = db.query(
        """
        SELECT l.id, l.active, l.lost_date, count(x.id)
          FROM crm_lead l
          LEFT JOIN crm_lead_loss x ON x.lead_id = l.id AND x.state = 'lost'
         GROUP BY l.id
        HAVING (NOT l.active AND (count(x.id) != 1 OR l.lost_date IS NULL))
            OR (l.active AND count(x.id) != 0)
        """
    )
    assert wrong == []
    ids = uninstalled["edits"]["leads"]
    loss = db.query(
        "SELECT x.lost_reason_id, l.lost_reason_id, x.state FROM crm_lead_loss x "
        "JOIN crm_lead l ON l.id = x.lead_id WHERE x.lead_id = %s",
        [ids["addon_reason"]],
    )
    assert loss == [(data["crm_lost_reason_competitor"],) * 2 + ("lost",)]
    # the addon works again
    script = LOSE_AND_RESTORE.replace("LEAD_ID", str(ids["restored"]))
    facts = shell_report(db, script, "lose-restore")
    assert facts == {
        "lost": [False, True, 1],
        "loss_reason": True,
        "restored": [True, False, False, "recovered", "Back after the reinstall"],
    }
