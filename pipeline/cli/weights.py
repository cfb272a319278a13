"""``pulsecheck calibrate`` and ``pulsecheck replicate``: calibrated and replicate weights.

``calibrate`` post-stratifies or rakes a file's rows to population margins given as a CSV
(``variable,level,count``), optionally trims the weights, reports the convergence and writes
the weights; ``replicate`` estimates the share of a level, overall and by group, with a
replicate-weight design (columns given, or a linearisation design converted), with the
design-based test of association when grouped. Both print text, or JSON with ``--json``.
"""

from __future__ import annotations

import fnmatch
import json
import math
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd

from pipeline.cli.options import json_option
from pipeline.cli.stats import read_table, require_level
from pipeline.errors import PulsecheckError
from pipeline.stats.calibrate import (
    CALIBRATION_METHODS,
    calibrated_mean,
    margins_from_frame,
    poststratify,
    rake,
    trim_weights,
)
from pipeline.stats.design import SurveyDesign, resolve_design
from pipeline.stats.replicate import (
    CONVERSION_TYPES,
    REPLICATE_CI_METHODS,
    REPLICATE_TYPES,
    ReplicateDesign,
    replicate_chisq,
    replicate_crosstab,
    replicate_df,
    replicates_from_design,
    resolve_replicates,
)


