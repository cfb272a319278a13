"""``pulsecheck crosstab``, ``proportion`` and ``mean``: the statistics engine from the shell.

Each reads a CSV, XLSX or SAV file, takes the design as options (as R's ``svydesign``:
``--cluster dnum,snum --fpc fpc1,fpc2`` for a two-stage design, ``--lonely-psu`` for R's
``survey.lonely.psu``) and prints a readable table, or JSON with ``--json`` for scripts and
cross-checks against other software.

Levels are shown in the instrument's order when the instrument is known: given with
``--instrument``, or found through the ``run.json`` of the run folder when the file is a
run's ``internal/partnerships.csv``. Otherwise (or for a column the instrument does not
describe) they are the distinct values found in the file, sorted; ``--row-order`` and
``--col-order`` set an order explicitly.
"""

from __future__ import annotations

import difflib
import json
import math
from pathlib import Path
from typing import Any, Sequence

import click
import numpy as np
import pandas as pd

from pipeline.cli.options import json_option
from pipeline.errors import PulsecheckError
from pipeline.stats import cells
from pipeline.stats.design import LONELY_PSU_RULES, SurveyDesign, design_df, resolve_design
from pipeline.stats.estimates import Estimate, mean_estimate, quantile_estimate, total_estimate
from pipeline.stats.intervals import proportion_interval
from pipeline.stats.methods import ADJUST_METHODS, CI_METHODS
from pipeline.stats.tabulate import crosstab_matrices, level_key

#: ``crosstab --tests`` names → the engine's tests (:data:`pipeline.stats.cells.TABLE_TESTS`).
CLI_TESTS = {"pearson": "pearson", "yates": "pearson_yates", "g2": "lr", "fisher": "fisher",
             "rao-scott": "rao_scott_f", "rao-scott-chisq": "rao_scott_chisq",
             "wald": "wald", "adjwald": "adj_wald", "trend": "trend"}


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


def _levels(series: pd.Series, order: Sequence[str] | None = None) -> list[Any]:
    """The distinct values of ``series``: those named in ``order`` first, in that order,
    then the others sorted (numerically when they are numbers)."""
    values = series.dropna().unique().tolist()
    keys: dict[str | None, Any] = {}
    for v in values:
        keys.setdefault(level_key(v), v)
    first = [keys[k] for k in (level_key(o) for o in order or ()) if k in keys]
    rest = [k for k in keys if k not in {level_key(o) for o in order or ()}]
    try:
        rest = sorted(rest, key=lambda k: (float(k), k))
    except ValueError:
        rest = sorted(rest)
    return first + [keys[k] for k in rest]


def require_columns(frame: pd.DataFrame, names: Sequence[str | None]) -> None:
    """Raise ``STAT_001`` for the first name that is not a column, naming the closest
    columns first (a misspelt ``api_00`` suggests ``api00``)."""
    columns = [str(c) for c in frame.columns]
    for name in names:
        if name is None or name in frame.columns:
            continue
        close = difflib.get_close_matches(name, columns, n=3, cutoff=0.6)
        listed = ", ".join(columns[:20]) + (", …" if len(columns) > 20 else "")
        present = listed + (f"; did you mean {' or '.join(repr(c) for c in close)}?"
                            if close else "")
        raise PulsecheckError("STAT_001", name=name, present=present)


def require_level(values: Sequence[Any], name: str, level: str,
                  known: Sequence[Any] = ()) -> None:
    """Raise ``STAT_011`` when ``level`` is neither an answer in ``values`` nor a level the
    instrument lists (``known``): a misspelt level would otherwise be a share of 0.

    ``values`` and ``known`` are compared as :func:`level_key` makes them.
    """
    target = level_key(level)
    present = sorted({level_key(v) for v in values if not pd.isna(v)}, key=str)
    if target in present or target in {level_key(k) for k in known}:
        return
    words = [str(p) for p in present]
    close = difflib.get_close_matches(str(target), words, n=3, cutoff=0.6)
    listed = ", ".join(repr(w) for w in words[:20]) + (", …" if len(words) > 20 else "")
    listed = (listed or "none") + (f"; did you mean {' or '.join(repr(c) for c in close)}?"
                                   if close else "")
    raise PulsecheckError("STAT_011", name=name, level=level, present=listed)


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _design(weight: str | None, strata: str | None, cluster: str | None,
            fpc: str | None, lonely_psu: str = "fail",
            adjust_domain_lonely: bool = False) -> SurveyDesign:
    clusters, fpcs = _split(cluster), _split(fpc)
    return SurveyDesign(weights=weight, strata=strata,
                        cluster=(clusters[0] if len(clusters) == 1 else clusters) or None,
                        fpc=(fpcs[0] if len(fpcs) == 1 else fpcs) or None,
                        lonely_psu=lonely_psu, adjust_domain_lonely=adjust_domain_lonely)


