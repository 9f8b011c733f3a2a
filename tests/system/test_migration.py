# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Upgrade a database made with 18.0.1.0.0, as released, to the current code.

The addon as released is exported from git (``git archive``) into a temporary
addons folder; a new database gets it installed with demo data, then the data
18.0.1.0.0 left wrong or that its users could make, through its own code
(``odoo shell``) and by SQL:

- a lead lost in a won stage, then restored there: its last loss stayed
  "recovered" though the lead is won (18.0.1.0.0 set "won back" on a stage
  change only), and its first loss, "won back" at the time, is not the last;
- a lead won back, then moved out of the won stage: still "won back";
- archived leads with a probability (by SQL, by RPC);
- a lead lost in company A, then moved to company B: its loss kept A;
- a lost lead whose Lost On / Lost By were changed afterwards (import, RPC),
  and an active lead given them: the loss record did not follow;
- a lead archived and one unarchived by SQL (no loss opened, none closed);
- competitors, and duplicates of their names (ignoring case, same company)
  inserted by SQL, one of them used by a lead and its loss;
- losses and restores with closing and restore notes.

Then ``odoo -u crm_lost_management`` with the current code: the migration
scripts run, nothing is logged above INFO, loss records are read-only for
every group, and the database follows the 18.0.1.1.0 definitions (SQL
checks) while every row the migration had no reason to touch is unchanged,
write date included. Last, the current code loses, restores and refuses a
duplicate competitor on the migrated data.

Wins (18.0.1.2.0): leads won before the upgrade (``WON_DATA``: won by the
stock API, created in a won stage, closed long ago or with no closing date,
won then reopened, won then lost) get exactly one open win record each,
dated when they were closed, and nothing else does, upgrading from
18.0.1.0.0 (above) as from 18.0.1.1.0 (``test_upgrade_from_18_0_1_1_0``).
"""

import ast
import contextlib
import json
import logging
import os
import shutil
import subprocess
import time
from datetime import datetime
from pathlib import Path

import psycopg2
import pytest

_logger = logging.getLogger(__name__)

ADDON = "crm_lost_management"
CLM_ROOT = Path(__file__).resolve().parents[2]

# 18.0.1.0.0 as released: the last commit of main with that version, before
# the bump to 18.0.1.1.0 (1c8eb6d). Pinned by its full hash, which never
# moves: searching the history for the version string instead is fragile
# (`git log -S` lists the commits that add or remove the string, so its
# newest hit is the bump itself; commits of merged side branches also say
# 18.0.1.0.0 without having been released; a reformatted manifest changes
# the string). The hash is checked below: present, an ancestor of HEAD, and
# its manifest says 18.0.1.0.0.
RELEASED_VERSION = "18.0.1.0.0"
RELEASED_COMMIT = "0fb130041e7d48186f256922be9bcb585d8f9968"
# 18.0.1.1.0 as released: the last commit of main before the wins (the bump
# to 18.0.1.2.0 came with them, 62139f5)
RELEASED_1_1_VERSION = "18.0.1.1.0"
RELEASED_1_1_COMMIT = "371a56b7a5e15eebd0a1f17eb63e7ab3e6c8cd30"

MARK = "CLM-MIG "
SHELL_PRELUDE = f"""
import json
from odoo import Command, fields

def report(value):
    print({MARK!r} + json.dumps(value, default=str))
"""

# Run by odoo shell with 18.0.1.0.0: what its users did and what it left.
OLD_DATA = (
    SHELL_PRELUDE
    + """
from datetime import timedelta

ref = env.ref
admin = ref("base.user_admin")
salesman = ref("base.user_demo")
aenv = env(user=admin.id)
Lead = aenv["crm.lead"]
won = ref("crm.stage_lead4")
new = ref("crm.stage_lead1")
company_a = env.company
company_b = env["res.company"].create({"name": "Migration Company B"})
reason_price = ref("crm.lost_reason_1")
reason_competitor = ref("crm_lost_management.crm_lost_reason_competitor")
reason_other = ref("crm_lost_management.crm_lost_reason_other")
Competitor = aenv["crm.lost.competitor"]
rival = Competitor.create({"name": "Migration Rival"})
other = Competitor.create(
    {"name": "Migration Other", "website": "https://other.example.com"}
)
rival_2 = Competitor.create({"name": "Migration Rival (2)"})