def _number(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return value if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value


def _require(frame: pd.DataFrame, *names: str | None) -> None:
    for name in names:
        if name is not None and name not in frame.columns:
            raise PulsecheckError("STAT_001", name=name,
                                  present=", ".join(map(str, frame.columns[:20])))


def _codes(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Level index of each value (-1 for blank) and the levels, sorted as text."""
    text = series.map(lambda v: None if pd.isna(v) else
                      str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
    levels = sorted({v for v in text if v is not None})
    lookup = {v: i for i, v in enumerate(levels)}
    return np.asarray([lookup.get(v, -1) if v is not None else -1 for v in text],
                      dtype=np.int64), levels


@click.command("calibrate")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--margins", required=True, type=click.Path(dir_okay=False),
              help="CSV of population counts: columns variable, level, count.")
@click.option("--method", required=True, type=click.Choice(CALIBRATION_METHODS),
              help="poststratify (one variable) or rake (every variable of the margins).")
@click.option("--weight", default=None, help="Column of weights before calibration "
                                             "(default: 1 for every row).")
@click.option("--strata", default=None, help="Column of strata (for the standard errors).")
@click.option("--cluster", default=None, help="Column of primary sampling units.")
@click.option("--fpc", default=None, help="Column of finite-population corrections.")
@click.option("--max-iterations", default=10, show_default=True, type=int,
              help="Raking passes allowed.")
@click.option("--epsilon", default=1.0, show_default=True, type=float,
              help="Raking converges when no weighted cell changes by this much in a pass.")
@click.option("--trim-lower", default=None, type=float, help="Smallest weight kept.")
@click.option("--trim-upper", default=None, type=float, help="Largest weight kept.")
@click.option("--strict", is_flag=True, help="Trim until no weight is outside the bounds.")
@click.option("--mean", "means", multiple=True,
              help="Numeric variable whose calibrated mean and standard error to print "
                   "(repeatable).")
@click.option("--key", default=None, help="Column identifying each row in --out.")
@click.option("--out", default=None, type=click.Path(dir_okay=False),
              help="Write the calibrated weights here (CSV: key or row, weight).")
@json_option(help_text="Print JSON instead of text; an error is a JSON object too.")
def calibrate(file: str, margins: str, method: str, weight: str | None, strata: str | None,
              cluster: str | None, fpc: str | None, max_iterations: int, epsilon: float,
              trim_lower: float | None, trim_upper: float | None, strict: bool,
              means: tuple[str, ...], key: str | None, out: str | None,
              as_json: bool) -> None:
    """Weight FILE's rows to population counts (R's postStratify, rake, trimWeights).

    \b
    Example:
      pulsecheck calibrate schools.csv --margins margins.csv --method rake \\
          --weight pw --cluster dnum --mean api00 --out weights.csv
    """
    if out is not None:
        # The weights never replace the data or the margins they were computed from.
        from pipeline.cli.raw_guard import refuse_overwrite

        refuse_overwrite([Path(out)], [Path(file), Path(margins)])
    frame = read_table(file)
    if not Path(margins).exists():
        raise PulsecheckError("CLI_001", path=margins)
    try:
        table = pd.read_csv(margins, dtype=str, keep_default_na=False, na_values=[""])
    except (ValueError, UnicodeDecodeError) as error:
        raise PulsecheckError("CALIB_001", file=margins,
                              problem=f"cannot be read as CSV ({error})") from error
    given = margins_from_frame(table, file=margins)
    _require(frame, key, *means)
    resolved = resolve_design(frame, SurveyDesign(weights=weight, strata=strata,
                                                  cluster=cluster, fpc=fpc))
    if method == "poststratify":
        if len(given) != 1:
            raise PulsecheckError("CALIB_001", file=margins,
                                  problem=f"gives {len(given)} variables; post-stratification "
                                          "uses one (rake to several)")
        result = poststratify(frame, resolved.weights, given[0])
    else:
        result = rake(frame, resolved.weights, given, max_iterations=max_iterations,
                      epsilon=epsilon)
    if trim_lower is not None or trim_upper is not None:
        result = trim_weights(result,
                              lower=trim_lower if trim_lower is not None else -math.inf,
                              upper=trim_upper if trim_upper is not None else math.inf,
                              strict=strict)
    summary: dict[str, Any] = {"file": file, "margins": margins, **result.record(),
                               "means": []}
    for name in means:
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
        domain = ~np.isnan(values)
        estimate, variance, df = calibrated_mean(np.nan_to_num(values), resolved, result,
                                                 domain)
        summary["means"].append({"var": name, "estimate": estimate,
                                 "se": math.sqrt(max(variance, 0.0)), "design_df": df,
                                 "n": int(domain.sum())})
    if out is not None:
        ids = frame[key] if key else pd.Series(np.arange(1, len(frame) + 1), name="row")
        pd.DataFrame({ids.name: ids.to_numpy(), "weight": result.weights}).to_csv(
            out, index=False)
        summary["out"] = out
    if as_json:
        click.echo(json.dumps({k: _number(v) if not isinstance(v, list) else
                               [{a: _number(b) for a, b in m.items()} for m in v]
                               for k, v in summary.items()}, indent=2))
        return
    click.echo(f"{summary['method']}: {summary['iterations']} pass(es), last change "
               f"{summary['max_change']:.3g}, converged; {summary['n']} rows, weights "
               f"{summary['weight_min']:.4g} to {summary['weight_max']:.4g}, total "
               f"{summary['weight_total']:.6g}"
               + (f"; trimmed in {summary['trim_rounds']} round(s)"
                  if summary["trim_rounds"] else ""))
    for m in summary["means"]:
        click.echo(f"mean {m['var']}: {m['estimate']:.6g} (se {m['se']:.4g}, "
                   f"df {m['design_df']}, n {m['n']})")
    if out is not None:
        click.echo(f"weights written to {out}")


@click.command("replicate")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--var", "var", required=True, help="Variable.")
@click.option("--level", "level_value", required=True, help="Level whose share is estimated.")
@click.option("--by", default=None, help="Estimate within each group of this variable, and "
                                         "test the association.")
@click.option("--type", "rep_type", required=True,
              help=f"Replication method: {', '.join(REPLICATE_TYPES)} (REP_001 otherwise).")
@click.option("--replicates", default=None,
              help="Replicate-weight columns: a pattern such as 'rw*' or names separated by "
                   "commas. Without it, the design (--strata, --cluster, --fpc) is converted "
                   f"({', '.join(CONVERSION_TYPES)}).")
@click.option("--weight", default=None, help="Column of full-sample weights.")
@click.option("--strata", default=None, help="Column of strata (conversion only).")
@click.option("--cluster", default=None, help="Column of PSUs (conversion only).")
@click.option("--fpc", default=None, help="Column of fpc (conversion only).")
@click.option("--rho", default=None, type=float, help="Fay's coefficient.")
@click.option("--scale", default=None, type=float, help="Variance scale (as R's svrepdesign).")
@click.option("--rscales", default=None, help="Replicate scales, separated by commas.")
@click.option("--mse", is_flag=True, help="Centre on the full-sample estimate.")
@click.option("--ci", "ci_method", required=True, type=click.Choice(REPLICATE_CI_METHODS),
              help="Interval method (R's svyciprop).")
@click.option("--conf-level", "conf_level", default=0.95, show_default=True, type=float)
@json_option(help_text="Print JSON instead of text; an error is a JSON object too.")
def replicate(file: str, var: str, level_value: str, by: str | None, rep_type: str,
              replicates: str | None, weight: str | None, strata: str | None,
              cluster: str | None, fpc: str | None, rho: float | None, scale: float | None,
              rscales: str | None, mse: bool, ci_method: str, conf_level: float,
              as_json: bool) -> None:
    """Share of VAR = LEVEL with a replicate-weight design (R's svrepdesign, svyciprop).

    \b
    Example:
      pulsecheck replicate schools.csv --var sch.wide --level Yes --by stype \\
          --type JK1 --replicates 'rw*' --weight pw --scale 0.9155 --ci logit
    """
    frame = read_table(file)
    _require(frame, var, by)
    if replicates:
        names = [c.strip() for c in replicates.split(",") if c.strip()]
        columns = tuple(c for pattern in names
                        for c in (fnmatch.filter(map(str, frame.columns), pattern)
                                  if any(ch in pattern for ch in "*?[") else [pattern]))
        try:
            parsed = tuple(float(v) for v in rscales.split(",")) if rscales else None
        except ValueError as error:
            raise PulsecheckError("CLI_003", option="--rscales", value=rscales,
                                  expected="numbers separated by commas") from error
        resolved = resolve_replicates(frame, ReplicateDesign(
            replicates=columns, type=rep_type, weights=weight, rho=rho, scale=scale,
            rscales=parsed, mse=mse))
        described = f"{rep_type} replicate weights ({len(columns)} columns)"
    else:
        resolved = replicates_from_design(
            frame, SurveyDesign(weights=weight, strata=strata, cluster=cluster, fpc=fpc),
            rep_type, fay_rho=rho or 0.0)
        described = f"{resolved.type} replicates of the design ({resolved.n_replicates})"
    # A misspelt level is an error naming the answers, never a share of 0.
    require_level(frame[var].astype(str)[frame[var].notna()].tolist(), var, str(level_value))
    answered = frame[var].notna().to_numpy()
    target = str(level_value)
    y_codes = np.where(answered, np.where(frame[var].astype(str).to_numpy() == target, 1, 0),
                       -1)
    if by is not None:
        col_codes, groups = _codes(frame[by])
    else:
        col_codes, groups = np.zeros(len(frame), dtype=np.int64), []
    # Row 0: the level; row 1: any other answer; -1: blank (left out of the base).
    row_codes = np.where(y_codes == 1, 0, np.where(y_codes == 0, 1, -1))
    table = replicate_crosstab(row_codes, col_codes, 2, max(len(groups), 1), resolved,
                               method=ci_method, level=conf_level)
    shown = table[table["row"] == 0]
    result: dict[str, Any] = {"var": var, "level": level_value, "design": described,
                              "design_df": replicate_df(resolved), "method": ci_method,
                              "conf_level": conf_level, "groups": []}
    for cell in shown.itertuples():
        if by is None and cell.col >= 0:
            continue
        result["groups"].append({
            "group": "All" if cell.col < 0 else groups[cell.col], "n": cell.base_n,
            "estimate": _number(cell.share), "se": _number(cell.se),
            "ci": [_number(cell.ci_low), _number(cell.ci_high)], "design_df": cell.df,
            "method": cell.ci_method, "warnings": [w for w in cell.warnings.split("; ") if w]})
    if by is not None and len(groups) >= 2:
        test = replicate_chisq(row_codes, col_codes, 2, len(groups), resolved,
                               statistic="F")
        result["test"] = {k: _number(v) for k, v in test.as_dict().items()}
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"{var} = {level_value} — {described}, design df {result['design_df']}; "
               f"{ci_method} interval, {conf_level:.0%}")
    click.echo(f"{'group':<14}{'n':>6}{'estimate':>11}{'se':>9}{'low':>9}{'high':>9}"
               f"{'df':>6}  method")
    for g in result["groups"]:
        low, high = (v if v is not None else float("nan") for v in g["ci"])
        click.echo(f"{g['group']!s:<14}{g['n']:>6}{100 * g['estimate']:>10.2f}%"
                   f"{100 * g['se']:>8.2f}%{100 * low:>8.2f}%{100 * high:>8.2f}%"
                   f"{g['design_df']:>6.0f}  {g['method']}")
        for warning in g["warnings"]:
            click.echo(f"  warning: {warning}")
    if "test" in result:
        t = result["test"]
        click.echo(f"Rao-Scott F: F = {t['statistic']:.4f} on {t['df']:.3f} and "
                   f"{t['ddf']:.2f} df, p = {t['p_value']:.4g}")