def _design_options(func):
    for option in reversed((
        click.option("--weight", "weight", default=None, help="Column of sampling weights."),
        click.option("--strata", default=None, help="Column of strata (first stage)."),
        click.option("--cluster", default=None,
                     help="Column of primary sampling units, or one column per stage "
                          "separated by commas (dnum,snum), as svydesign(id=~dnum+snum)."),
        click.option("--fpc", default=None,
                     help="Column of finite-population corrections (population sizes or "
                          "sampling fractions), one per stage separated by commas."),
        click.option("--lonely-psu", "lonely_psu", default="fail", show_default=True,
                     type=click.Choice(LONELY_PSU_RULES),
                     help="Rule for a stratum with one PSU (R's survey.lonely.psu)."),
        click.option("--adjust-domain-lonely", "adjust_domain_lonely", is_flag=True,
                     help="Apply the rule also to a domain with one PSU in a stratum (R's "
                          "survey.adjust.domain.lonely)."),
    )):
        func = option(func)
    return func


def instrument_orders(file: str, instrument: str | None) -> dict[str, list[str]]:
    """Level order of each column the instrument describes: a select-one question's
    choices (as the file holds them: names or codes) and the phase columns' groups.

    The instrument is ``instrument`` when given; else, for a run's
    ``internal/partnerships.csv``, the one its ``run.json`` names (found from the working
    directory or a folder above the run). Without one the result is empty.
    """
    from pipeline.ingest.readers import read_instrument

    folder = Path(instrument) if instrument else None
    if folder is None:
        path = Path(file).resolve()
        run_json = path.parent.parent / "run.json"
        if path.parent.name != "internal" or not run_json.exists():
            return {}
        try:
            relative = json.loads(run_json.read_text(encoding="utf-8"))["instrument"]["path"]
        except (ValueError, KeyError, TypeError):
            return {}
        candidates = [Path(relative), *(parent / relative for parent in run_json.parents)]
        folder = next((c for c in candidates if c.is_dir()), None)
        if folder is None:
            return {}
    elif not folder.is_dir():
        raise PulsecheckError("CLI_001", path=str(folder))
    model = read_instrument(folder)
    orders: dict[str, list[str]] = {}
    for question in model.questions:
        if question.type == "select_one":
            choices = model.choices_for(question)
            orders[question.name] = [c.name for c in choices]
            orders[question.name + "\0codes"] = [c.code for c in choices]
    phases = [*model.phase_order, model.unclassified]
    for column in ("phase_group", "phase_self", "phase_criteria"):
        orders.setdefault(column, phases)
    return orders


def _held_as_codes(name: str, series: pd.Series, orders: dict[str, list[str]]) -> bool:
    """Whether the file holds ``name``'s answers as the instrument's codes, not names."""
    names, codes = orders.get(name), orders.get(name + "\0codes")
    present = {level_key(v) for v in series.dropna().unique().tolist()}
    return bool(codes) and present <= {level_key(c) for c in codes} and \
        not present <= {level_key(c) for c in names or ()}


def _instrument_levels(name: str, series: pd.Series,
                       orders: dict[str, list[str]]) -> list[str]:
    """Every level the instrument lists for ``name``, as the file holds them."""
    held = name + "\0codes" if _held_as_codes(name, series, orders) else name
    return list(orders.get(held) or ())


