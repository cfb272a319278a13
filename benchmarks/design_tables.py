"""Design-based tables and tests: the workload compared with R's ``survey`` package.

One file (written by the pipeline child from the analysed partnerships, with the design
columns of :func:`benchmarks.scaled.design_columns`) and one plan (which tables) are read by
both sides, so the comparison is like for like:

* ``chisq``: for each (row, col) pair, the design-based phase × item table through
  :func:`pipeline.stats.tabulate.single_choice_table` (column percentages with logit intervals for
  every cell, and the Rao–Scott F test) — R computes ``svychisq(~row + col, statistic="F")``
  only, so pulsecheck does strictly more work here;
* ``ciprop``: for each 0/1 item, the weighted proportion with its logit interval
  (:func:`pipeline.stats.intervals.proportion_interval`; R ``svyciprop(method="logit")``).

The replicate-weight case runs the same plan on the same file with the design converted to
JKn replicate weights (R ``as.svrepdesign(type = "JKn")``), the conversion timed on both sides.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np
import pandas as pd

from benchmarks.scaled import PSU, STRATUM, WEIGHT

#: The design, as R's ``svydesign(id=~psu, strata=~stratum, weights=~w)``.
DESIGN_FORMULA = f"id=~{PSU}, strata=~{STRATUM}, weights=~{WEIGHT}"


def plan_from_spec(spec: Any, columns: list[str], n_chisq: int = 5,
                   n_ciprop: int = 5) -> dict[str, Any]:
    """Pick the benchmark's tables from the report specification (pure).

    The first ``n_chisq`` by-phase single-choice tables whose row is a column of the file,
    and the first ``n_ciprop`` check-all item columns.
    """
    from pipeline.columns import PHASE_COLUMN

    singles = [t.row for t in spec.tables if t.kind == "single" and t.by_phase
               and t.row in columns and t.row != PHASE_COLUMN]
    chisq = [[row, PHASE_COLUMN] for row in dict.fromkeys(singles)][:n_chisq]
    multis = [t.row for t in spec.tables if t.kind == "multi"]
    items = [c for m in multis for c in columns if c.startswith(m + "/")]
    return {"chisq": chisq, "ciprop": items[:n_ciprop]}


def design_file(partnerships: pd.DataFrame, plan: Mapping[str, Any], order: list[str]
                ) -> pd.DataFrame:
    """The comparison file: the plan's columns, phase blanked outside ``order``, design."""
    from benchmarks.scaled import design_columns
    from pipeline.columns import PHASE_COLUMN

    names = list(dict.fromkeys([c for pair in plan["chisq"] for c in pair] + plan["ciprop"]))
    frame = partnerships[names].copy()
    frame[PHASE_COLUMN] = frame[PHASE_COLUMN].where(frame[PHASE_COLUMN].isin(order), "")
    return pd.concat([frame.reset_index(drop=True), design_columns(len(frame))], axis=1)


def read_design_file(path: str, numeric: tuple[str, ...] = ()) -> pd.DataFrame:
    """Read the comparison file: answers as text (blank = missing), design as numbers.

    ``numeric`` names 0/1 item columns read as numbers (blank = NaN): R converts those with
    ``as.numeric`` before its clock starts, so the conversion is part of reading on both
    sides.
    """
    types = {STRATUM: "int64", PSU: "int64", WEIGHT: "float64",
             **{c: "float64" for c in numeric}}
    header = pd.read_csv(path, nrows=0).columns
    return pd.read_csv(path, dtype={c: types.get(c, "str") for c in header})


#: PSUs per stratum of the replicate-weight case: the file's PSUs grouped within their
#: stratum, so that a jackknife has a replicate per group (10 strata × 4 = 40 replicates)
#: rather than per PSU (ten thousand at 1 M rows, more than either side can hold).
REPLICATE_GROUPS = 4
#: The column of those groups, and the replication method of the replicate-weight case.
REPLICATE_PSU, REPLICATE_TYPE = "rpsu", "JKn"


def replicate_groups(psu: pd.Series) -> pd.Series:
    """The replicate case's PSU of each row: its PSU's group within the stratum (R:
    ``((psu - 1) %/% 10) %% 4``; PSU codes are stratum + 10 × k, so a group stays in its
    stratum)."""
    from benchmarks.scaled import N_STRATA

    return ((psu - 1) // N_STRATA) % REPLICATE_GROUPS + 1


def run_design_tables(frame: pd.DataFrame, plan: Mapping[str, Any],
                      replicates: bool = False) -> dict[str, Any]:
    """Compute the plan's tables with the design; return the headline numbers.

    With ``replicates`` the design is the stratified design of :data:`REPLICATE_PSU`
    groups converted to JKn replicate weights (as R's ``as.svrepdesign``), once, and every
    table, test and interval is computed from the replicates.
    """
    from pipeline.stats import tabulate
    from pipeline.stats.design import SurveyDesign, resolve_design
    from pipeline.stats.intervals import proportion_interval
    from pipeline.stats.replicate import (
        ReplicateConversion,
        replicate_proportion,
        resolve_replicate_design,
    )

    if replicates:
        frame = frame.assign(**{REPLICATE_PSU: replicate_groups(frame[PSU])})
        design = resolve_replicate_design(frame, ReplicateConversion(
            SurveyDesign(weights=WEIGHT, strata=STRATUM, cluster=REPLICATE_PSU),
            REPLICATE_TYPE))
    else:
        design = SurveyDesign(weights=WEIGHT, strata=STRATUM, cluster=PSU)
    out: dict[str, Any] = {"chisq": [], "ciprop": []}
    for row, col in plan["chisq"]:
        # The levels found in the data (as R's factor() does); blanks are NaN, not text.
        levels = sorted(v for v in frame[row].unique() if isinstance(v, str))
        col_levels = sorted(v for v in frame[col].unique() if isinstance(v, str))
        result = tabulate.single_choice_table(
            frame, row, levels=levels, col=col, col_levels=col_levels, design=design,
            ci_method="logit", tests=["rao_scott_f"])
        test = result.tests.iloc[0]
        out["chisq"].append({"row": row, "col": col, "statistic": float(test["statistic"]),
                             "p_value": float(test["p_value"])})
    resolved = design if replicates else resolve_design(frame, design)
    for item in plan["ciprop"]:
        y = pd.to_numeric(frame[item], errors="coerce").to_numpy(dtype=float)
        domain = ~np.isnan(y)
        interval = replicate_proportion(y, resolved, method="logit", domain=domain) \
            if replicates else proportion_interval(y, domain, resolved, method="logit")
        out["ciprop"].append({"item": item, "estimate": float(interval.estimate),
                              "ci_low": float(interval.low), "ci_high": float(interval.high)})
    return out
