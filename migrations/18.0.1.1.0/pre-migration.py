# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.0.0 -> 18.0.1.1.0: one name per concept.

``crm.lost.reason.reengage_after_days`` becomes ``revisit_after_days`` (the
module says "revisit" everywhere): rename the column, its field, its
external id and its check constraint, so that the data stays.
"""

from odoo.tools import SQL
from odoo.tools.sql import column_exists, rename_column

OLD, NEW = "reengage_after_days", "revisit_after_days"


def migrate(cr, version):
    if not version or not column_exists(cr, "crm_lost_reason", OLD):
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
