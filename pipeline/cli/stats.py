"""``pulsecheck crosstab`` and ``pulsecheck proportion``: the statistics engine from the shell.

Both read a CSV, XLSX or SAV file, take the design as options (as R's ``svydesign``) and print
a readable table, or JSON with ``--json`` for scripts and cross-checks against other
software. Levels are the distinct values found in the file, sorted; report tables take them
from the instrument instead.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd

from pipeline.errors import PulsecheckError
from pipeline.stats.design import SurveyDesign, design_df, resolve_design
from pipeline.stats.intervals import proportion_interval
from pipeline.stats.methods import CI_METHODS
from pipeline.stats.tabulate import crosstab_matrices, level_key


def read_table(path: str) -> pd.DataFrame:
    """Read a CSV, XLSX or SAV file into a frame (codes as stored, not value labels)."""
    file = Path(path)
    if not file.exists():
        raise PulsecheckError("CLI_001", path=path)
    suffix = file.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):
            return pd.read_excel(file, engine="calamine")
        if suffix == ".sav":
            import pyreadstat

            frame, _ = pyreadstat.read_sav(str(file))
            return frame
        return pd.read_csv(file)
    except PulsecheckError:
        raise
    except Exception as error:  # any reader failure is a user-fixable file problem
        expected = {".xlsx": "an Excel workbook", ".sav": "an SPSS .sav file"}.get(
            suffix, "a CSV file")
        raise PulsecheckError("READ_002", file=path, expected=expected,
                              reason=str(error).splitlines()[0] if str(error) else "unknown"
                              ) from error


def _levels(series: pd.Series) -> list[Any]:
    values = series.dropna().unique().tolist()
    keys = {}
    for v in values:
        keys.setdefault(level_key(v), v)
    try:
        return [keys[k] for k in sorted(keys, key=lambda k: (float(k), k))]
    except ValueError:
        return [keys[k] for k in sorted(keys)]


def _design(weight: str | None, strata: str | None, cluster: str | None,
            fpc: str | None) -> SurveyDesign:
    return SurveyDesign(weights=weight, strata=strata, cluster=cluster, fpc=fpc)


def _design_options(func):
    for option in reversed((
        click.option("--weight", "weight", default=None, help="Column of sampling weights."),
        click.option("--strata", default=None, help="Column of strata."),
        click.option("--cluster", default=None, help="Column of primary sampling units."),
        click.option("--fpc", default=None,
                     help="Column of finite-population corrections (population sizes or "
                          "sampling fractions)."),
    )):
        func = option(func)
    return func


def _json_number(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.floating,)):
        return _json_number(float(obj))
    if isinstance(obj, (np.integer,)):
        return int(obj)
    return _json_number(obj)


@click.command("crosstab")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--row", "row", required=True, help="Row variable.")
@click.option("--col", "col", required=True, help="Column variable.")
@_design_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def crosstab(file: str, row: str, col: str, weight: str | None, strata: str | None,
             cluster: str | None, fpc: str | None, as_json: bool) -> None:
    """Two-way table of ROW by COL with counts, proportions and tests.

    \b
    Tests: Pearson chi-square and Fisher's exact test on the unweighted counts, and with a
    weight or design the Rao-Scott second-order F test (R's svychisq default).

    \b
    Example:
      pulsecheck crosstab data.csv --row phase --col sector --weight w --json
    """
    frame = read_table(file)
    for name in (row, col):
        if name not in frame.columns:
            raise PulsecheckError("STAT_001", name=name,
                                  present=", ".join(map(str, frame.columns[:20])))
    design = _design(weight, strata, cluster, fpc)
    result = crosstab_matrices(frame, row, col, row_levels=_levels(frame[row]),
                               col_levels=_levels(frame[col]), design=design)
    if as_json:
        click.echo(json.dumps(_clean(result), indent=2))
        return
    _print_crosstab(result)


def _print_crosstab(result: dict[str, Any]) -> None:
    rows, cols = result["row_levels"], result["col_levels"]
    weighted = result["design"] != SurveyDesign().describe()
    width = max([len(str(r)) for r in rows] + [len(result["row_var"]), 6]) + 2
    cell = max([len(str(c)) for c in cols] + [16]) + 2
    click.echo(f"{result['row_var']} by {result['col_var']} — {result['design']}")
    click.echo("Counts (unweighted n; column %" + (", weighted" if weighted else "") + ")")
    click.echo(" " * width + "".join(f"{c!s:>{cell}}" for c in cols))
    for i, r in enumerate(rows):
        parts = []
        for j in range(len(cols)):
            n = result["unweighted_counts"][i][j]
            p = result["col_proportions"][i][j]
            pct = "  -  " if p is None else f"{100 * p:5.1f}%"
            parts.append(f"{n:>7} {pct:>7}")
        click.echo(f"{r!s:<{width}}" + "".join(f"{p:>{cell}}" for p in parts))
    totals = np.asarray(result["unweighted_counts"]).sum(axis=0)
    click.echo(f"{'Total':<{width}}" + "".join(f"{int(t):>{cell}}" for t in totals))
    click.echo("")
    tests = result["tests"]
    pear = tests["pearson"]
    if pear.get("p_value") is not None:
        click.echo(f"Pearson chi-square: X2 = {pear['statistic']:.4f}, df = {pear['df']:.0f}, "
                   f"p = {pear['p_value']:.4g}")
    fish = tests["fisher"]
    if fish.get("p_value") is not None:
        click.echo(f"Fisher's exact test: p = {fish['p_value']:.4g}")
    if "rao_scott" in tests and tests["rao_scott"].get("p_value") is not None:
        rs = tests["rao_scott"]
        click.echo(f"Rao-Scott F: F = {rs['statistic']:.4f} on {rs['ndf']:.3f} and "
                   f"{rs['ddf']:.2f} df, p = {rs['p_value']:.4g}")
    for name, test in tests.items():
        for warning in test.get("warnings", []):
            click.echo(f"warning ({name}): {warning}")


@click.command("proportion")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--var", "var", required=True, help="Variable.")
@click.option("--level", "level_value", required=True, help="Level whose share is estimated.")
@click.option("--by", "by", default=None, help="Estimate within each group of this variable.")
@_design_options
@click.option("--ci", "ci_method", required=True, type=click.Choice(CI_METHODS),
              help="Interval method (wilson, wilson_cc and clopper_pearson need an "
                   "unweighted sample).")
@click.option("--conf-level", "conf_level", default=0.95, show_default=True, type=float,
              help="Confidence level.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def proportion(file: str, var: str, level_value: str, by: str | None, weight: str | None,
               strata: str | None, cluster: str | None, fpc: str | None, ci_method: str,
               conf_level: float, as_json: bool) -> None:
    """Share of respondents answering VAR with LEVEL, with a confidence interval.

    The base is the respondents with an answer to VAR (blanks are left out), overall and
    within each --by group; domain estimates keep the whole design for their variance.

    \b
    Example:
      pulsecheck proportion data.csv --var sch_wide --level Yes --weight pw \\
          --strata stype --fpc fpc --ci logit --json
    """
    frame = read_table(file)
    for name in (var, by):
        if name is not None and name not in frame.columns:
            raise PulsecheckError("STAT_001", name=name,
                                  present=", ".join(map(str, frame.columns[:20])))
    design = _design(weight, strata, cluster, fpc)
    resolved = resolve_design(frame, design)
    keys = [level_key(v) if not pd.isna(v) else None for v in frame[var].tolist()]
    answered = np.asarray([k is not None for k in keys])
    target = level_key(level_value)
    y = np.asarray([1.0 if k == target else 0.0 for k in keys])

    def one(domain: np.ndarray) -> dict[str, Any]:
        interval = proportion_interval(y, domain, resolved, method=ci_method,
                                             level=conf_level)
        return {"estimate": interval.estimate, "se": interval.se,
                "ci": [interval.low, interval.high], "method": interval.method,
                "conf_level": conf_level, "design_df": design_df(resolved, domain),
                "n": int(domain.sum()), "warnings": list(interval.warnings)}

    result: dict[str, Any] = {"var": var, "level": level_value, "design": design.describe(),
                              **one(answered)}
    if by is not None:
        groups = []
        by_keys = [level_key(v) if not pd.isna(v) else None for v in frame[by].tolist()]
        for g in _levels(frame[by]):
            mask = answered & np.asarray([k == level_key(g) for k in by_keys])
            groups.append({"group": level_key(g), **one(mask)})
        result["by"] = by
        result["by_groups"] = groups
    if as_json:
        click.echo(json.dumps(_clean(result), indent=2))
        return
    click.echo(f"{var} = {level_value} — {result['design']}; {ci_method} interval, "
               f"{conf_level:.0%}")
    rows = [("All", result)] + [(g["group"], g) for g in result.get("by_groups", [])]
    click.echo(f"{'group':<14}{'n':>6}{'estimate':>11}{'se':>9}{'low':>9}{'high':>9}"
               f"{'df':>6}  method")
    for name, r in rows:
        click.echo(f"{name!s:<14}{r['n']:>6}{100 * r['estimate']:>10.2f}%"
                   f"{100 * r['se']:>8.2f}%{100 * r['ci'][0]:>8.2f}%{100 * r['ci'][1]:>8.2f}%"
                   f"{r['design_df']:>6}  {r['method']}")
        for warning in r["warnings"]:
            click.echo(f"  warning: {warning}")