def new_lead(name, **values):
    return Lead.create({
        "name": name,
        "type": "opportunity",
        "expected_revenue": 5000,
        "user_id": salesman.id,
        **values,
    })

def lose(lead, reason, **values):
    aenv["crm.lead.lost"].with_context(
        active_ids=lead.ids, active_model="crm.lead"
    ).create({
        "lead_ids": [Command.set(lead.ids)],
        "lost_reason_id": reason.id,
        **values,
    }).action_lost_reason_apply()
    return lead

leads = {}
lead = leads["won_back"] = new_lead("Migration: lost while won")
lose(lead, reason_price, lost_feedback="<p>First time: too <b>expensive</b></p>")
lead._action_restore(restore_note="They found budget")
lead.action_set_won()
assert lead.stage_id == won
lose(
    lead,
    reason_competitor,
    lost_competitor_id=rival.id,
    lost_feedback="<p>Second time: Rival signed them</p>",
)
lead._action_restore(restore_note="Rival went bankrupt, back and won")
assert lead.active and lead.stage_id == won

lead = leads["unwon"] = new_lead("Migration: won back, then reopened")
lose(lead, reason_other, lost_feedback="<p>Gone quiet</p>")
lead._action_restore(restore_note="Called back")
lead.action_set_won()
lead.write({"stage_id": new.id})

leads["probability_sql"] = lose(
    new_lead("Migration: lost, probability by SQL"),
    reason_price,
    lost_feedback="<p>Price</p>",
)
leads["probability_rpc"] = lose(
    new_lead("Migration: lost, probability by RPC"),
    reason_other,
    lost_feedback="<p>Other</p>",
)
leads["probability_rpc"].write({"probability": 25})

lead = leads["company"] = new_lead(
    "Migration: lost, then moved to company B",
    user_id=False,
    team_id=False,
    company_id=company_a.id,
)
lose(lead, reason_other, lost_feedback="<p>Moved</p>")
lead.write({"company_id": company_b.id})

imported_date = fields.Datetime.now().replace(microsecond=0) - timedelta(days=40)
lead = leads["imported_date"] = lose(
    new_lead("Migration: lost, Lost On imported"), reason_price
)
lead.write({"lost_date": imported_date, "lost_by_id": salesman.id})
leads["active_dated"] = new_lead(
    "Migration: active with a Lost On",
    lost_date=imported_date,
    lost_by_id=salesman.id,
)

leads["lost_note"] = lose(
    new_lead("Migration: lost to Other"),
    reason_competitor,
    lost_competitor_id=other.id,
    lost_feedback="<p>Other was <i>cheaper</i> &amp; faster</p>",
)
lead = leads["restored_note"] = lose(
    new_lead("Migration: restored with a note"),
    reason_other,
    lost_feedback="<p>On hold</p>",
)
lead._action_restore(restore_note="Project restarted\\nwith a new budget")

leads["sql_archived"] = new_lead("Migration: archived by SQL", probability=10)
leads["sql_unarchived"] = lose(
    new_lead("Migration: unarchived by SQL"),
    reason_price,
    lost_feedback="<p>Unarchived by SQL</p>",
)
leads["duplicate_competitor"] = lose(
    new_lead("Migration: lost to a duplicate"),
    reason_competitor,
    lost_competitor_id=rival.id,
)
env.cr.commit()

cr = env.cr
# the first loss of the won lead, two months earlier
cr.execute(
    "UPDATE crm_lead_loss SET lost_date = lost_date - interval '60 days', "
    "restored_date = restored_date - interval '50 days' "
    "WHERE id = (SELECT min(id) FROM crm_lead_loss WHERE lead_id = %s)",
    [leads["won_back"].id],
)

def insert_competitor(name, company_id=None):
    cr.execute(
        "INSERT INTO crm_lost_competitor (name, company_id, active, color, "
        "create_uid, write_uid, create_date, write_date) VALUES (%s, %s, true, 0, "
        "1, 1, now() at time zone 'UTC', now() at time zone 'UTC') RETURNING id",
        [name, company_id],
    )
    return cr.fetchone()[0]

