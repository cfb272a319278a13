"""An attacker with everything a funder sees tries to recover the suppressed cells.

The attacker reads the published view of every table of the sample run (suppressed counts
and their percentages and intervals blanked) and the report specification (which is public),
and writes down every linear fact it implies:

* each table's cells in a column add up to the column's base (single-choice tables), or are
  at most the base (check-all items), and check-all items add up to the published mentions;
* the ``All`` column is the phase columns plus a hidden column of unclassified partnerships,
  whose base is the ``All`` base minus the phase bases (all published);
* tables of the same variable are tied together: a coarse band equals the sum of the fine
  bands inside it (e.g. "Before 2010" and the year bands before 2010), and a recoded variable
  equals the sum of the levels it groups (e.g. "More than half" of funding from grants).

Every suppressed, non-zero cell is then bounded below and above by linear programming over
all tables at once. A cell is *recovered* when its bounds hold a single whole number. The
protection holds when no cell is recovered.
"""

from __future__ import annotations

import math
import tomllib
from collections import defaultdict

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from conftest import INSTRUMENT_2016
from pipeline.stats.disclosure import published_view

HIDDEN = "(unclassified)"


def _tables(run_dir) -> dict[str, pd.DataFrame]:
    tables = {}
    for path in sorted((run_dir / "tables").glob("*.csv")):
        if path.name == "tests.csv":
            continue
        table = pd.read_csv(path, keep_default_na=False, na_values=[""])
        if table["table_type"].iloc[0] in ("single", "multi"):
            tables[path.stem] = table
    return tables


def _spec() -> dict:
    return tomllib.loads((INSTRUMENT_2016 / "tables.toml").read_text(encoding="utf-8"))


class Attack:
    """Unknown cells, the equations the attacker knows, and LP bounds on any cell."""

    def __init__(self):
        self.index: dict[tuple[str, str, str], int] = {}
        self.upper: list[float] = []
        self.eq_rows: list[dict[int, float]] = []
        self.eq_rhs: list[float] = []

    def var(self, table: str, level: str, column: str) -> int:
        key = (table, level, column)
        if key not in self.index:
            self.index[key] = len(self.index)
            self.upper.append(math.inf)
        return self.index[key]

    def equal(self, terms: dict[int, float], value: float) -> None:
        self.eq_rows.append(terms)
        self.eq_rhs.append(float(value))

    def bound(self, variable: int, upper: float) -> None:
        self.upper[variable] = min(self.upper[variable], float(upper))

    def bounds_of(self, variable: int) -> tuple[float, float]:
        n = len(self.index)
        if getattr(self, "_matrix", None) is None or self._matrix.shape != (len(self.eq_rows), n):
            a = np.zeros((len(self.eq_rows), n))
            for row, terms in enumerate(self.eq_rows):
                for column, coefficient in terms.items():
                    a[row, column] += coefficient
            self._matrix = a
        a = self._matrix
        limits = [(0, None if math.isinf(u) else u) for u in self.upper]
        cost = np.zeros(n)
        cost[variable] = 1.0
        low = linprog(cost, A_eq=a, b_eq=self.eq_rhs, bounds=limits, method="highs")
        high = linprog(-cost, A_eq=a, b_eq=self.eq_rhs, bounds=limits, method="highs")
        assert low.status == 0 and high.status == 0, "the attacker's system must be feasible"
        return low.fun, -high.fun


def build_attack(published: dict[str, pd.DataFrame], spec: dict) -> Attack:
    attack = Attack()
    for name, table in published.items():
        cells = table[table["row_type"].isin(["level", "item"])]
        phases = [c for c in dict.fromkeys(cells["col_level"]) if c != "All"]
        columns = phases + ([HIDDEN] if phases else [])
        bases = cells.groupby("col_level")["base_n"].first()
        base_of = {c: float(bases[c]) for c in phases}
        if phases:
            base_of[HIDDEN] = float(bases["All"]) - sum(base_of[c] for c in phases)
        else:
            base_of["All"] = float(bases["All"])
            columns = ["All"]
        for level, group in cells.groupby("row_level", sort=False):
            shown = group.set_index("col_level")
            parts = [attack.var(name, level, c) for c in columns]
            if phases and pd.notna(shown.loc["All", "n"]):
                attack.equal({p: 1.0 for p in parts}, shown.loc["All", "n"])
            for column, variable in zip(columns, parts):
                attack.bound(variable, base_of[column])
                if column in shown.index and pd.notna(shown.loc[column, "n"]):
                    attack.equal({variable: 1.0}, shown.loc[column, "n"])
        levels = list(dict.fromkeys(cells["row_level"]))
        if table["table_type"].iloc[0] == "single":
            for column in columns:
                attack.equal({attack.var(name, lv, column): 1.0 for lv in levels},
                             base_of[column])
        else:
            mentions = table[table["row_type"] == "mentions"].set_index("col_level")["n"]
            known = {c: mentions[c] for c in mentions.index if pd.notna(mentions[c])}
            if phases and "All" in known and all(c in known for c in phases):
                known[HIDDEN] = known["All"] - sum(known[c] for c in phases)
            for column in columns:
                if column in known:
                    attack.equal({attack.var(name, lv, column): 1.0 for lv in levels},
                                 known[column])
    _tie_related_tables(attack, published, spec)
    return attack