def _order_for(name: str, series: pd.Series, explicit: str | None,
               orders: dict[str, list[str]]) -> list[Any]:
    if explicit:
        return _levels(series, _split(explicit))
    return _levels(series, _instrument_levels(name, series, orders))


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
@click.option("--tests", "tests", default=None,
              help="Tests to print, separated by commas: " + ", ".join(CLI_TESTS)
                   + " (default: pearson and fisher, and rao-scott with a design).")
@click.option("--pairwise", "pairwise", default=None, type=click.Choice(ADJUST_METHODS),
              help="Pairwise column-proportion tests within each row, with this p-value "
                   "adjustment.")
@click.option("--alpha", "alpha", default=0.05, show_default=True, type=float,
              help="Significance level of the pairwise tests.")
@click.option("--deff", "deff", is_flag=True,
              help="Design effect and effective n of each column proportion.")
@click.option("--instrument", "instrument", default=None,
              help="Instrument folder giving the level order (default: the run's, for a "
                   "run's internal/partnerships.csv).")
@click.option("--row-order", "row_order", default=None,
              help="Row levels in order, separated by commas (others follow, sorted).")
@click.option("--col-order", "col_order", default=None,
              help="Column levels in order, separated by commas (others follow, sorted).")
@json_option(help_text="Print JSON instead of a table; an error is a JSON object too.")
def crosstab(file: str, row: str, col: str, weight: str | None, strata: str | None,
             cluster: str | None, fpc: str | None, lonely_psu: str,
             adjust_domain_lonely: bool, tests: str | None, pairwise: str | None,
             alpha: float, deff: bool, instrument: str | None, row_order: str | None,
             col_order: str | None, as_json: bool) -> None:
    """Two-way table of ROW by COL with counts, proportions and tests.

    \b
    Tests (--tests): pearson, yates (continuity-corrected), g2 (likelihood ratio) and
    fisher on the unweighted counts; rao-scott (second-order F, R's svychisq default),
    rao-scott-chisq, wald and adjwald on the design; trend (Cochran-Armitage across the
    columns in order, for each row; unweighted samples only). Without --tests: pearson and
    fisher, and rao-scott with a weight or design.

    \b
    Example:
      pulsecheck crosstab data.csv --row phase --col sector --weight w --json
      pulsecheck crosstab apiclus2.csv --row sch.wide --col stype \\
          --cluster dnum,snum --fpc fpc1,fpc2 --tests rao-scott,wald --pairwise holm
    """
    frame = read_table(file)
    require_columns(frame, (row, col))
    requested = _split(tests)
    unknown = [t for t in requested if t not in CLI_TESTS]
    if unknown:
        raise PulsecheckError("STAT_004", what="test", value=unknown[0],
                              supported=", ".join(CLI_TESTS))
    design = _design(weight, strata, cluster, fpc, lonely_psu, adjust_domain_lonely)
    orders = instrument_orders(file, instrument) if (instrument or not (row_order and
                                                                        col_order)) else {}
    row_levels = _order_for(row, frame[row], row_order, orders)
    col_levels = _order_for(col, frame[col], col_order, orders)
    result = crosstab_matrices(frame, row, col, row_levels=row_levels, col_levels=col_levels,
                               design=design)
    if requested or pairwise or deff:
        extra = _crosstab_extras(frame, row, col, row_levels, col_levels, design, requested,
                                 pairwise, alpha, deff)
        if requested:
            result["tests"] = extra["tests"]
        for key in ("pairwise", "deff", "n_effective"):
            if key in extra:
                result[key] = extra[key]
    if as_json:
        click.echo(json.dumps(_clean(result), indent=2))
        return
    _print_crosstab(result)