competitors = {
    "rival": rival.id,
    "other": other.id,
    "rival_2": rival_2.id,
    "lower": insert_competitor("migration rival"),
    "upper": insert_competitor("MIGRATION RIVAL"),
    "company_b": insert_competitor("migration rival", company_b.id),
    "company_b_twice": insert_competitor("Migration Rival", company_b.id),
}
for table, column in (
    ("crm_lead", "lost_competitor_id"),
    ("crm_lead_loss", "competitor_id"),
):
    cr.execute(
        f"UPDATE {table} SET {column} = %s WHERE {column} = %s AND "
        f"{'id' if table == 'crm_lead' else 'lead_id'} = %s",
        [competitors["upper"], rival.id, leads["duplicate_competitor"].id],
    )
cr.execute(
    "UPDATE crm_lead SET probability = 40, automated_probability = 30 WHERE id = %s",
    [leads["probability_sql"].id],
)
for key, active in (("sql_archived", False), ("sql_unarchived", True)):
    cr.execute(
        "UPDATE crm_lead SET active = %s WHERE id = %s", [active, leads[key].id]
    )
env.cr.commit()
report({
    "leads": {key: lead.id for key, lead in leads.items()},
    "competitors": competitors,
    "company_a": company_a.id,
    "company_b": company_b.id,
    "imported_date": imported_date,
    "salesman": salesman.id,
})
"""
)

# Run by odoo shell with the current code on the migrated database: it works
# on the migrated data. Rolled back.
NEW_CODE_ON_MIGRATED = (
    SHELL_PRELUDE
    + """
ids = json.loads(IDS)
Lead = env["crm.lead"].with_context(active_test=False)
result = {}
# unarchived by SQL: its loss was closed, so it can be lost again
lead = Lead.browse(ids["sql_unarchived"])
lead.action_set_lost(lost_reason_id=env.ref("crm.lost_reason_2").id)
result["lost_again"] = lead.loss_ids.sorted("id").mapped("state")
# archived by SQL: its loss was opened, so the restore closes it
lead = Lead.browse(ids["sql_archived"])
lead._action_restore(restore_note="Back after the upgrade")
result["restored"] = [lead.active, lead.loss_ids.mapped("state")]
env.flush_all()
# the name constraint is in place
try:
    with env.cr.savepoint():
        env["crm.lost.competitor"].create({"name": "MIGRATION rival"})
        env.flush_all()
    result["duplicate"] = "created"
except Exception as error:
    # 23P01: exclusion_violation
    result["duplicate"] = getattr(error, "pgcode", repr(error))
env.cr.rollback()
report(result)
"""
)

# Run by odoo shell with a released version (18.0.1.0.0 or 18.0.1.1.0), which
# has no win records: leads won, and leads that were won but are not now.
WON_DATA = (
    SHELL_PRELUDE
    + """
ref = env.ref
admin = ref("base.user_admin")
salesman = ref("base.user_demo")
Lead = env(user=admin.id)["crm.lead"]
won = ref("crm.stage_lead4")
new = ref("crm.stage_lead1")

def new_lead(name, **values):
    return Lead.create({
        "name": name,
        "type": "opportunity",
        "expected_revenue": 3000,
        "user_id": salesman.id,
        "stage_id": new.id,
        **values,
    })

leads = {}
for key in ("won", "closed_long_ago", "no_closing_date"):
    leads[key] = new_lead(f"Migration won: {key}")
    leads[key].action_set_won()
leads["created_won"] = new_lead("Migration won: created won", stage_id=won.id)
leads["reopened"] = new_lead("Migration won: reopened")
leads["reopened"].action_set_won()
leads["reopened"].write({"stage_id": new.id})
leads["lost"] = new_lead("Migration won: then lost")
leads["lost"].action_set_won()
leads["lost"].action_set_lost(lost_reason_id=ref("crm.lost_reason_1").id)
env.cr.commit()
assert all(lead.stage_id == won for key, lead in leads.items() if key != "reopened")
env.cr.execute(
    "UPDATE crm_lead SET date_closed = '2025-06-01 10:00:00.654321' WHERE id = %s",
    [leads["closed_long_ago"].id],
)
env.cr.execute(
    "UPDATE crm_lead SET date_closed = NULL WHERE id = %s",
    [leads["no_closing_date"].id],
)
env.cr.commit()
report({key: lead.id for key, lead in leads.items()})
"""
)

# Run by odoo shell with the current code on the migrated database: a win
# recorded by the migration is reopened and the lead won again. Rolled back.
NEW_CODE_ON_WINS = (
    SHELL_PRELUDE
    + """