def _tie_related_tables(attack: Attack, published: dict[str, pd.DataFrame],
                        spec: dict) -> None:
    """Coarse band = sum of the fine bands inside it; recode group = sum of its levels."""
    derived = spec.get("derived", {})
    by_row = defaultdict(list)
    for table in spec.get("tables", []):
        if table["id"] in published and table.get("kind") == "single":
            by_row[table["row"]].append(table["id"])

    def columns_of(name: str) -> list[str]:
        cells = published[name]
        phases = [c for c in dict.fromkeys(cells["col_level"]) if c != "All"]
        return phases + [HIDDEN] if phases else ["All"]

    def tie(coarse_table: str, coarse_level: str, fine_table: str, fine_levels: list[str]):
        if not fine_levels or columns_of(coarse_table) != columns_of(fine_table):
            return
        for column in columns_of(coarse_table):
            terms = {attack.var(coarse_table, coarse_level, column): 1.0}
            for level in fine_levels:
                terms[attack.var(fine_table, level, column)] = -1.0
            attack.equal(terms, 0.0)

    bands = {name: d for name, d in derived.items() if d.get("kind") == "bands"}
    for coarse_name, coarse in bands.items():
        for fine_name, fine in bands.items():
            if coarse_name == fine_name or coarse.get("source") != fine.get("source"):
                continue
            for band in coarse["bands"]:
                low, high = band.get("min", -math.inf), band.get("max", math.inf)
                inside = [b["label"] for b in fine["bands"]
                          if b.get("min", -math.inf) >= low and b.get("max", math.inf) <= high]
                for coarse_table in by_row.get(coarse_name, []):
                    for fine_table in by_row.get(fine_name, []):
                        tie(coarse_table, band["label"], fine_table, inside)
    for name, entry in derived.items():
        if entry.get("kind") != "recode":
            continue
        groups = defaultdict(list)
        for level, group in entry["map"].items():
            groups[group].append(level)
        for coarse_table in by_row.get(name, []):
            for fine_table in by_row.get(entry["source"], []):
                for group, levels in groups.items():
                    tie(coarse_table, group, fine_table, levels)


@pytest.fixture(scope="module")
def attacked(sample_run_dir):
    analyst = _tables(sample_run_dir)
    published = {name: published_view(t) for name, t in analyst.items()}
    attack = build_attack(published, _spec())
    targets = []
    for name, table in analyst.items():
        hidden = table[table["suppressed"].astype(bool) & (table["n"] > 0)
                       & table["row_type"].isin(["level", "item"])]
        for cell in hidden.itertuples(index=False):
            column = cell.col_level
            if column == "All" and any(published[name]["col_level"] != "All"):
                continue  # an All cell is the sum of its phase cells, attacked there
            low, high = attack.bounds_of(attack.var(name, cell.row_level, column))
            targets.append((name, cell.row_level, column, int(cell.n), low, high))
    return attack, targets


@pytest.mark.slow
def test_attack__has_suppressed_cells_to_attack(attacked):
    _, targets = attacked
    assert len(targets) >= 10


@pytest.mark.slow
def test_attack__bounds_always_contain_the_true_count(attacked):
    # The attacker's facts are true of the data, so its bounds must hold the real counts;
    # otherwise the attack itself would be wrong and its failure would prove nothing.
    _, targets = attacked
    for name, level, column, true, low, high in targets:
        assert low - 1e-6 <= true <= high + 1e-6, (name, level, column)


@pytest.mark.slow
def test_attack__recovers_no_suppressed_cell_from_published_tables(attacked):
    _, targets = attacked
    recovered = [(name, level, column, true) for name, level, column, true, low, high
                 in targets if math.ceil(low - 1e-6) == math.floor(high + 1e-6)]
    assert not recovered, f"suppressed cells recovered from published tables: {recovered}"