def _crosstab_extras(frame: pd.DataFrame, row: str, col: str, row_levels: list[Any],
                     col_levels: list[Any], design: SurveyDesign, requested: Sequence[str],
                     pairwise: str | None, alpha: float, deff: bool) -> dict[str, Any]:
    """The asked-for tests (each as a test-result dict), pairwise tests and design effects."""
    resolved = resolve_design(frame, design)
    rc = cells.level_codes(frame[row], row_levels, row)
    cc = cells.level_codes(frame[col], col_levels, col)
    ok = (rc >= 0) & (cc >= 0)
    shape = (len(row_levels), len(col_levels))
    counts = cells.tally(rc[ok], cc[ok], shape).astype(float)
    out: dict[str, Any] = {}
    if requested:
        results: dict[str, Any] = {}
        for name in requested:
            if name == "trend":
                continue
            try:
                [res] = cells.run_tests([CLI_TESTS[name]], counts,
                                        lambda: (np.where(ok, rc, -1), np.where(ok, cc, -1)),
                                        resolved)
                results[name] = res.as_dict()
            except PulsecheckError as error:
                # One test that does not apply (Yates beyond 2×2) does not stop the others.
                results[name] = {"test": CLI_TESTS[name], "method": "not tested",
                                 "statistic": None, "df": None, "ddf": None,
                                 "p_value": None, "warnings": f"not tested: {error.message}"}
        if "trend" in requested:
            try:
                trend = cells.trend_tests(counts, counts.sum(axis=0),
                                          list(range(1, shape[1] + 1)), resolved)
                results["trend"] = [{"row_level": level_key(row_levels[i]), **t.as_dict()}
                                    for i, t in trend]
            except PulsecheckError as error:
                results["trend"] = {"test": "trend", "warnings": f"not tested: {error.message}"}
        out["tests"] = results
    if pairwise:
        masks = [ok & (cc == j) for j in range(shape[1])]
        frame_pairs = cells.pairwise_tests(
            counts, counts.sum(axis=0),
            lambda: [(rc == i).astype(float) for i in range(shape[0])], masks, resolved,
            pairwise, alpha, ok)
        frame_pairs = frame_pairs.assign(
            row_level=[level_key(row_levels[i]) for i in frame_pairs["row"]],
            col_a=[level_key(col_levels[j]) for j in frame_pairs["col_a"]],
            col_b=[level_key(col_levels[j]) for j in frame_pairs["col_b"]],
            higher=[level_key(col_levels[j]) if j >= 0 else None
                    for j in frame_pairs["higher"]])
        out["pairwise"] = frame_pairs.drop(columns=["row"]).to_dict(orient="records")
    if deff:
        deffs, n_eff = [], []
        for i in range(shape[0]):
            line, line_n = [], []
            for j in range(shape[1]):
                domain = ok & (cc == j)
                est = mean_estimate((rc == i).astype(float), domain, resolved, deff=True)
                line.append(est.deff)
                line_n.append(est.n_effective)
            deffs.append(line)
            n_eff.append(line_n)
        out["deff"], out["n_effective"] = deffs, n_eff
    return out


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
    if all(isinstance(t, (list, dict)) and ("test" in t or isinstance(t, list))
           for t in tests.values()):
        _print_tests(tests)
    else:
        _print_headline_tests(tests)
    if "deff" in result:
        click.echo("")
        click.echo("Design effects of the column proportions (effective n)")
        for i, r in enumerate(rows):
            parts = [f"{_fmt(d, '.3f')} ({_fmt(n, '.1f')})" for d, n in
                     zip(result["deff"][i], result["n_effective"][i], strict=True)]
            click.echo(f"{r!s:<{width}}" + "".join(f"{p:>{cell}}" for p in parts))
    if "pairwise" in result:
        click.echo("")
        click.echo("Pairwise column tests")
        for rec in result["pairwise"]:
            flag = f"  higher: {rec['higher']}" if rec["significant"] else ""
            click.echo(f"  {rec['row_level']}: {rec['col_a']} vs {rec['col_b']}: "
                       f"p = {_fmt(rec['p_value'], '.4g')}, adjusted "
                       f"{_fmt(rec['p_adjusted'], '.4g')}{flag}")