ids = json.loads(IDS)
lead = env["crm.lead"].browse(ids["won"])
lead.write({"stage_id": env.ref("crm.stage_lead1").id})
lead.with_context(
    crm_won_values={"won_reason_id": env.ref("crm_lost_management.won_reason_price").id}
).action_set_won()
env.flush_all()
wins = lead.win_ids.sorted("id")
result = {
    "states": wins.mapped("state"),
    "reasons": [win.won_reason_id.name or False for win in wins],
    "lead_reason": lead.won_reason_id.name,
}
env.cr.rollback()
report(result)
"""
)

# What the migration may change, and what users own beside it.
TABLES = {
    "crm_lead": "SELECT * FROM crm_lead ORDER BY id",
    "crm_lead_loss": "SELECT * FROM crm_lead_loss ORDER BY id",
    "crm_lost_competitor": "SELECT * FROM crm_lost_competitor ORDER BY id",
    "crm_lost_reason": "SELECT * FROM crm_lost_reason ORDER BY id",
    "crm_lost_reason_category": "SELECT * FROM crm_lost_reason_category ORDER BY id",
    "crm_lost_reason_crm_team_rel": (
        "SELECT 1000000 * crm_lost_reason_id + crm_team_id AS id, * "
        "FROM crm_lost_reason_crm_team_rel"
    ),
}
STAMPS = {"write_date", "write_uid"}


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def git(*args):
    return subprocess.run(
        ["git", "-C", str(CLM_ROOT), *args],
        capture_output=True,
        check=False,
    )


def export_released_addon(folder, commit=RELEASED_COMMIT, version=RELEASED_VERSION):
    """Export the addon as released in ``version`` (``commit``) into
    ``folder/crm_lost_management``; fail clearly when git or the commit is
    missing."""
    if not shutil.which("git"):
        pytest.fail(
            f"git is not installed: the migration test exports {version} from "
            f"the repository {CLM_ROOT}",
            pytrace=False,
        )
    if git("rev-parse", "--git-dir").returncode:
        pytest.fail(
            f"{CLM_ROOT} is not a git repository: the migration test exports "
            f"{version} from its history (run it from a git clone)",
            pytrace=False,
        )
    if git("cat-file", "-e", f"{commit}^{{commit}}").returncode:
        shallow = git("rev-parse", "--is-shallow-repository").stdout.strip()
        pytest.fail(
            f"commit {commit} ({version} as released) is not in "
            f"the repository {CLM_ROOT}"
            + (
                " (a shallow clone: git fetch --unshallow)"
                if shallow == b"true"
                else ""
            ),
            pytrace=False,
        )
    if git("merge-base", "--is-ancestor", commit, "HEAD").returncode:
        pytest.fail(
            f"commit {commit} ({version}) is not an ancestor of "
            f"HEAD in {CLM_ROOT}: the migration test upgrades from a release of "
            "this branch",
            pytrace=False,
        )
    manifest = git("show", f"{commit}:__manifest__.py").stdout
    released = ast.literal_eval(manifest.decode())["version"]
    assert released == version, f"{commit} is version {released}"
    target = Path(folder) / ADDON
    target.mkdir(parents=True)
    archive = subprocess.Popen(
        ["git", "-C", str(CLM_ROOT), "archive", commit],
        stdout=subprocess.PIPE,
    )
    untar = subprocess.run(
        ["tar", "-x", "-C", str(target)], stdin=archive.stdout, check=False
    )
    archive.stdout.close()
    assert archive.wait() == 0 and untar.returncode == 0, "git archive | tar failed"
    assert (target / "__manifest__.py").is_file()
    return Path(folder)


def released_addons_path(odoo_env, folder):
    """Odoo's addons and ``folder`` (a released version), without the current
    code."""
    paths = [
        path
        for path in odoo_env.addons_path.split(",")
        if not os.path.isdir(os.path.join(path, ADDON))
    ]
    return ",".join([*paths, str(folder)])


def current_version():
    manifest = (CLM_ROOT / "__manifest__.py").read_text(encoding="utf-8")
    return ast.literal_eval(manifest)["version"]


def version_tuple(version):
    return tuple(int(part) for part in version.split("."))


def installed_version(db):
    return db.value(
        "SELECT latest_version FROM ir_module_module "
        "WHERE name = %s AND state = 'installed'",
        [ADDON],
    )


def shell_report(db, script, label):
    """Run ``script`` in odoo shell on ``db``; return what it reported."""
    out = db.shell(script, label=label)
    lines = [line for line in out.splitlines() if line.startswith(MARK)]
    assert lines, f"odoo shell ({label}) reported nothing:\n{out[-3000:]}"
    return json.loads(lines[-1][len(MARK) :])


# columns 18.0.1.1.0 renamed (one name per concept), compared under their
# new name
RENAMED = {"crm_lost_reason": {"reengage_after_days": "revisit_after_days"}}


def snapshot(db):
    """Rows of each table of TABLES as {id: {column: value}}, renamed
    columns under their new name."""
    result = {}
    with contextlib.closing(psycopg2.connect(dbname=db.name)) as conn:
        with conn, conn.cursor() as cr:
            for name, sql in TABLES.items():
                cr.execute(sql)
                renamed = RENAMED.get(name, {})
                columns = [
                    renamed.get(column.name, column.name) for column in cr.description
                ]
                result[name] = {
                    row[0]: dict(zip(columns, row, strict=True))
                    for row in cr.fetchall()
                }
    return result


def changes(before, after):
    """{table: {id: {column: (old, new)}}} of the rows both snapshots have,
    and the ids each one has alone."""
    changed, only_before, only_after = {}, {}, {}
    for table in before:
        rows_before, rows_after = before[table], after[table]
        only_before[table] = rows_before.keys() - rows_after.keys()
        only_after[table] = rows_after.keys() - rows_before.keys()
        for row_id in rows_before.keys() & rows_after.keys():
            old, new = rows_before[row_id], rows_after[row_id]
            diff = {
                column: (old.get(column), new.get(column))
                for column in old.keys() | new.keys()
                if old.get(column) != new.get(column)
            }
            if diff:
                changed.setdefault(table, {})[row_id] = diff
    return changed, only_before, only_after


def expected_loss_states(db):
    """{loss id: (state, expected state)} by the 18.0.1.1.0 definition: an
    open loss is "lost"; the last loss of a lead that is won now (active, in
    a won stage) is "won back"; any other closed loss is "recovered"."""
    rows = db.query(
        """
        SELECT loss.id, loss.lead_id, loss.lost_date, loss.restored_date,
               loss.state, lead.active AND COALESCE(stage.is_won, false)
          FROM crm_lead_loss loss
          JOIN crm_lead lead ON lead.id = loss.lead_id
          LEFT JOIN crm_stage stage ON stage.id = lead.stage_id
        """
    )
    last = {}
    for loss_id, lead_id, lost_date, *_rest in rows:
        last[lead_id] = max(
            last.get(lead_id, (lost_date, loss_id)), (lost_date, loss_id)
        )
    result = {}
    for loss_id, lead_id, lost_date, restored_date, state, won in rows:
        if not restored_date:
            expected = "lost"
        elif won and last[lead_id] == (lost_date, loss_id):
            expected = "won_back"
        else:
            expected = "recovered"
        result[loss_id] = (state, expected)
    return result


def losses_of(snap, lead_id):
    return sorted(
        (loss for loss in snap["crm_lead_loss"].values() if loss["lead_id"] == lead_id),
        key=lambda loss: (loss["lost_date"], loss["id"]),
    )


def loss_access(db):
    return db.query(
        """
        SELECT data.name, access.perm_read, access.perm_write,
               access.perm_create, access.perm_unlink
          FROM ir_model_access access
          JOIN ir_model_data data
            ON data.model = 'ir.model.access' AND data.res_id = access.id
          JOIN ir_model model ON model.id = access.model_id
         WHERE model.model = 'crm.lead.loss'
         ORDER BY data.name
        """
    )


def competitor_duplicates(db):
    return db.query(
        """
        SELECT lower(name), COALESCE(company_id, 0), count(*)
          FROM crm_lost_competitor
         GROUP BY 1, 2 HAVING count(*) > 1 ORDER BY 1, 2
        """
    )


def assert_wins_recorded(db, won, before):
    """After the upgrade to 18.0.1.2.0: every lead won (active, in a won
    stage) has exactly one win record, open, dated when it was closed (else
    last written; to the second), by whom last wrote it, a snapshot of the
    lead (salesperson, team, company, stage, type, expected revenue), without
    a reason; no other lead has one: the migration cannot know past wins.
    ``won``: the leads of ``WON_DATA``; ``before``: the snapshot of the
    database before the upgrade."""
    won_stages = {row[0] for row in db.query("SELECT id FROM crm_stage WHERE is_won")}
    wins = {}
    for lead_id, *values in db.query(
        """
        SELECT lead_id, state, won_date, won_by_id, user_id, team_id,
               company_id, stage_id, lead_type, expected_revenue, won_reason_id
          FROM crm_lead_win
        """
    ):
        assert lead_id not in wins, f"lead {lead_id}: two win records"
        wins[lead_id] = tuple(values)
    expected = {
        lead_id: (
            "won",
            (lead["date_closed"] or lead["write_date"]).replace(microsecond=0),
            lead["write_uid"],
            lead["user_id"],
            lead["team_id"],
            lead["company_id"],
            lead["stage_id"],
            lead["type"],
            lead["expected_revenue"],
            None,
        )
        for lead_id, lead in before["crm_lead"].items()
        if lead["active"] and lead["stage_id"] in won_stages
    }
    assert wins == expected
    assert set(won.values()) <= set(before["crm_lead"])
    assert {key for key, lead_id in won.items() if lead_id in wins} == {
        "won",
        "closed_long_ago",
        "no_closing_date",
        "created_won",
    }
    assert wins[won["closed_long_ago"]][1] == datetime(2025, 6, 1, 10, 0, 0)
    # won leads have no current win data yet
    assert (
        db.query(
            "SELECT id FROM crm_lead WHERE won_reason_id IS NOT NULL "
            "OR won_note IS NOT NULL"
        )
        == []
    )
    # the current code reopens and wins them again
    script = NEW_CODE_ON_WINS.replace("IDS", repr(json.dumps(won)))
    facts = shell_report(db, script, "new-code-wins")
    assert facts == {
        "states": ["reopened", "won"],
        "reasons": [False, "Price"],
        "lead_reason": "Price",
    }


# ---------------------------------------------------------------------------
# Test
# ---------------------------------------------------------------------------


def test_upgrade_from_18_0_1_0_0(make_db, odoo_env, tmp_path):
    start = time.monotonic()
    folder = export_released_addon(tmp_path / "addons-18.0.1.0.0")
    db = make_db(
        "migration",
        empty=True,
        addons_path=released_addons_path(odoo_env, folder),
    )
    db.odoo("-i", ADDON, label="install-18.0.1.0.0")
    assert installed_version(db) == RELEASED_VERSION
    installed = time.monotonic()
    made = shell_report(db, OLD_DATA, "old-data")
    leads, competitors = made["leads"], made["competitors"]
    won = shell_report(db, WON_DATA, "won-data")
    before = snapshot(db)

    # what 18.0.1.0.0 left, for the migration to fix
    states = [loss["state"] for loss in losses_of(before, leads["won_back"])]
    assert states == ["won_back", "recovered"]
    assert [loss["state"] for loss in losses_of(before, leads["unwon"])] == ["won_back"]
    lead_rows = before["crm_lead"]
    assert lead_rows[leads["probability_sql"]]["probability"] == 40
    assert lead_rows[leads["probability_rpc"]]["probability"] == 25
    assert lead_rows[leads["sql_archived"]]["probability"] == 10
    (company_loss,) = losses_of(before, leads["company"])
    assert company_loss["company_id"] == made["company_a"]
    assert lead_rows[leads["company"]]["company_id"] == made["company_b"]
    (imported_loss,) = losses_of(before, leads["imported_date"])
    assert str(imported_loss["lost_date"]) != made["imported_date"]
    assert str(lead_rows[leads["imported_date"]]["lost_date"]) == made["imported_date"]
    assert lead_rows[leads["active_dated"]]["lost_date"]
    assert not losses_of(before, leads["sql_archived"])
    assert [loss["state"] for loss in losses_of(before, leads["sql_unarchived"])] == [
        "lost"
    ]
    assert competitor_duplicates(db) == [
        ("migration rival", 0, 3),
        ("migration rival", made["company_b"], 2),
    ]
    assert not db.value(
        "SELECT 1 FROM pg_constraint WHERE conname = "
        "'crm_lost_competitor_name_company_uniq'"
    )
    assert loss_access(db) == [
        ("access_crm_lead_loss_manager", True, True, True, True),
        ("access_crm_lead_loss_salesman", True, False, False, False),
    ]

    # upgrade with the current code
    db = db.with_addons_path()
    _, log = db.odoo("-u", ADDON, "--log-level=info", label="upgrade")
    upgraded = time.monotonic()
    warnings = [line for line in log.splitlines() if " WARNING " in line]
    assert not warnings, "\n".join(warnings)
    assert "Running migration [>18.0.1.1.0] pre-migration" in log
    assert "Running migration [18.0.1.1.0>] post-migration" in log
    assert "Running migration [18.0.1.2.0>] post-migration" in log
    assert installed_version(db) == current_version()
    assert version_tuple(current_version()) >= version_tuple("18.0.1.1.0")
    after = snapshot(db)

    # loss records are read-only for everyone
    assert loss_access(db) == [
        ("access_crm_lead_loss_manager", True, False, False, False),
        ("access_crm_lead_loss_salesman", True, False, False, False),
    ]
    # loss states follow the definition, everywhere
    wrong = {
        loss_id: pair
        for loss_id, pair in expected_loss_states(db).items()
        if pair[0] != pair[1]
    }
    assert not wrong, f"loss id: (state, expected): {wrong}"
    states = [loss["state"] for loss in losses_of(after, leads["won_back"])]
    assert states == ["recovered", "won_back"]
    assert [loss["state"] for loss in losses_of(after, leads["unwon"])] == ["recovered"]
    # a loss belongs to the company of its lead
    assert (
        db.query(
            "SELECT loss.id FROM crm_lead_loss loss JOIN crm_lead lead "
            "ON lead.id = loss.lead_id "
            "WHERE loss.company_id IS DISTINCT FROM lead.company_id"
        )
        == []
    )
    (company_loss,) = losses_of(after, leads["company"])
    assert company_loss["company_id"] == made["company_b"]
    # lost leads have no chance left
    assert (
        db.query(
            "SELECT id FROM crm_lead WHERE NOT active "
            "AND (probability != 0 OR automated_probability != 0)"
        )
        == []
    )
    # one open loss per lost lead, none per active lead; Lost On / Lost By
    # are those of the open loss (empty on active leads)
    wrong = db.query(
        """
        SELECT lead.id, lead.active, count(loss.id)
          FROM crm_lead lead
          LEFT JOIN crm_lead_loss loss
            ON loss.lead_id = lead.id AND loss.state = 'lost'
         GROUP BY lead.id
        HAVING count(loss.id) != CASE WHEN lead.active THEN 0 ELSE 1 END
            OR bool_or(lead.lost_date IS DISTINCT FROM loss.lost_date)
            OR bool_or(lead.lost_by_id IS DISTINCT FROM loss.lost_by_id)
        """
    )
    assert wrong == [], "lead id, active, open losses: " + repr(wrong)
    # Lost On / Lost By given on a lost lead (import) are kept, on its loss
    (imported_loss,) = losses_of(after, leads["imported_date"])
    assert str(imported_loss["lost_date"]) == made["imported_date"]
    assert imported_loss["lost_by_id"] == made["salesman"]

    # nothing lost, and nothing changed but what the migration fixes
    changed, only_before, only_after = changes(before, after)
    assert not any(only_before.values()), f"rows lost: {only_before}"
    # one loss more: opened for the lead archived by SQL, dated when it was
    # closed or else last written
    assert [table for table, ids in only_after.items() if ids] == ["crm_lead_loss"]
    (opened,) = only_after["crm_lead_loss"]
    opened = after["crm_lead_loss"][opened]
    lead = before["crm_lead"][leads["sql_archived"]]
    assert (opened["lead_id"], opened["state"]) == (leads["sql_archived"], "lost")
    assert opened["lost_date"] == (lead["date_closed"] or lead["write_date"]).replace(
        microsecond=0
    )
    assert opened["lost_by_id"] == lead["write_uid"]
    for table, rows in changed.items():
        for row_id, diff in rows.items():
            assert diff.keys() - STAMPS, f"{table} {row_id}: only restamped"
    columns = {
        table: {row_id: sorted(diff.keys() - STAMPS) for row_id, diff in rows.items()}
        for table, rows in changed.items()
    }
    probability = ["automated_probability", "probability"]
    lost = ["lost_by_id", "lost_date"]
    won_back = losses_of(before, leads["won_back"])
    assert columns.pop("crm_lead") == {
        leads["probability_sql"]: probability,
        leads["probability_rpc"]: ["probability"],
        leads["sql_archived"]: sorted(probability + lost),
        leads["active_dated"]: lost,
        leads["sql_unarchived"]: lost,
    }
    assert columns.pop("crm_lead_loss") == {
        won_back[0]["id"]: ["state"],
        won_back[1]["id"]: ["state"],
        losses_of(before, leads["unwon"])[0]["id"]: ["state"],
        losses_of(before, leads["company"])[0]["id"]: ["company_id"],
        losses_of(before, leads["imported_date"])[0]["id"]: lost,
        losses_of(before, leads["sql_unarchived"])[0]["id"]: [
            "restored_date",
            "state",
        ],
    }
    # duplicates renamed: the oldest keeps its name, per company
    assert columns.pop("crm_lost_competitor") == {
        competitors[key]: ["name"] for key in ("lower", "upper", "company_b_twice")
    }
    assert not columns, f"user data changed: {columns}"
    names = {
        key: after["crm_lost_competitor"][competitor_id]["name"]
        for key, competitor_id in competitors.items()
    }
    assert names == {
        "rival": "Migration Rival",
        "other": "Migration Other",
        "rival_2": "Migration Rival (2)",
        "lower": "migration rival (3)",
        "upper": "MIGRATION RIVAL (4)",
        "company_b": "migration rival",
        "company_b_twice": "Migration Rival (2)",
    }
    assert competitor_duplicates(db) == []
    assert db.value(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conname = 'crm_lost_competitor_name_company_uniq'"
    ) == (
        "EXCLUDE USING btree (lower((name)::text) WITH =, "
        "COALESCE(company_id, 0) WITH =)"
    )
    # the lead lost to a renamed duplicate still points to it
    lead = after["crm_lead"][leads["duplicate_competitor"]]
    assert lead["lost_competitor_id"] == competitors["upper"]
    # notes, as written
    assert [
        (loss["closing_note"], loss["restore_note"])
        for loss in losses_of(after, leads["won_back"])
    ] == [
        ("<p>First time: too <b>expensive</b></p>", "They found budget"),
        ("<p>Second time: Rival signed them</p>", "Rival went bankrupt, back and won"),
    ]
    assert after["crm_lead"][leads["lost_note"]]["lost_feedback"] == (
        "<p>Other was <i>cheaper</i> &amp; faster</p>"
    )
    (restored,) = losses_of(after, leads["restored_note"])
    assert restored["restore_note"] == "Project restarted\nwith a new budget"

    # the current code works on the migrated data
    script = NEW_CODE_ON_MIGRATED.replace("IDS", repr(json.dumps(leads)))
    facts = shell_report(db, script, "new-code")
    assert facts == {
        "lost_again": ["recovered", "lost"],
        "restored": [True, ["recovered"]],
        "duplicate": "23P01",
    }
    # leads won before the upgrade have their win record
    assert_wins_recorded(db, won, before)
    _logger.info(
        "migration test: install %.0f s, upgrade %.0f s, total %.0f s",
        installed - start,
        upgraded - installed,
        time.monotonic() - start,
    )


def test_upgrade_from_18_0_1_1_0(make_db, odoo_env, tmp_path):
    """18.0.1.1.0 as released, upgraded: only the 18.0.1.2.0 migration runs;
    it records the wins and changes nothing else."""
    folder = export_released_addon(
        tmp_path / "addons-18.0.1.1.0", RELEASED_1_1_COMMIT, RELEASED_1_1_VERSION
    )
    db = make_db(
        "migration_1_1",
        empty=True,
        addons_path=released_addons_path(odoo_env, folder),
    )
    db.odoo("-i", ADDON, label="install-18.0.1.1.0")
    assert installed_version(db) == RELEASED_1_1_VERSION
    won = shell_report(db, WON_DATA, "won-data")
    assert not db.value("SELECT 1 FROM pg_tables WHERE tablename = 'crm_lead_win'")
    before = snapshot(db)

    db = db.with_addons_path()
    _, log = db.odoo("-u", ADDON, "--log-level=info", label="upgrade")
    warnings = [line for line in log.splitlines() if " WARNING " in line]
    assert not warnings, "\n".join(warnings)
    assert "Running migration [18.0.1.2.0>] post-migration" in log
    assert "18.0.1.1.0>]" not in log, "the migration to 18.0.1.1.0 ran again"
    assert installed_version(db) == current_version()
    after = snapshot(db)
    changed, only_before, only_after = changes(before, after)
    assert not any(only_before.values()), f"rows lost: {only_before}"
    assert not any(only_after.values()), f"rows added: {only_after}"
    assert not changed, f"user data changed: {changed}"
    assert_wins_recorded(db, won, before)
