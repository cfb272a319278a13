"""An independent attacker tries to recover the suppressed cells from what a run publishes.

The attacker is given only the files of a run folder that may leave the team (``published/``
of every wave and of the trends folder) and the report specification (which is public). It
shares no code with the pipeline's disclosure protection: every fact it uses is read from the
published files and every statistic it needs is computed here, with scipy.

For each hidden count it keeps the set of whole numbers still possible, and narrows it with
five kinds of attack:

``columns`` (a)
    a count, percentage or interval printed beside the hidden mark;
``statistics`` (b)
    a test statistic (χ², trend, test of change) printed in ``tests.csv``, ``findings.csv``,
    the workbooks or the trends files: every combination of candidate values of the hidden
    cells the test is computed from is tried, and only those that give the printed statistic
    (to the precision printed) survive;
``margins`` (c)
    integer programming over every table of the wave at once: cells add up to their bases
    and mentions, the ``All`` column is the phase columns plus an unshown column (whose base
    is published), bands and recodes of the same variable add up (from the specification);
    in the trends folder, the overall share is the phases plus the unclassified partnerships;
``rates`` (d)
    rates derived from the cells (``findings.csv`` ``rate``, ``other_rates``, ``difference``;
    the percentages of a test of change);
``label`` (e)
    what the suppression label says: a cell labelled ``primary`` is a count below the
    threshold (1 to k-1).

A cell is *recovered* when one value is left. The attacker's facts are true of the data, so
the true count must always remain possible (checked, or the attack would prove nothing).
"""

from __future__ import annotations

import itertools
import math
import os
import re
import tomllib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import lil_matrix
from scipy.stats import fisher_exact, norm

from conftest import PROJECT

#: Every test here attacks the outputs of full runs of every wave.
pytestmark = pytest.mark.slow

KINDS = ("columns", "statistics", "margins", "rates", "label")
HIDDEN = "(unclassified)"
#: Largest number of combinations the attacker tries for one test.
MAX_COMBINATIONS = 20_000


# --------------------------------------------------------------------------------------------
# What the attacker reads
# --------------------------------------------------------------------------------------------

def published_dir(run_dir: Path) -> Path:
    """The part of a run folder that leaves the team (the whole folder if not separated)."""
    return run_dir / "published" if (run_dir / "published").is_dir() else run_dir


def internal_dir(run_dir: Path) -> Path:
    """Where the true counts are (to score the attack, never to attack)."""
    return run_dir / "internal" if (run_dir / "internal").is_dir() else run_dir


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=str,
                       comment=None)