def _fmt(value: Any, spec: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        width = "".join(ch for ch in spec.split(".", maxsplit=1)[0] if ch.isdigit())
        return "-".rjust(int(width) if width else 1)
    return format(value, spec)


def _print_tests(tests: dict[str, Any]) -> None:
    for name, test in tests.items():
        for item in test if isinstance(test, list) else [test]:
            label = f"{name} ({item['row_level']})" if "row_level" in item else name
            if item.get("p_value") is None or not math.isfinite(item.get("p_value", math.nan)):
                click.echo(f"{label}: {item.get('method', 'not tested')}")
            else:
                ddf = item.get("ddf")
                dfs = f"{_fmt(item['df'], '.3g')}" + (
                    f" and {_fmt(ddf, '.4g')}" if ddf is not None and
                    math.isfinite(ddf) else "")
                click.echo(f"{label}: {item['method']}: statistic = "
                           f"{_fmt(item['statistic'], '.4f')} on {dfs} df, "
                           f"p = {_fmt(item['p_value'], '.4g')}")
            if item.get("warnings"):
                click.echo(f"  warning: {item['warnings']}")


def _print_headline_tests(tests: dict[str, Any]) -> None:
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
@click.option("--deff", "deff", is_flag=True,
              help="Also the design effect and effective n (design-based methods).")
@click.option("--instrument", "instrument", default=None,
              help="Instrument folder giving the order of the --by groups.")
@json_option(help_text="Print JSON instead of text; an error is a JSON object too.")
def proportion(file: str, var: str, level_value: str, by: str | None, weight: str | None,
               strata: str | None, cluster: str | None, fpc: str | None, lonely_psu: str,
               adjust_domain_lonely: bool, ci_method: str, conf_level: float, deff: bool,
               instrument: str | None, as_json: bool) -> None:
    """Share of respondents answering VAR with LEVEL, with a confidence interval.

    The base is the respondents with an answer to VAR (blanks are left out), overall and
    within each --by group; domain estimates keep the whole design for their variance.

    \b
    Example:
      pulsecheck proportion data.csv --var sch_wide --level Yes --weight pw \\
          --strata stype --fpc fpc --ci logit --json
    """
    frame = read_table(file)
    require_columns(frame, (var, by))
    orders = instrument_orders(file, instrument)
    require_level(frame[var].tolist(), var, level_value,
                  _instrument_levels(var, frame[var], orders))
    design = _design(weight, strata, cluster, fpc, lonely_psu, adjust_domain_lonely)
    resolved = resolve_design(frame, design)
    keys = [level_key(v) if not pd.isna(v) else None for v in frame[var].tolist()]
    answered = np.asarray([k is not None for k in keys])
    target = level_key(level_value)
    y = np.asarray([1.0 if k == target else 0.0 for k in keys])

    def one(domain: np.ndarray) -> dict[str, Any]:
        interval = proportion_interval(y, domain, resolved, method=ci_method,
                                             level=conf_level)
        out = {"estimate": interval.estimate, "se": interval.se,
               "ci": [interval.low, interval.high], "method": interval.method,
               "conf_level": conf_level, "design_df": design_df(resolved, domain),
               "n": int(domain.sum()), "warnings": list(interval.warnings)}
        if deff:
            effect = mean_estimate(y, domain, resolved, deff=True)
            out["deff"], out["n_effective"] = effect.deff, effect.n_effective
        return out

    result: dict[str, Any] = {"var": var, "level": level_value, "design": design.describe(),
                              **one(answered)}
    if by is not None:
        groups = []
        by_keys = [level_key(v) if not pd.isna(v) else None for v in frame[by].tolist()]
        for g in _order_for(by, frame[by], None, orders):
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


@click.command("mean")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--var", "var", required=True, help="Numeric variable.")
@click.option("--by", "by", default=None, help="Estimate within each group of this variable.")
@_design_options
@click.option("--total", "with_total", is_flag=True, help="Also the total (R's svytotal).")
@click.option("--quantiles", "quantiles", default=None,
              help="Quantiles to estimate with Woodruff intervals, separated by commas "
                   "(e.g. 0.25,0.5,0.75; R's svyquantile defaults).")
@click.option("--deff", "deff", is_flag=True, help="Design effect and effective n.")
@click.option("--conf-level", "conf_level", default=0.95, show_default=True, type=float,
              help="Confidence level.")
@click.option("--instrument", "instrument", default=None,
              help="Instrument folder giving the order of the --by groups.")
@json_option(help_text="Print JSON instead of text; an error is a JSON object too.")
def mean(file: str, var: str, by: str | None, weight: str | None, strata: str | None,
         cluster: str | None, fpc: str | None, lonely_psu: str, adjust_domain_lonely: bool,
         with_total: bool, quantiles: str | None, deff: bool, conf_level: float,
         instrument: str | None, as_json: bool) -> None:
    """Mean of a numeric VAR, overall and by group, with SE and a t interval.

    Blank or non-numeric values are left out of the base (their count is n_missing);
    domain estimates keep the whole design for their variance, as R's svyby.

    \b
    Example:
      pulsecheck mean apiclus2.csv --var api00 --by stype \\
          --cluster dnum,snum --fpc fpc1,fpc2 --deff --total --quantiles 0.5
    """
    frame = read_table(file)
    require_columns(frame, (var, by))
    try:
        qs = [float(q) for q in _split(quantiles)]
    except ValueError as error:
        raise PulsecheckError("STAT_008", name="--quantiles", value=quantiles,
                              expected="numbers in [0, 1] separated by commas") from error
    design = _design(weight, strata, cluster, fpc, lonely_psu, adjust_domain_lonely)
    resolved = resolve_design(frame, design)
    values = cells.numbers(frame[var])
    answered = ~np.isnan(values)
    y = np.where(answered, values, 0.0)

    def estimate_dict(e: Estimate) -> dict[str, Any]:
        out = {"estimate": e.estimate, "se": e.se, "ci": [e.low, e.high], "df": e.df,
               "n": e.n, "warnings": list(e.warnings)}
        if deff and e.statistic != "quantile":
            out["deff"], out["n_effective"] = e.deff, e.n_effective
        return out

    def one(domain: np.ndarray) -> dict[str, Any]:
        base = domain & answered
        out = {"n_missing": int((domain & ~answered).sum()),
               "mean": estimate_dict(mean_estimate(y, base, resolved, level=conf_level,
                                                   deff=deff))}
        if with_total:
            out["total"] = estimate_dict(total_estimate(y, base, resolved, level=conf_level,
                                                        deff=deff))
        if qs:
            out["quantiles"] = {str(q): estimate_dict(
                quantile_estimate(y, base, resolved, q, level=conf_level)) for q in qs}
        return out

    everyone = np.ones(len(frame), dtype=bool)
    result: dict[str, Any] = {"var": var, "design": design.describe(),
                              "conf_level": conf_level, **one(everyone)}
    if by is not None:
        by_keys = [level_key(v) if not pd.isna(v) else None for v in frame[by].tolist()]
        orders = instrument_orders(file, instrument)
        result["by"] = by
        result["by_groups"] = [
            {"group": level_key(g),
             **one(np.asarray([k == level_key(g) for k in by_keys]))}
            for g in _order_for(by, frame[by], None, orders)]
    if as_json:
        click.echo(json.dumps(_clean(result), indent=2))
        return
    click.echo(f"{var} — {result['design']}; {conf_level:.0%} intervals")
    rows = [("All", result)] + [(g["group"], g) for g in result.get("by_groups", [])]
    header = f"{'group':<14}{'statistic':<12}{'n':>6}{'estimate':>16}{'se':>14}{'low':>16}" \
        f"{'high':>16}{'df':>7}"
    click.echo(header + ("    deff   n_eff" if deff else ""))
    for name, r in rows:
        lines = [("mean", r["mean"])]
        if "total" in r:
            lines.append(("total", r["total"]))
        lines += [(f"q{q}", e) for q, e in r.get("quantiles", {}).items()]
        for label, e in lines:
            text = (f"{name!s:<14}{label:<12}{e['n']:>6}{_fmt(e['estimate'], '16.4f')}"
                    f"{_fmt(e['se'], '14.4f')}{_fmt(e['ci'][0], '16.4f')}"
                    f"{_fmt(e['ci'][1], '16.4f')}{_fmt(e['df'], '7.0f')}")
            if deff and "deff" in e:
                text += f"{_fmt(e['deff'], '8.3f')}{_fmt(e['n_effective'], '8.1f')}"
            click.echo(text)
            for warning in e["warnings"]:
                click.echo(f"  warning: {warning}")
