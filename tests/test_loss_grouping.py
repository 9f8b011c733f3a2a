# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from unittest.mock import patch

from odoo.sql_db import Cursor
from odoo.tests import tagged
from odoo.tests.common import users
from odoo.tools import SQL

from .common import CrmLostCommon


@tagged("post_install", "-at_install")
class TestLossGrouping(CrmLostCommon):
    """The Lost Analysis groups losses without joining the tables of their
    reason, team or salesperson (bench/run report --leads 1000000,
    readme/DEVELOP.md, Performance), and still orders its groups exactly as
    stock orders the same grouping of leads (by the records' own order)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Reason = cls.env["crm.lost.reason"]
        # sequence and name disagree, and two reasons share a sequence
        cls.reasons = Reason.create(
            [
                {"name": "CLM Group A", "sequence": 30},
                {"name": "CLM Group B", "sequence": 10},
                {"name": "CLM Group C", "sequence": 10},
            ]
        )
        Lead = cls.env["crm.lead"]
        cls.leads = Lead.browse()
        teams = [cls.team_1, cls.team_2, cls.env["crm.team"]]
        users_ = [cls.user_sales_own, cls.user_sales_all, cls.env["res.users"]]
        for i in range(9):
            cls.leads |= Lead.create(
                {
                    "name": f"CLM grouped {i}",
                    "type": "opportunity",
                    "team_id": teams[i % 3].id,
                    "user_id": users_[i // 3].id,
                }
            )
        # every lead gets a reason but one, lost without any
        cls.company.crm_lost_reason_required = False
        for i, lead in enumerate(cls.leads):
            cls._lose(cls, lead, reason=cls.reasons[i % 3] if i else None)
        cls.env.flush_all()

    def _grouping_sql(self, groupby):
        queries = []
        execute = Cursor.execute

        def capture(cursor, query, params=None, log_exceptions=None):
            queries.append(query)
            return execute(cursor, query, params, log_exceptions)

        with patch.object(Cursor, "execute", capture):
            self.env["crm.lead.loss"].read_group([], ["__count"], groupby, lazy=False)
        (query,) = (
            q.code if isinstance(q, SQL) else q
            for q in queries
            if 'FROM "crm_lead_loss"' in (q.code if isinstance(q, SQL) else q)
            and "GROUP BY" in (q.code if isinstance(q, SQL) else q)
        )
        return query

    def _groups(self, model, domain, groupby, orderby):
        rows = model.read_group(
            domain, ["__count"], groupby, orderby=orderby, lazy=False
        )
        return [
            tuple((row[g] or (False,))[0] for g in groupby) + (row["__count"],)
            for row in rows
        ]

    @users("clm_manager")
    def test_groups_ordered_as_stock(self):
        """Groups by reason, team and salesperson, in every direction, come
        in the order stock gives the same grouping of the lost leads (which
        joins the records' tables), groups without a record included."""
        leads = self.leads.with_user(self.env.user)
        Lead = self.env["crm.lead"].with_context(active_test=False)
        Loss = self.env["crm.lead.loss"]
        for groupby, orderby in [
            (["lost_reason_id"], False),
            (["lost_reason_id", "team_id"], False),
            (["team_id", "lost_reason_id"], False),
            (["user_id", "lost_reason_id"], False),
            (["stage_id", "company_id", "user_id"], False),
            (["lost_reason_id", "team_id"], "lost_reason_id desc, team_id"),
            (["lost_reason_id", "team_id"], "team_id desc, lost_reason_id desc"),
            (["lost_reason_id", "team_id"], "team_id asc nulls first, lost_reason_id"),
            (["lost_reason_id", "team_id"], "lost_reason_id desc nulls last, team_id"),
            (["lost_reason_id", "user_id"], "__count desc, user_id, lost_reason_id"),
        ]:
            with self.subTest(groupby=groupby, orderby=orderby):
                stock = self._groups(Lead, [("id", "in", leads.ids)], groupby, orderby)
                own = self._groups(
                    Loss, [("lead_id", "in", leads.ids)], groupby, orderby
                )
                self.assertEqual(own, stock)
                self.assertEqual(sum(row[-1] for row in own), 9)

    @users("clm_manager")
    def test_grouping_joins_nothing(self):
        """The Lost Analysis grouping reads the loss table alone: grouped
        over joined tables, PostgreSQL sorts every loss row instead of
        hashing them into groups."""
        for groupby in (
            ["lost_reason_id", "team_id", "lost_date:month"],
            ["user_id", "category_id", "competitor_id"],
        ):
            with self.subTest(groupby=groupby):
                query = self._grouping_sql(groupby)
                select, _sep, rest = query.partition(' FROM "crm_lead_loss" ')
                self.assertTrue(rest.startswith("WHERE"), query)  # no join
                group_by = rest.partition(" GROUP BY ")[2].partition(" ORDER BY ")[0]
                self.assertEqual(
                    "SELECT " + group_by + ", COUNT(*)", select, "groups only"
                )

    @users("clm_manager")
    def test_big_models_still_joined(self):
        """Groups of a model of many records (leads, customers) keep stock's
        join: ranking them would list all of that model's records."""
        for groupby, table in (("lead_id", "crm_lead"), ("partner_id", "res_partner")):
            with self.subTest(groupby=groupby):
                self.assertIn(f'LEFT JOIN "{table}"', self._grouping_sql([groupby]))

    @users("clm_manager")
    def test_many_records_still_joined(self):
        """A model listed for ranking that holds many records (thousands of
        portal users) keeps stock's join, and the same order."""
        Loss = type(self.env["crm.lead.loss"])
        groupby = ["user_id", "lost_reason_id"]
        self.assertNotIn('LEFT JOIN "res_users"', self._grouping_sql(groupby))
        ranked = self._groups(
            self.env["crm.lead.loss"],
            [("lead_id", "in", self.leads.ids)],
            groupby,
            False,
        )
        # no table small enough (not even one never analyzed: -1 rows)
        with patch.object(Loss, "_crm_lost_rank_max_records", -2):
            self.assertIn('LEFT JOIN "res_users"', self._grouping_sql(groupby))
            self.assertIn('LEFT JOIN "crm_lost_reason"', self._grouping_sql(groupby))
            joined = self._groups(
                self.env["crm.lead.loss"],
                [("lead_id", "in", self.leads.ids)],
                groupby,
                False,
            )
        self.assertEqual(joined, ranked)

    def test_search_order_unchanged(self):
        """Outside a grouping (searches, lists), ordering by a reason is
        stock's join, by the reasons' order."""
        losses = self.env["crm.lead.loss"].search(
            [("lead_id", "in", self.leads.ids), ("lost_reason_id", "!=", False)],
            order="lost_reason_id, id",
        )
        reasons = self.env["crm.lost.reason"].search([("id", "in", self.reasons.ids)])
        self.assertEqual(losses.lost_reason_id, reasons)
        self.assertEqual(
            [loss.lost_reason_id for loss in losses],
            sorted(
                (loss.lost_reason_id for loss in losses),
                key=lambda reason: list(reasons).index(reason),
            ),
        )
