# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""18.0.1.0.0 -> 18.0.1.1.0, before the tables are updated.

Competitor names become unique per company, ignoring case, by a database
constraint (``crm_lost_competitor_name_company_uniq``). 18.0.1.0.0 checked it
in Python only, so a database may hold duplicates (SQL imports, two users
creating the same competitor at the same moment); Odoo would then only log a
warning and leave the table without the constraint. Rename the duplicates
first: the oldest competitor of each name keeps it, the others get " (2)",
" (3)"... (the first number no other competitor of the company uses). Leads
and loss records keep pointing to the same records.
"""

import logging

from odoo.tools import SQL

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return
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