def _num(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _decimals(text) -> int | None:
    """Digits printed after the point (None: full precision, e.g. a float repr)."""
    if not isinstance(text, str) or not re.fullmatch(r"-?\d+(\.\d+)?", text.strip()):
        return None
    digits = len(text.split(".")[1]) if "." in text else 0
    return digits if digits < 8 else None


def _matches(value: float, printed: str | float, decimals: int | None = None) -> bool:
    if isinstance(printed, str):
        decimals = _decimals(printed) if decimals is None else decimals
        printed = _num(printed)
    if math.isnan(printed) or math.isnan(value):
        return False
    if decimals is None:
        return abs(value - printed) <= 1e-7 * max(1.0, abs(printed))
    return abs(value - printed) <= 0.5 * 10 ** -decimals + 1e-9


def threshold_of(published: Path) -> int:
    """The threshold the published marks state (``<k``); 5 when none is printed."""
    for path in sorted(published.rglob("*.csv")):
        text = path.read_text(encoding="utf-8", errors="replace")
        found = re.search(r"<(\d+)", text)
        if found:
            return int(found.group(1))
    return 5


def wilson(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval in percent (the attacker's own)."""
    if n <= 0:
        return math.nan, math.nan
    z = norm.ppf(1 - (1 - level) / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return 100 * max(0.0, centre - half), 100 * min(1.0, centre + half)


def pearson(table: np.ndarray) -> float:
    table = np.asarray(table, dtype=float)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if table.shape[0] < 2 or table.shape[1] < 2:
        return math.nan
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    return float(((table - expected) ** 2 / expected).sum())


def trend(successes, totals, scores) -> float:
    """Cochran–Armitage χ² (R's prop.trend.test), the attacker's own."""
    x, n, s = (np.asarray(v, dtype=float) for v in (successes, totals, scores))
    if (n <= 0).any():
        return math.nan
    p = x.sum() / n.sum()
    s_bar = (n * s).sum() / n.sum()
    denominator = p * (1 - p) * (n * (s - s_bar) ** 2).sum()
    if denominator <= 0:
        return math.nan
    return float(((x - n * p) * (s - s_bar)).sum() ** 2 / denominator)


def statistic_of(method: str, cells: np.ndarray, bases: np.ndarray) -> list[float]:
    """Every statistic the printed test could be, for counts ``cells`` (rows × groups)."""
    method = method.lower()
    if "trend" in method or "armitage" in method:
        return [trend(cells[0], bases, range(1, len(bases) + 1))]
    if "fisher" in method:
        table = np.vstack([cells[0], bases - cells[0]]).T
        if table.shape != (2, 2):
            return []
        return [float(v) for v in fisher_exact(table)]
    if cells.shape[0] == 1:
        return [pearson(np.vstack([cells[0], bases - cells[0]]))]
    return [pearson(cells)]


# --------------------------------------------------------------------------------------------
# The attacker's knowledge
# --------------------------------------------------------------------------------------------

@dataclass
class PrintedTest:
    """A printed statistic and the cells it is computed from."""

    method: str
    printed: str | float
    rows: list[tuple]  # cell keys, one list per row of the test's table
    bases: list[float]
    layout: str  # "table" (rows × groups) or "item" (one row against its bases)


@dataclass
class Knowledge:
    """Candidate values of every hidden cell, and the facts that link cells."""

    threshold: int
    candidates: dict[tuple, set[int]] = field(default_factory=dict)
    known: dict[tuple, float] = field(default_factory=dict)
    upper: dict[tuple, float] = field(default_factory=dict)
    equations: list[tuple[dict[tuple, float], float]] = field(default_factory=list)
    tests: list[PrintedTest] = field(default_factory=list)
    #: (wave, row variable) → [(table, levels, bases by column)], to link the folders.
    wave_tables: dict[tuple, list] = field(default_factory=lambda: defaultdict(list))

    def narrow(self, key: tuple, allowed) -> None:
        if key in self.candidates:
            self.candidates[key] &= set(allowed)

    def value_or_candidates(self, key: tuple) -> set[int] | None:
        if key in self.candidates:
            return self.candidates[key]
        if key in self.known and not math.isnan(self.known[key]):
            return {round(self.known[key])}
        return None


def _phase_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in dict.fromkeys(table["col_level"]) if c != "All"]


def _is_hidden(row) -> bool:
    return str(row.get("suppressed", "")).strip().lower() in ("true", "1")


def read_wave(published: Path, spec: dict | None, kinds: set[str], tag: str,
              knowledge: Knowledge) -> None:
    """Add what the published files of one wave say."""
    tables: dict[str, pd.DataFrame] = {}
    folder = published / "tables"
    for path in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
        if path.name == "tests.csv":
            continue
        table = _read(path)
        if {"table_type", "row_type", "col_level"} <= set(table.columns) and \
                table["table_type"].iloc[0] in ("single", "multi"):
            tables[path.stem] = table
    k = knowledge.threshold
    structure: dict[str, dict] = {}
    for name, table in tables.items():
        phases = _phase_columns(table)
        body = table[table["row_type"].isin(["level", "item"])]
        bases = {}
        for column, base in zip(body["col_level"], body["base_n"], strict=True):
            bases.setdefault(column, _num(base))
        columns = [*phases, HIDDEN] if phases else ["All"]
        if phases:
            bases[HIDDEN] = bases["All"] - sum(bases[c] for c in phases)
        levels = list(dict.fromkeys(body["row_level"]))
        structure[name] = {"phases": phases, "bases": bases, "levels": levels,
                           "columns": columns, "type": table["table_type"].iloc[0]}
        knowledge.wave_tables[(tag, str(table["row_var"].iloc[0]))].append(
            (name, levels, bases))
        for row in body.to_dict("records"):
            column = row["col_level"]
            key = (tag, name, row["row_level"], column)
            base = bases.get(column, math.nan)
            if column == "All" and phases:
                if not _is_hidden(row) and not math.isnan(_num(row["n"])):
                    parts = {(tag, name, row["row_level"], c): 1.0 for c in columns}
                    knowledge.equations.append((parts, _num(row["n"])))
                continue
            if not _is_hidden(row):
                knowledge.known[key] = _num(row["n"])
                continue
            top = int(base) if not math.isnan(base) else 10_000
            knowledge.candidates[key] = set(range(top + 1))
            if "label" in kinds and str(row.get("suppression", "")).strip() == "primary":
                knowledge.narrow(key, range(1, k))
            if "columns" in kinds:
                _narrow_by_columns(knowledge, key, row, base)
        for level in levels:
            for column in columns:
                key = (tag, name, level, column)
                if column == HIDDEN:
                    knowledge.upper[key] = bases[HIDDEN]
                elif key not in knowledge.known and key not in knowledge.candidates:
                    knowledge.candidates[key] = set(range(int(bases[column]) + 1))
        if structure[name]["type"] == "single":
            for column in columns:
                knowledge.equations.append(
                    ({(tag, name, level, column): 1.0 for level in levels}, bases[column]))
        else:
            mentions = {r["col_level"]: _num(r["n"]) for r in
                        table[table["row_type"] == "mentions"].to_dict("records")
                        if not _is_hidden(r)}
            if phases and "All" in mentions and all(c in mentions for c in phases):
                mentions[HIDDEN] = mentions["All"] - sum(mentions[c] for c in phases)
            for column in columns:
                if column in mentions and not math.isnan(mentions[column]):
                    knowledge.equations.append(
                        ({(tag, name, level, column): 1.0 for level in levels},
                         mentions[column]))
    if "margins" in kinds and spec is not None:
        _tie_related_tables(knowledge, structure, spec, tag)
    if "rates" in kinds and (published / "findings.csv").exists():
        _read_findings(knowledge, _read(published / "findings.csv"), structure, tag,
                       with_tests="statistics" in kinds)
    if "statistics" in kinds:
        if (folder / "tests.csv").exists():
            for test in _read(folder / "tests.csv").to_dict("records"):
                _add_test(knowledge, structure, tag, test["table_id"], test.get("row_level"),
                          test.get("method") or "", test.get("statistic"))
        if (published / "findings.csv").exists() and "rates" not in kinds:
            _read_findings(knowledge, _read(published / "findings.csv"), structure, tag,
                           with_tests=True, with_rates=False)
        if (published / "tables.xlsx").exists():
            _read_workbook_tests(knowledge, published / "tables.xlsx", structure, tag)


def _narrow_by_columns(knowledge: Knowledge, key: tuple, row: dict, base: float) -> None:
    n = _num(row.get("n"))
    if not math.isnan(n):
        knowledge.narrow(key, {round(n)})
    pct = row.get("pct")
    if not math.isnan(_num(pct)) and base > 0:
        knowledge.narrow(key, {c for c in knowledge.candidates[key]
                               if _matches(100 * c / base, pct)})
    low, high = row.get("ci_low"), row.get("ci_high")
    method = str(row.get("ci_method", "")).lower()
    if method == "wilson" and not math.isnan(_num(low)) and base > 0:
        knowledge.narrow(key, {c for c in knowledge.candidates[key]
                               if _matches(wilson(c, int(base))[0], low, 6)
                               and _matches(wilson(c, int(base))[1], high, 6)})


def _add_test(knowledge, structure, tag, table, row_level, method, printed) -> None:
    if table not in structure or math.isnan(_num(printed)):
        return
    info = structure[table]
    phases = info["phases"]
    if not phases:
        return
    bases = [info["bases"][c] for c in phases]
    if isinstance(row_level, str) and row_level and row_level != "whole table":
        rows = [[(tag, table, row_level, c) for c in phases]]
        knowledge.tests.append(PrintedTest(method, printed, rows, bases, "item"))
    elif info["type"] == "single":
        rows = [[(tag, table, level, c) for c in phases] for level in info["levels"]]
        knowledge.tests.append(PrintedTest(method, printed, rows, bases, "table"))


def _read_findings(knowledge, findings, structure, tag, with_tests=True, with_rates=True):
    for row in findings.to_dict("records"):
        table, item, phase = row["table_id"], row["item"], row["phase"]
        if table not in structure:
            continue
        bases = structure[table]["bases"]
        phases = structure[table]["phases"]
        key = (tag, table, item, phase)
        if with_rates and key in knowledge.candidates:
            if not math.isnan(_num(row.get("n"))):
                knowledge.narrow(key, {round(_num(row["n"]))})
            base = bases.get(phase, math.nan)
            if not math.isnan(_num(row.get("rate"))) and base > 0:
                knowledge.narrow(key, {c for c in knowledge.candidates[key]
                                       if _matches(100 * c / base, row["rate"])})
        if with_rates and isinstance(row.get("other_rates"), str):
            others = [p.strip() for p in str(row.get("other_phases", "")).split(";")]
            for other, rate in zip(others, row["other_rates"].split(";"), strict=True):
                other_key = (tag, table, item, other)
                base = bases.get(other, math.nan)
                if other_key in knowledge.candidates and base > 0 and rate.strip():
                    knowledge.narrow(other_key, {c for c in knowledge.candidates[other_key]
                                                 if _matches(100 * c / base, rate.strip())})
        if with_tests and phase == (phases[0] if phases else None):
            _add_test(knowledge, structure, tag, table, item, row.get("test") or "",
                      row.get("statistic"))


def _read_workbook_tests(knowledge, path: Path, structure, tag) -> None:
    sheets = pd.read_excel(path, sheet_name=None, header=None, engine="calamine")
    for name, sheet in sheets.items():
        if name not in structure:
            continue
        first = sheet.iloc[:, 0].astype(str).tolist()
        if "Tests of association with phase" not in first:
            continue
        start = first.index("Tests of association with phase") + 2
        for row in sheet.iloc[start:].itertuples(index=False):
            if not isinstance(row[0], str) or not isinstance(row[1], str):
                break
            _add_test(knowledge, structure, tag, name, row[0], row[1],
                      row[2] if not pd.isna(row[2]) else math.nan)


def _tie_related_tables(knowledge: Knowledge, structure, spec: dict, tag: str) -> None:
    """A coarse band is the sum of the fine bands inside it; a recode group the sum of its
    levels (every column, the unshown one included)."""
    derived = spec.get("derived", {})
    by_row = defaultdict(list)
    for table in spec.get("tables", []):
        if table["id"] in structure and table.get("kind") == "single":
            by_row[table["row"]].append(table["id"])

    def tie(coarse_table, coarse_level, fine_table, fine_levels):
        if not fine_levels or structure[coarse_table]["columns"] != \
                structure[fine_table]["columns"]:
            return
        for column in structure[coarse_table]["columns"]:
            terms = {(tag, coarse_table, coarse_level, column): 1.0}
            for level in fine_levels:
                terms[(tag, fine_table, level, column)] = -1.0
            knowledge.equations.append((terms, 0.0))

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


# --------------------------------------------------------------------------------------------
# The trends folder
# --------------------------------------------------------------------------------------------

def read_trends(published: Path, kinds: set[str], knowledge: Knowledge) -> None:
    """Add what the published files of a trends folder say."""
    path = published / "trends.csv"
    if not path.exists():
        return
    rows = _read(path)
    frames = [rows] + [_read(p) for p in sorted((published / "trends").glob("*.csv"))] \
        if (published / "trends").is_dir() else [rows]
    rows = pd.concat(frames, ignore_index=True)
    base_of: dict[tuple, float] = {}
    for row in rows.to_dict("records"):
        key = ("trends", row["measure"], row["wave"], row["phase"])
        if not math.isnan(_num(row.get("base_n"))):
            base_of[key] = _num(row["base_n"])
    for row in rows.to_dict("records"):
        key = ("trends", row["measure"], row["wave"], row["phase"])
        base = base_of.get(key, math.nan)
        n = _num(row.get("n"))
        if not _is_hidden(row):
            if not math.isnan(n):
                knowledge.known[key] = n  # printed without a mark: simply published
            continue
        top = int(base) if not math.isnan(base) else 10_000
        knowledge.candidates.setdefault(key, set(range(top + 1)))
        if "columns" in kinds:
            _narrow_by_columns(knowledge, key, row, base)
        if "label" in kinds and str(row.get("suppression", "")).strip() == "primary":
            knowledge.narrow(key, range(1, knowledge.threshold))
    if "margins" in kinds:
        groups = defaultdict(list)
        for key in list(knowledge.candidates) + list(knowledge.known):
            if key[0] == "trends":
                groups[(key[1], key[2])].append(key)
        for (measure, wave), keys in groups.items():
            phases = [k for k in keys if k[3] != "All"]
            whole = ("trends", measure, wave, "All")
            if not phases or whole not in base_of:
                continue
            rest = base_of[whole] - sum(base_of.get(k, math.nan) for k in phases)
            if math.isnan(rest):
                continue
            hidden = ("trends", measure, wave, HIDDEN)
            knowledge.upper[hidden] = rest
            terms = {k: 1.0 for k in phases}
            terms[hidden] = 1.0
            terms[whole] = -1.0
            knowledge.equations.append((terms, 0.0))
    if "margins" in kinds:
        # A wave's share of a measure is the sum of the cells of that wave's table of the
        # same question (the measure's choices, same phase column, same base).
        for row in rows.drop_duplicates(["measure", "wave", "phase"]).to_dict("records"):
            key = ("trends", row["measure"], row["wave"], row["phase"])
            if row["phase"] == "All" or key not in base_of:
                continue
            choices = str(row.get("choices", "")).split()
            for table, levels, bases in knowledge.wave_tables.get(
                    (row["wave"], str(row.get("question", ""))), []):
                if choices and set(choices) <= set(levels) and \
                        bases.get(row["phase"]) == base_of[key]:
                    terms = {(row["wave"], table, c, row["phase"]): -1.0 for c in choices}
                    terms[key] = 1.0
                    knowledge.equations.append((terms, 0.0))
    changes_path = published / "trend_changes.csv"
    if changes_path.exists():
        for row in _read(changes_path).to_dict("records"):
            before = ("trends", row["measure"], row["from_wave"], row["phase"])
            after = ("trends", row["measure"], row["to_wave"], row["phase"])
            bases = [base_of.get(before, math.nan), base_of.get(after, math.nan)]
            if "rates" in kinds:
                for key, column, base in ((before, "pct_from", bases[0]),
                                          (after, "pct_to", bases[1])):
                    if key in knowledge.candidates and base > 0 and \
                            not math.isnan(_num(row.get(column))):
                        knowledge.narrow(key, {c for c in knowledge.candidates[key]
                                               if _matches(100 * c / base, row[column])})
            if "statistics" in kinds and not any(math.isnan(b) for b in bases):
                knowledge.tests.append(PrintedTest(row.get("test") or "", row.get("statistic"),
                                            [[before, after]], bases, "item"))
    tests_path = published / "trend_tests.csv"
    if "statistics" in kinds and tests_path.exists():
        for row in _read(tests_path).to_dict("records"):
            waves = str(row.get("waves", "")).split()
            keys = [("trends", row["measure"], w, row["phase"]) for w in waves]
            bases = [base_of.get(k, math.nan) for k in keys]
            if waves and not any(math.isnan(b) for b in bases):
                knowledge.tests.append(PrintedTest("trend-years:" + ",".join(waves),
                                            row.get("statistic"), [keys], bases, "years"))
    transitions = published / "transitions.csv"
    if transitions.exists():
        for row in _read(transitions).to_dict("records"):
            key = ("transitions", row["from_wave"], row["to_wave"], row["from_phase"],
                   row["to_phase"])
            if not math.isnan(_num(row.get("count"))):
                knowledge.known[key] = _num(row["count"])


# --------------------------------------------------------------------------------------------
# Solving
# --------------------------------------------------------------------------------------------

def _test_statistics(test: PrintedTest, values: dict[tuple, int]) -> list[float]:
    cells = np.array([[values[k] for k in row] for row in test.rows], dtype=float)
    bases = np.asarray(test.bases, dtype=float)
    if test.layout == "years":
        scores = [float(w) for w in test.method.split(":", 1)[1].split(",")]
        return [trend(cells[0], bases, scores)]
    if test.layout == "item" and len(bases) == 2 and "trend" not in test.method.lower():
        table = np.vstack([cells[0], bases - cells[0]]).T
        out = [pearson(table)]
        if (table >= 0).all():
            out += [float(v) for v in fisher_exact(table.astype(int))]
        return out
    return statistic_of(test.method, cells, bases)


def apply_tests(knowledge: Knowledge) -> None:
    for test in knowledge.tests:
        if math.isnan(_num(test.printed)):
            continue  # withheld
        keys = [k for row in test.rows for k in row]
        options = [knowledge.value_or_candidates(k) for k in keys]
        if any(o is None or not o for o in options):
            continue
        unknown = [i for i, o in enumerate(options) if len(o) > 1]
        if not unknown:
            continue
        sizes = math.prod(len(options[i]) for i in unknown)
        if sizes > MAX_COMBINATIONS:
            continue
        fixed = {keys[i]: next(iter(options[i])) for i in range(len(keys)) if i not in unknown}
        survivors: dict[tuple, set[int]] = {keys[i]: set() for i in unknown}
        for combo in itertools.product(*(sorted(options[i]) for i in unknown)):
            values = dict(fixed)
            values.update({keys[i]: v for i, v in zip(unknown, combo, strict=True)})
            if any(_matches(s, test.printed) for s in _test_statistics(test, values)):
                for i, v in zip(unknown, combo, strict=True):
                    survivors[keys[i]].add(v)
        for key, allowed in survivors.items():
            knowledge.narrow(key, allowed)


def solve_margins(knowledge: Knowledge, targets: list[tuple]) -> None:
    """Integer programming: each target's least and greatest value under every equation
    (solved on the group of cells the equations connect it to)."""
    parent: dict[tuple, tuple] = {}

    def find(key):
        parent.setdefault(key, key)
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for terms, _ in knowledge.equations:
        keys = list(terms)
        for other in keys[1:]:
            parent[find(other)] = find(keys[0])
    groups: dict[tuple, list[tuple]] = defaultdict(list)
    for target in targets:
        if target in parent:
            groups[find(target)].append(target)
    equations_of: dict[tuple, list] = defaultdict(list)
    for terms, value in knowledge.equations:
        equations_of[find(next(iter(terms)))].append((terms, value))
    for root, group_targets in groups.items():
        _solve_group(knowledge, equations_of[root], group_targets)


def _solve_group(knowledge: Knowledge, equations, targets: list[tuple]) -> None:
    keys = sorted({k for terms, _ in equations for k in terms}, key=str)
    index = {k: i for i, k in enumerate(keys)}
    low = np.zeros(len(keys))
    high = np.full(len(keys), np.inf)
    for key, i in index.items():
        options = knowledge.value_or_candidates(key)
        if options:
            low[i], high[i] = min(options), max(options)
        elif key in knowledge.upper and not math.isnan(knowledge.upper[key]):
            high[i] = max(knowledge.upper[key], 0)
    a = lil_matrix((len(equations), len(keys)))
    rhs = np.zeros(len(equations))
    for r, (terms, value) in enumerate(equations):
        for key, coefficient in terms.items():
            a[r, index[key]] += coefficient
        rhs[r] = value
    keep = np.flatnonzero(~np.isnan(rhs))
    constraint = LinearConstraint(a.tocsr()[keep], rhs[keep], rhs[keep])
    integrality = np.ones(len(keys))
    for target in targets:
        if len(knowledge.candidates.get(target, ())) <= 1:
            continue
        cost = np.zeros(len(keys))
        cost[index[target]] = 1.0
        bounds = Bounds(low, high)
        lower = milp(cost, constraints=constraint, integrality=integrality, bounds=bounds)
        upper = milp(-cost, constraints=constraint, integrality=integrality, bounds=bounds)
        if lower.status != 0 or upper.status != 0:
            continue
        least, most = round(lower.fun), round(-upper.fun)
        knowledge.narrow(target, range(least, most + 1))
        low[index[target]], high[index[target]] = least, most


@dataclass(frozen=True)
class Outcome:
    """Per hidden cell: its true value and what the attacker has left."""

    cells: dict[tuple, tuple[int, frozenset[int]]]

    @property
    def recovered(self) -> list[tuple]:
        return [key for key, (_, left) in self.cells.items() if len(left) == 1]

    @property
    def unsound(self) -> list[tuple]:
        return [key for key, (true, left) in self.cells.items() if true not in left]


def hidden_wave_cells(run_dir: Path, tag: str, threshold: int) -> dict[tuple, int]:
    """The suppressed by-phase counts of a wave (from the internal files, to score)."""
    out = {}
    truth = internal_dir(run_dir) / "tables"
    public = published_dir(run_dir) / "tables"
    for path in sorted(truth.glob("*.csv")):
        if path.name == "tests.csv":
            continue
        table = _read(path)
        if table["table_type"].iloc[0] not in ("single", "multi"):
            continue
        shown = _read(public / path.name) if (public / path.name).exists() else table
        hidden = {(r["row_level"], r["col_level"]) for r in shown.to_dict("records")
                  if _is_hidden(r)}
        for row in table.to_dict("records"):
            if row["row_type"] in ("level", "item") and row["col_level"] != "All" and \
                    (row["row_level"], row["col_level"]) in hidden and _num(row["n"]) > 0:
                out[(tag, path.stem, row["row_level"], row["col_level"])] = int(_num(row["n"]))
    return out


def hidden_trend_cells(run_dir: Path, threshold: int) -> dict[tuple, int]:
    """Counts of the trends folder below the threshold (from the internal files)."""
    out = {}
    truth = internal_dir(run_dir)
    for row in _read(truth / "trends.csv").to_dict("records"):
        n, base = _num(row["n"]), _num(row["base_n"])
        if 0 < n < threshold or (0 < base < threshold and n > 0):
            out[("trends", row["measure"], row["wave"], row["phase"])] = int(n)
    if (truth / "transitions.csv").exists():
        for row in _read(truth / "transitions.csv").to_dict("records"):
            count = _num(row["count"])
            if 0 < count < threshold:
                out[("transitions", row["from_wave"], row["to_wave"], row["from_phase"],
                     row["to_phase"])] = int(count)
    return out


def attack(wave_dirs: dict[str, Path], trends_dir: Path | None, kinds: set[str],
           spec_of: dict[str, dict | None], rounds: int = 3) -> Outcome:
    """Run the attack of ``kinds`` on the published files of the waves and trends."""
    first = next(iter(wave_dirs.values())) if wave_dirs else trends_dir
    threshold = threshold_of(published_dir(first))
    knowledge = Knowledge(threshold=threshold)
    truth: dict[tuple, int] = {}
    for tag, run_dir in wave_dirs.items():
        read_wave(published_dir(run_dir), spec_of.get(tag), kinds, tag, knowledge)
        truth.update(hidden_wave_cells(run_dir, tag, threshold))
    if trends_dir is not None:
        read_trends(published_dir(trends_dir), kinds, knowledge)
        truth.update(hidden_trend_cells(trends_dir, threshold))
    for key in truth:
        knowledge.candidates.setdefault(key, set(range(10_001)))
        # A count not printed anywhere is any whole number up to its base.
        if key in knowledge.known:
            knowledge.candidates[key] &= {round(knowledge.known[key])} \
                if not math.isnan(knowledge.known[key]) else knowledge.candidates[key]
    for _ in range(rounds):
        size = sum(len(v) for v in knowledge.candidates.values())
        if "margins" in kinds:
            solve_margins(knowledge, [k for k in truth if len(knowledge.candidates[k]) > 1])
        if "statistics" in kinds:
            apply_tests(knowledge)
        if sum(len(v) for v in knowledge.candidates.values()) == size:
            break
    return Outcome({key: (true, frozenset(knowledge.candidates[key]))
                    for key, true in truth.items()})


# --------------------------------------------------------------------------------------------
# The runs attacked
# --------------------------------------------------------------------------------------------

def _spec(instrument_year: str) -> dict | None:
    path = PROJECT / "survey_instrument" / "pulse_check" / instrument_year / "tables.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.exists() else None


@pytest.fixture(scope="module")
def all_waves_run(tmp_path_factory) -> Path:
    """``pulsecheck run raw/pulse_check`` once (or a folder named by PULSECHECK_ATTACK_RUN)."""
    given = os.environ.get("PULSECHECK_ATTACK_RUN")
    if given:
        return Path(given)
    from click.testing import CliRunner

    from pipeline.cli.main import cli

    out = tmp_path_factory.mktemp("waves") / "out"
    result = CliRunner().invoke(cli, ["run", str(PROJECT / "raw" / "pulse_check"),
                                      "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    return out


def _targets(all_waves_run: Path, which: str):
    """The waves alone, or the waves and the trends folder together (the trends attack uses
    every published file of the waves too, and is scored on all their hidden cells)."""
    waves = {w: all_waves_run / f"pulse_check-{w}" for w in ("2014", "2016", "2018", "2020")
             if (all_waves_run / f"pulse_check-{w}").is_dir()}
    if which == "waves":
        return {w: d for w, d in waves.items() if w != "2014"}, None
    return waves, all_waves_run / "pulse_check-trends"


@pytest.fixture(scope="module")
def outcomes(all_waves_run):
    """Every attack kind alone (with the margins that make it bite) and all together."""
    results = {}
    specs = {w: _spec(w) for w in ("2014", "2016", "2018", "2020")}
    for which in ("waves", "trends"):
        waves, trends_dir = _targets(all_waves_run, which)
        for kind in KINDS:
            kinds = {kind} if kind in ("columns", "margins") else {kind, "margins"}
            results[(which, kind)] = attack(waves, trends_dir, kinds, specs)
        results[(which, "all")] = attack(waves, trends_dir, set(KINDS), specs)
    return results


@pytest.mark.parametrize("which", ["waves", "trends"])
def test_attack__has_hidden_cells_to_attack(outcomes, which):
    assert len(outcomes[(which, "all")].cells) >= 10


@pytest.mark.parametrize("which", ["waves", "trends"])
@pytest.mark.parametrize("kind", [*KINDS, "all"])
def test_attack__never_rules_out_the_true_count(outcomes, which, kind):
    # The attacker's facts are true of the data: if the true count were ruled out, the
    # attack itself would be wrong and its failure to recover anything would prove nothing.
    outcome = outcomes[(which, kind)]
    assert not outcome.unsound, outcome.unsound[:5]


@pytest.mark.parametrize("which", ["waves", "trends"])
@pytest.mark.parametrize("kind", [*KINDS, "all"])
def test_attack__recovers_no_hidden_count_from_published_files(outcomes, which, kind):
    outcome = outcomes[(which, kind)]
    recovered = outcome.recovered
    assert not recovered, (f"{len(recovered)} of {len(outcome.cells)} hidden counts "
                           f"recovered by {kind}: {recovered[:8]}")


def test_attack__statistics_are_recomputed_as_published(all_waves_run):
    # The attacker's χ² and trend formulas must reproduce statistics printed for tables
    # without hidden cells; otherwise a failed match would prove nothing.
    run_dir = all_waves_run / "pulse_check-2016"
    knowledge = Knowledge(threshold=5)
    read_wave(published_dir(run_dir), None, {"statistics"}, "w", knowledge)
    checked = 0
    for test in knowledge.tests:
        keys = [k for row in test.rows for k in row]
        if all(k in knowledge.known and not math.isnan(knowledge.known[k]) for k in keys):
            values = {k: int(knowledge.known[k]) for k in keys}
            assert any(_matches(s, test.printed) for s in _test_statistics(test, values)), \
                (test.method, keys[0])
            checked += 1
    assert checked >= 10


def _overall_less_phases(rows: pd.DataFrame, keys: list[str], phase: str) -> list[tuple]:
    """(keys..., difference) wherever ``All`` and every phase are printed and ``All`` less the
    phases (the unclassified partnerships) counts 1 to 4."""
    found = []
    for key, group in rows.groupby(keys, sort=False):
        n = {p: _num(v) for p, v in zip(group[phase], group["n"], strict=True)}
        phases = [p for p in n if p != "All"]
        if "All" in n and phases and not any(math.isnan(v) for v in n.values()):
            rest = n["All"] - sum(n[p] for p in phases)
            if 0 < rest < 5:
                found.append((*key, rest))
    return found


def test_attack__overall_less_phases__gives_no_count_of_fewer_than_five(all_waves_run):
    # Unclassified partnerships are in All only: All less the phases counts them.
    found = []
    for folder in sorted(all_waves_run.iterdir()):
        published = published_dir(folder)
        for path in sorted((published / "tables").glob("*.csv")) \
                if (published / "tables").is_dir() else []:
            table = _read(path)
            if "row_type" in table and path.name != "tests.csv":
                body = table[table["row_type"].isin(["level", "item"])]
                found += [(folder.name, path.stem, *hit) for hit in
                          _overall_less_phases(body, ["row_level"], "col_level")]
        if (published / "trends.csv").exists():
            found += [(folder.name, *hit) for hit in _overall_less_phases(
                _read(published / "trends.csv"), ["measure", "wave"], "phase")]
    assert found == [], f"{len(found)}: {found[:6]}"


def test_attack__row_order__does_not_place_a_hidden_overall_count(all_waves_run):
    # Items are listed by their overall share, highest first: a hidden overall count listed
    # between two printed ones lies between them. Hidden ones must come after every printed
    # one (their order then says nothing).
    found = []
    for folder in sorted(all_waves_run.iterdir()):
        tables = published_dir(folder) / "tables"
        for path in sorted(tables.glob("*.csv")) if tables.is_dir() else []:
            table = _read(path)
            if "row_type" not in table or "rank" not in table:
                continue
            overall = table[(table["col_level"] == "All")
                            & table["row_type"].isin(["item", "level"])]
            hidden = overall["suppressed"].str.lower().eq("true").tolist()
            if True in hidden and False in hidden[hidden.index(True):]:
                found.append((folder.name, path.stem))
    assert found == [], found
