# Copyright 2026 crm_lost_management contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The Competitive Analysis (``crm.competitive.report``) on a fixture computed
by hand: every measure in every grouping the report offers."""

from odoo import Command
from odoo.tests import Form, tagged

from .common import CrmLostCommon

MEASURES = [
    "faced_count",
    "won_count",
    "lost_count",
    "lost_to_count",
    "open_count",
    "win_rate",
    "won_revenue",
    "lost_revenue",
    "days_to_close",
]


# group keys: display names of the fixture's records
A, B, C = "CLM CA Alpha", "CLM CA Bravo", "CLM CA Charlie"
EAST, WEST = "Lost Team East", "Lost Team West"
SALLY, SAM = "Sally Own", "Sam All"
PRICE, RELATIONSHIP = "CLM CA Won on price", "CLM CA Relationship"
CHOSE_COMPETITOR, TOO_EXPENSIVE = "CLM Chose a competitor", "CLM Too expensive"


@tagged("post_install", "-at_install")
class TestCompetitiveReport(CrmLostCommon):
    """Three competitors (Alpha, Bravo, Charlie), eight deals in two teams
    (East, West) of two salespeople (Sally, Sam), won, lost and open, closed
    in January, February and March 2026; a ninth deal lost without
    competitor is not in the report.

    ====  =====  ====  =======  =====  ======  =====  ==========  =============
    deal  user   team  revenue  start  closed  days   outcome     competitors
    ====  =====  ====  =======  =====  ======  =====  ==========  =============
    D1    Sally  East   1,000   01-01  01-11    10    won (Price)  A, B (tab),
                                                                   won vs A, B
    D2    Sally  East   2,000   01-05  01-25    20    lost (Comp.) A, C; lost
                                                                   to A
    D3    Sam    West   3,000   01-10  02-09    30    lost (Comp.) A (tab); lost
                                                                   to B, not on
                                                                   the tab
    D4    Sam    West   4,000   02-01  02-15    14    won (Rel.)   B, C (tab),
                                                                   won vs B
    D5    Sally  West   5,000   02-10  03-02    20    lost (Exp.)  C
    D6    Sam    East   6,000   open                  open         A, B
    D7    Sally  East   7,000   03-01  03-06     5    won (Price)  none on the
                                                                   tab; won vs
                                                                   C
    D8    Sam    East   8,000   open                  open         C
    D9    Sally  East   9,000   01-02  01-12    10    lost (Exp.)  none
    ====  =====  ====  =======  =====  ======  =====  ==========  =============

    Rows (deal, competitor): A: D1 D2 D3 D6; B: D1 D3 D4 D6; C: D2 D4 D5 D7
    D8 (13 rows). Win rate = won / (won + lost) of the rows; days to close:
    average over the closed rows."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.ref("base.user_admin").tz = False
        Competitor = cls.env["crm.lost.competitor"]
        cls.alpha = Competitor.create({"name": "CLM CA Alpha"})
        cls.bravo = Competitor.create({"name": "CLM CA Bravo"})
        cls.charlie = Competitor.create({"name": "CLM CA Charlie"})
        cls.competitors = cls.alpha | cls.bravo | cls.charlie
        WonReason = cls.env["crm.won.reason"]
        cls.won_price = WonReason.create({"name": "CLM CA Won on price"})
        cls.won_relationship = WonReason.create({"name": "CLM CA Relationship"})
        cls.stage_won = cls.env["crm.stage"].create(
            {"name": "CLM CA Won", "is_won": True, "sequence": 70}
        )
        sally, sam = cls.user_sales_own, cls.user_sales_all
        east, west = cls.team_1, cls.team_2
        deals = {}
        for name, user, team, revenue, faced in (
            ("D1", sally, east, 1000, cls.alpha | cls.bravo),
            ("D2", sally, east, 2000, cls.alpha | cls.charlie),
            ("D3", sam, west, 3000, cls.alpha),
            ("D4", sam, west, 4000, cls.bravo | cls.charlie),
            ("D5", sally, west, 5000, cls.charlie),
            ("D6", sam, east, 6000, cls.alpha | cls.bravo),
            ("D7", sally, east, 7000, Competitor),
            ("D8", sam, east, 8000, cls.charlie),
            ("D9", sally, east, 9000, Competitor),
        ):
            deals[name] = cls.env["crm.lead"].create(
                {
                    "name": f"CLM CA {name}",
                    "type": "opportunity",
                    "user_id": user.id,
                    "team_id": team.id,
                    "stage_id": cls.stage_qualified.id,
                    "expected_revenue": revenue,
                    "competitor_line_ids": [
                        Command.create({"competitor_id": competitor.id})
                        for competitor in faced
                    ],
                }
            )
        cls.deals = deals
        # won through Mark as Won: the competitors faced are proposed
        cls._win(cls, deals["D1"], cls.won_price)
        cls._win(cls, deals["D4"], cls.won_relationship, against=cls.bravo)
        cls._win(cls, deals["D7"], cls.won_price, against=cls.charlie)
        # lost through Mark as Lost
        cls._lose(cls, deals["D2"], cls.reason_competitor, competitor=cls.alpha)
        cls._lose(cls, deals["D3"], cls.reason_competitor, competitor=cls.bravo)
        cls._lose(cls, deals["D5"] | deals["D9"], cls.reason_plain)
        # D3 lost to Bravo, which is not on its tab (data of a version without
        # the tab, or a line removed since)
        deals["D3"].competitor_line_ids.filtered(
            lambda line: line.competitor_id == cls.bravo
        ).unlink()
        dates = {
            "D1": ("2026-01-01 09:00:00", "2026-01-11 12:00:00"),
            "D2": ("2026-01-05 09:00:00", "2026-01-25 12:00:00"),
            "D3": ("2026-01-10 09:00:00", "2026-02-09 12:00:00"),
            "D4": ("2026-02-01 09:00:00", "2026-02-15 12:00:00"),
            "D5": ("2026-02-10 09:00:00", "2026-03-02 12:00:00"),
            "D6": ("2026-02-20 09:00:00", None),
            "D7": ("2026-03-01 09:00:00", "2026-03-06 12:00:00"),
            "D8": ("2026-03-03 09:00:00", None),
            "D9": ("2026-01-02 09:00:00", "2026-01-12 12:00:00"),
        }
        cls.env.flush_all()
        for name, (created, closed) in dates.items():
            cls.env.cr.execute(
                "UPDATE crm_lead SET create_date = %s, date_closed = %s WHERE id = %s",
                [created, closed, deals[name].id],
            )
        cls.env.invalidate_all()

    def _win(self, lead, reason, against=None):
        form = Form(
            self.env["crm.lead.won"].with_context(
                active_ids=lead.ids, active_model="crm.lead", default_lead_ids=lead.ids
            )
        )
        form.won_reason_id = reason
        if against is not None:
            form.won_competitor_ids.clear()
            form.won_competitor_ids.add(against)
        return form.save().action_won_reason_apply()

    # helpers

    def _groups(self, groupby, env=None):
        """The report's groups, as the pivot reads them (the measures with
        their own aggregators), keyed by the display names of ``groupby``."""
        Report = (env or self.env)["crm.competitive.report"]
        groups = Report.read_group(
            [("competitor_id", "in", self.competitors.ids)],
            MEASURES,
            groupby,
            lazy=False,
        )
        result = {}
        for group in groups:
            key = []
            for spec in groupby:
                value = group[spec]
                key.append(value[1] if isinstance(value, tuple) else value)
            values = {name: group[name] for name in MEASURES}
            values["rows"] = group["__count"]
            result[tuple(key)] = values
        return result

    def _assert_groups(self, groupby, expected, env=None):
        """``expected``: key -> (rows, faced, won, lost, lost to, open, win
        rate, won revenue, lost revenue, days to close)."""
        groups = self._groups(groupby, env=env)
        self.assertEqual(set(groups), set(expected))
        names = ["rows", *MEASURES]
        for key, values in expected.items():
            for name, value in zip(names, values, strict=True):
                with self.subTest(group=key, measure=name):
                    if value is None:
                        # no closed deal in the group: no rate, no delay
                        # (read_group gives False for NULL)
                        self.assertIs(groups[key][name], False)
                    elif isinstance(value, int):
                        self.assertEqual(groups[key][name], value)
                    else:
                        self.assertAlmostEqual(groups[key][name], value, places=2)

    # ------------------------------------------------------------
    # The fixture is what the paths left
    # ------------------------------------------------------------

    def test_fixture(self):
        d = self.deals
        self.assertEqual(d["D1"].won_competitor_ids, self.alpha | self.bravo)
        self.assertEqual(d["D4"].won_competitor_ids, self.bravo)
        # won against a competitor not on the tab: added to it
        self.assertEqual(d["D7"].competitor_line_ids.competitor_id, self.charlie)
        self.assertEqual(d["D3"].lost_competitor_id, self.bravo)
        self.assertEqual(d["D3"].competitor_line_ids.competitor_id, self.alpha)
        for name in ("D1", "D4", "D7"):
            self.assertTrue(d[name]._crm_lost_is_won(), name)
        for name in ("D2", "D3", "D5", "D9"):
            self.assertFalse(d[name].active, name)

    def test_rows(self):
        rows = self.env["crm.competitive.report"].search_read(
            [("competitor_id", "in", self.competitors.ids)],
            ["lead_id", "competitor_id", "outcome", "lost_to_competitor_id"],
        )
        pairs = {
            (row["lead_id"][1].removeprefix("CLM CA "), row["competitor_id"][1][7:])
            for row in rows
        }
        self.assertEqual(len(rows), 13)
        self.assertEqual(
            pairs,
            {
                ("D1", "Alpha"),
                ("D2", "Alpha"),
                ("D3", "Alpha"),
                ("D6", "Alpha"),
                ("D1", "Bravo"),
                ("D3", "Bravo"),
                ("D4", "Bravo"),
                ("D6", "Bravo"),
                ("D2", "Charlie"),
                ("D4", "Charlie"),
                ("D5", "Charlie"),
                ("D7", "Charlie"),
                ("D8", "Charlie"),
            },
        )
        # ids are unique and stable
        self.assertEqual(len({row["id"] for row in rows}), 13)
        again = self.env["crm.competitive.report"].search_read(
            [("competitor_id", "in", self.competitors.ids)], ["lead_id"]
        )
        self.assertEqual(
            {row["id"]: row["lead_id"] for row in rows},
            {row["id"]: row["lead_id"] for row in again},
        )

    # ------------------------------------------------------------
    # Every measure in every grouping
    # ------------------------------------------------------------

    def test_by_competitor(self):
        self._assert_groups(
            ["competitor_id"],
            {
                # A: D1 won 1000 10d, D2 lost to A 2000 20d, D3 lost 3000 30d,
                # D6 open: 1 / (1 + 2) = 33.33%; (10 + 20 + 30) / 3 = 20
                (A,): (4, 4, 1, 2, 1, 1, 33.333, 1000, 5000, 20.0),
                # B: D1 won 1000 10d, D3 lost to B 3000 30d, D4 won 4000 14d,
                # D6 open: 2 / 3 = 66.67%; (10 + 30 + 14) / 3 = 18
                (B,): (4, 4, 2, 1, 1, 1, 66.667, 5000, 3000, 18.0),
                # C: D2 lost 2000 20d, D4 won 4000 14d, D5 lost 5000 20d, D7
                # won 7000 5d, D8 open: 2 / 4 = 50%; (20 + 14 + 20 + 5) / 4
                (C,): (5, 5, 2, 2, 0, 1, 50.0, 11000, 7000, 14.75),
            },
        )

    def test_by_competitor_and_team(self):
        self._assert_groups(
            ["competitor_id", "team_id"],
            {
                # D1 won, D2 lost to A, D6 open: 1 / 2; (10 + 20) / 2
                (A, EAST): (3, 3, 1, 1, 1, 1, 50.0, 1000, 2000, 15.0),
                # D3 lost (to B)
                (A, WEST): (1, 1, 0, 1, 0, 0, 0.0, 0, 3000, 30.0),
                # D1 won, D6 open
                (B, EAST): (2, 2, 1, 0, 0, 1, 100.0, 1000, 0, 10.0),
                # D3 lost to B, D4 won: (30 + 14) / 2
                (B, WEST): (2, 2, 1, 1, 1, 0, 50.0, 4000, 3000, 22.0),
                # D2 lost, D7 won, D8 open: (20 + 5) / 2
                (C, EAST): (3, 3, 1, 1, 0, 1, 50.0, 7000, 2000, 12.5),
                # D4 won, D5 lost: (14 + 20) / 2
                (C, WEST): (2, 2, 1, 1, 0, 0, 50.0, 4000, 5000, 17.0),
            },
        )

    def test_by_competitor_and_salesperson(self):
        self._assert_groups(
            ["competitor_id", "user_id"],
            {
                # D1 won, D2 lost to A
                (A, SALLY): (2, 2, 1, 1, 1, 0, 50.0, 1000, 2000, 15.0),
                # D3 lost, D6 open
                (A, SAM): (2, 2, 0, 1, 0, 1, 0.0, 0, 3000, 30.0),
                # D1 won
                (B, SALLY): (1, 1, 1, 0, 0, 0, 100.0, 1000, 0, 10.0),
                # D3 lost to B, D4 won, D6 open
                (B, SAM): (3, 3, 1, 1, 1, 1, 50.0, 4000, 3000, 22.0),
                # D2 lost, D5 lost, D7 won: 1 / 3; (20 + 20 + 5) / 3
                (C, SALLY): (3, 3, 1, 2, 0, 0, 33.333, 7000, 7000, 15.0),
                # D4 won, D8 open
                (C, SAM): (2, 2, 1, 0, 0, 1, 100.0, 4000, 0, 14.0),
            },
        )

    def test_by_month_closed(self):
        self._assert_groups(
            ["date_closed:month"],
            {
                # D1 won x (A, B), D2 lost to A x (A, C): lost to: D2-A
                ("January 2026",): (4, 4, 2, 2, 1, 0, 50.0, 2000, 4000, 15.0),
                # D3 lost x (A, B), lost to: D3-B; D4 won x (B, C)
                ("February 2026",): (4, 4, 2, 2, 1, 0, 50.0, 8000, 6000, 22.0),
                # D5 lost x C, D7 won x C: (20 + 5) / 2
                ("March 2026",): (2, 2, 1, 1, 0, 0, 50.0, 7000, 5000, 12.5),
                # open: D6 x (A, B), D8 x C
                (False,): (3, 3, 0, 0, 0, 3, None, 0, 0, None),
            },
        )

    def test_by_competitor_and_quarter(self):
        self._assert_groups(
            ["competitor_id", "date_closed:quarter"],
            {
                (A, "Q1 2026"): (
                    3,
                    3,
                    1,
                    2,
                    1,
                    0,
                    33.333,
                    1000,
                    5000,
                    20.0,
                ),
                (A, False): (1, 1, 0, 0, 0, 1, None, 0, 0, None),
                (B, "Q1 2026"): (
                    3,
                    3,
                    2,
                    1,
                    1,
                    0,
                    66.667,
                    5000,
                    3000,
                    18.0,
                ),
                (B, False): (1, 1, 0, 0, 0, 1, None, 0, 0, None),
                (C, "Q1 2026"): (4, 4, 2, 2, 0, 0, 50.0, 11000, 7000, 14.75),
                (C, False): (1, 1, 0, 0, 0, 1, None, 0, 0, None),
            },
        )

    def test_by_outcome_reason(self):
        self._assert_groups(
            ["outcome_reason"],
            {
                # D1 x (A, B), D7 x C: (10 + 10 + 5) / 3
                (PRICE,): (3, 3, 3, 0, 0, 0, 100.0, 9000, 0, 8.333),
                # D4 x (B, C)
                (RELATIONSHIP,): (2, 2, 2, 0, 0, 0, 100.0, 8000, 0, 14.0),
                # D2 x (A, C), D3 x (A, B): lost to D2-A, D3-B
                (CHOSE_COMPETITOR,): (4, 4, 0, 4, 2, 0, 0.0, 0, 10000, 25.0),
                # D5 x C
                (TOO_EXPENSIVE,): (1, 1, 0, 1, 0, 0, 0.0, 0, 5000, 20.0),
                # open: no reason
                (False,): (3, 3, 0, 0, 0, 3, None, 0, 0, None),
            },
        )

    def test_by_competitor_and_won_or_lost_reason(self):
        self._assert_groups(
            ["competitor_id", "won_reason_id"],
            {
                (A, PRICE): (1, 1, 1, 0, 0, 0, 100.0, 1000, 0, 10.0),
                # lost and open deals have no won reason
                (A, False): (3, 3, 0, 2, 1, 1, 0.0, 0, 5000, 25.0),
                (B, PRICE): (1, 1, 1, 0, 0, 0, 100.0, 1000, 0, 10.0),
                (B, RELATIONSHIP): (1, 1, 1, 0, 0, 0, 100.0, 4000, 0, 14.0),
                (B, False): (2, 2, 0, 1, 1, 1, 0.0, 0, 3000, 30.0),
                (C, PRICE): (1, 1, 1, 0, 0, 0, 100.0, 7000, 0, 5.0),
                (C, RELATIONSHIP): (1, 1, 1, 0, 0, 0, 100.0, 4000, 0, 14.0),
                (C, False): (3, 3, 0, 2, 0, 1, 0.0, 0, 7000, 20.0),
            },
        )
        self._assert_groups(
            ["competitor_id", "lost_reason_id"],
            {
                # D2 (lost to A), D3
                (A, CHOSE_COMPETITOR): (2, 2, 0, 2, 1, 0, 0.0, 0, 5000, 25.0),
                # D1 won, D6 open: no lost reason
                (A, False): (2, 2, 1, 0, 0, 1, 100.0, 1000, 0, 10.0),
                # D3 lost to B
                (B, CHOSE_COMPETITOR): (1, 1, 0, 1, 1, 0, 0.0, 0, 3000, 30.0),
                (B, False): (3, 3, 2, 0, 0, 1, 100.0, 5000, 0, 12.0),
                (C, CHOSE_COMPETITOR): (1, 1, 0, 1, 0, 0, 0.0, 0, 2000, 20.0),
                (C, TOO_EXPENSIVE): (1, 1, 0, 1, 0, 0, 0.0, 0, 5000, 20.0),
                # D4 won, D7 won, D8 open: (14 + 5) / 2
                (C, False): (3, 3, 2, 0, 0, 1, 100.0, 11000, 0, 9.5),
            },
        )

    def test_by_outcome(self):
        self._assert_groups(
            ["competitor_id", "outcome"],
            {
                (A, "won"): (1, 1, 1, 0, 0, 0, 100.0, 1000, 0, 10.0),
                (A, "lost"): (2, 2, 0, 2, 1, 0, 0.0, 0, 5000, 25.0),
                (A, "open"): (1, 1, 0, 0, 0, 1, None, 0, 0, None),
                (B, "won"): (2, 2, 2, 0, 0, 0, 100.0, 5000, 0, 12.0),
                (B, "lost"): (1, 1, 0, 1, 1, 0, 0.0, 0, 3000, 30.0),
                (B, "open"): (1, 1, 0, 0, 0, 1, None, 0, 0, None),
                (C, "won"): (2, 2, 2, 0, 0, 0, 100.0, 11000, 0, 9.5),
                (C, "lost"): (2, 2, 0, 2, 0, 0, 0.0, 0, 7000, 20.0),
                (C, "open"): (1, 1, 0, 0, 0, 1, None, 0, 0, None),
            },
        )

    # ------------------------------------------------------------
    # Outcome changes show at once; access
    # ------------------------------------------------------------

    def test_restored_deal_counts_as_open(self):
        """D2 restored: open; it keeps A (added to the tab when lost to it)
        and C."""
        self._restore(self.deals["D2"])
        groups = self._groups(["competitor_id"])
        # A: D1 won, D3 lost, D2 and D6 open: 1 / 2
        self.assertEqual(groups[(A,)]["faced_count"], 4)
        self.assertEqual(groups[(A,)]["open_count"], 2)
        self.assertEqual(groups[(A,)]["lost_to_count"], 0)
        self.assertAlmostEqual(groups[(A,)]["win_rate"], 50.0)

    def test_won_against_not_on_the_tab(self):
        """D7's line removed from its tab (data of a version without the
        tab): won against Charlie, it still counts for Charlie, once."""
        self.deals["D7"].competitor_line_ids.unlink()
        self._assert_groups(
            ["competitor_id"],
            {
                (A,): (4, 4, 1, 2, 1, 1, 33.333, 1000, 5000, 20.0),
                (B,): (4, 4, 2, 1, 1, 1, 66.667, 5000, 3000, 18.0),
                (C,): (5, 5, 2, 2, 0, 1, 50.0, 11000, 7000, 14.75),
            },
        )
        # and a pair on the tab that is also the competitor lost to (D2, A)
        # or won against (D1, A) is one row
        rows = self.env["crm.competitive.report"].search(
            [("lead_id", "in", (self.deals["D1"] | self.deals["D2"]).ids)]
        )
        self.assertEqual(len(rows), 4)

    def test_salesperson_sees_own_deals(self):
        """Sally (own documents) sees the rows of her deals only; Sam (all
        documents) every row."""
        env = self.env(user=self.user_sales_own)
        self._assert_groups(
            ["competitor_id"],
            {
                # D1 won, D2 lost to A
                (A,): (2, 2, 1, 1, 1, 0, 50.0, 1000, 2000, 15.0),
                # D1 won
                (B,): (1, 1, 1, 0, 0, 0, 100.0, 1000, 0, 10.0),
                # D2 lost, D5 lost, D7 won
                (C,): (3, 3, 1, 2, 0, 0, 33.333, 7000, 7000, 15.0),
            },
            env=env,
        )
        env = self.env(user=self.user_sales_all)
        self.assertEqual(
            sum(
                group["rows"] for group in self._groups(["competitor_id"], env).values()
            ),
            13,
        )
        env = self.env(user=self.user_company_2)
        self.assertFalse(self._groups(["competitor_id"], env))
