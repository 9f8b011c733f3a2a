# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.0.0 -> 18.0.1.1.0, before the tables are updated.

- One name per concept: ``crm.lost.reason.reengage_after_days`` becomes
  ``revisit_after_days`` (the module says "revisit" everywhere): rename the
  column, its field, its external id and its check constraint, so that the
  data stays.
- Competitor names become unique per company, ignoring case, by a database
  constraint (``crm_lost_competitor_name_company_uniq``). 18.0.1.0.0 checked
  it in Python only, so a database may hold duplicates (SQL imports, two
  users creating the same competitor at the same moment); Odoo would then
  only log a warning and leave the table without the constraint. Rename the
  duplicates first: the oldest competitor of each name keeps it, the others
  get " (2)", " (3)"... (the first number no other competitor of the company
  uses). Leads and loss records keep pointing to the same records.
"""

import logging

from odoo.tools import SQL
from odoo.tools.sql import column_exists, rename_column

_logger = logging.getLogger(__name__)

OLD, NEW = "reengage_after_days", "revisit_after_days"


def migrate(cr, version):
    if not version:
        return
    _rename_revisit_field(cr)
    _rename_duplicate_competitors(cr)


def _rename_revisit_field(cr):
    if not column_exists(cr, "crm_lost_reason", OLD):
        return
    rename_column(cr, "crm_lost_reason", OLD, NEW)
    cr.execute(
        SQL(
            "UPDATE ir_model_fields SET name = %s "
            "WHERE model = 'crm.lost.reason' AND name = %s",
            NEW,
            OLD,
        )
    )
    cr.execute(
        SQL(
            "UPDATE ir_model_data SET name = %s "
            "WHERE module = 'crm_lost_management' AND name = %s",
            f"field_crm_lost_reason__{NEW}",
            f"field_crm_lost_reason__{OLD}",
        )
    )
    old_constraint = f"crm_lost_reason_{OLD}_positive"
    new_constraint = f"crm_lost_reason_{NEW}_positive"
    cr.execute(SQL("SELECT 1 FROM pg_constraint WHERE conname = %s", old_constraint))
    if cr.fetchone():
        cr.execute(
            SQL(
                "ALTER TABLE crm_lost_reason RENAME CONSTRAINT %s TO %s",
                SQL.identifier(old_constraint),
                SQL.identifier(new_constraint),
            )
        )
    cr.execute(
        SQL(
            "UPDATE ir_model_data SET name = %s "
            "WHERE module = 'crm_lost_management' AND name = %s",
            f"constraint_{new_constraint}",
            f"constraint_{old_constraint}",
        )
    )
    cr.execute(
        SQL(
            "UPDATE ir_model_constraint SET name = %s "
            "WHERE name = %s AND module = "
            "(SELECT id FROM ir_module_module WHERE name = 'crm_lost_management')",
            new_constraint,
            old_constraint,
        )
    )


def _rename_duplicate_competitors(cr):
    # lower() of PostgreSQL, as the constraint compares names
    cr.execute(
        SQL(
            """
            SELECT id, name, COALESCE(company_id, 0)
              FROM crm_lost_competitor dup
             WHERE EXISTS (
                   SELECT 1 FROM crm_lost_competitor first
                    WHERE lower(first.name) = lower(dup.name)
                      AND COALESCE(first.company_id, 0) = COALESCE(dup.company_id, 0)
                      AND first.id < dup.id
             )
             ORDER BY id
            """
        )
    )
    for competitor_id, name, company in cr.fetchall():
        number = 1
        while True:
            number += 1
            new_name = f"{name} ({number})"
            cr.execute(
                SQL(
                    """
                    SELECT 1 FROM crm_lost_competitor
                     WHERE lower(name) = lower(%s) AND COALESCE(company_id, 0) = %s
                    """,
                    new_name,
                    company,
                )
            )
            if not cr.rowcount:
                break
        cr.execute(
            SQL(
                "UPDATE crm_lost_competitor SET name = %s WHERE id = %s",
                new_name,
                competitor_id,
            )
        )
        _logger.info(
            "Competitor %s renamed from %r to %r: an older competitor of its "
            "company has the same name (ignoring case)",
            competitor_id,
            name,
            new_name,
        )
