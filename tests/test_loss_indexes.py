# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

import re
from unittest.mock import patch

from odoo.sql_db import Cursor
from odoo.tests import tagged
from odoo.tests.common import users
from odoo.tools import SQL, index_exists

from .common import CrmLostCommon

INDEX = "crm_lead_loss_reason_team_date_company_idx"
OLD_INDEX = "crm_lead_loss_reason_team_date_idx"  # 18.0.1.0.0 - 18.0.1.1.0


@tagged("post_install", "-at_install")
class TestLossIndexes(CrmLostCommon):
    """The index behind the Lost Analysis (bench/run report --leads 1000000,
    readme/DEVELOP.md, Performance): installed, given to upgraded databases,
    and covering what the grouping reads as a sales manager."""

    def _index_columns(self, name):
        self.env.cr.execute(
            """
            SELECT array_agg(a.attname ORDER BY k.ord)
              FROM pg_index i
              JOIN pg_class c ON c.oid = i.indexrelid
              CROSS JOIN unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
              JOIN pg_attribute a
                ON a.attrelid = i.indrelid AND a.attnum = k.attnum
             WHERE c.relname = %s
            """,
            [name],
        )
        return self.env.cr.fetchone()[0]

    def test_installed(self):
        self.assertEqual(
            self._index_columns(INDEX),
            ["lost_reason_id", "team_id", "lost_date", "company_id"],
        )
        self.assertFalse(index_exists(self.env.cr, OLD_INDEX))

    def test_upgrade_replaces_old_index(self):
        """A database of 18.0.1.1.0 has the index without the company: the
        upgrade (init) drops it and creates the new one."""
        cr = self.env.cr
        cr.execute(SQL("DROP INDEX %s", SQL.identifier(INDEX)))
        cr.execute(
            SQL(
                "CREATE INDEX %s ON crm_lead_loss (lost_reason_id, team_id, lost_date)",
                SQL.identifier(OLD_INDEX),
            )
        )
        self.env["crm.lead.loss"].init()
        self.assertTrue(index_exists(cr, INDEX))
        self.assertFalse(index_exists(cr, OLD_INDEX))

    @users("clm_manager")
    def test_lost_analysis_reads_index_only(self):
        """Every column the Lost Analysis grouping reads as a sales manager
        (its groups and the multi-company rule) is in the index, so that
        PostgreSQL can answer it from the index alone (Index Only Scan)."""
        queries = []
        execute = Cursor.execute

        def capture(cursor, query, params=None, log_exceptions=None):
            queries.append(query)
            return execute(cursor, query, params, log_exceptions)

        with patch.object(Cursor, "execute", capture):
            self.env["crm.lead.loss"].read_group(
                [],
                ["__count"],
                ["lost_reason_id", "team_id", "lost_date:month"],
                lazy=False,
            )
        (query,) = (
            q
            for q in queries
            if isinstance(q, SQL)
            and q.code.startswith('SELECT "crm_lead_loss"')
            and "GROUP BY" in q.code
        )
        read = set(re.findall(r'"crm_lead_loss"\."(\w+)"', query.code))
        self.assertEqual(read, {"lost_reason_id", "team_id", "lost_date", "company_id"})
        self.assertLessEqual(read, set(self._index_columns(INDEX)))
