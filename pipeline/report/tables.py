"""Report tables: every table of the specification, overall and by phase, and the findings.

Pure: analysed partnerships, the instrument and the report specification in; frozen results
out. The statistics come from :mod:`pipeline.stats` (tabulate, intervals, tests); nothing
here knows a question, table or phase name — all of it comes from the specification.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import numpy as np
import pandas as pd

from pipeline.columns import PHASE_COLUMN
from pipeline.errors import PulsecheckError
from pipeline.model.instrument import Instrument
from pipeline.model.report_spec import ReportSpec, TableSpec
from pipeline.model.schemas import TABLE_TESTS
from pipeline.stages.derive import multi_items, single_levels
from pipeline.stages.results import ReportTable, ReportTables
from pipeline.stats import tabulate
from pipeline.stats.calibrate import Calibration
from pipeline.stats.comparisons import adjust_pvalues
from pipeline.stats.contingency import cochran_armitage, pearson_chisq
from pipeline.stats.design import SurveyDesign, design_from_settings
from pipeline.stats.disclosure import (
    DisclosureRule,
    Link,
    protect_linked,
    published_tests,
    published_view,
    suppress_table,
)
from pipeline.stats.methods import TestResult
from pipeline.stats.replicate import REPLICATE_CI_METHODS, replicate_design_from_settings

#: The banner column used for by-phase tables: the phase, blank when unclassified.
BANNER = "_phase_banner"
#: Columns of the findings table.
FINDING_COLUMNS = ("table_id", "row_var", "item", "item_label", "phase", "rate", "n", "base_n",
                   "other_phases", "other_rates", "difference", "test", "statistic", "df",
                   "p_value", "q_value", "adjust", "min_difference", "alpha", "distinctive")


def _with_banner(frame: pd.DataFrame, phase: pd.Series, order: Sequence[str]) -> pd.DataFrame:
    labels = phase.astype(str)
    # Categorical, so that every table finds each partnership's phase without matching text.
    banner = pd.Series(pd.Categorical(labels.where(labels.isin(order)), categories=list(order)),
                       index=phase.index)
    return frame.assign(**{BANNER: banner, PHASE_COLUMN: labels})


def _order_items(table: pd.DataFrame) -> pd.DataFrame:
    """Rank item rows by their overall percentage (highest first), keeping other rows last."""
    overall = table[(table["col_level"] == tabulate.ALL)
                    & table["row_type"].isin(["item", "level"])]
    ranking = overall.sort_values("pct", ascending=False, kind="stable")["row_level"].tolist()
    rank = {level: i + 1 for i, level in enumerate(ranking)}
    ranked = table.assign(rank=table["row_level"].map(rank).astype("Int64"))
    order = ranked["rank"].fillna(len(rank) + 1).astype(int)
    return ranked.assign(_order=order).sort_values(["_order"], kind="stable") \
        .drop(columns="_order").reset_index(drop=True)


def _order_published_items(table: pd.DataFrame) -> pd.DataFrame:
    """Items ranked by their published overall percentage; items whose overall count is
    hidden come after every printed one, in label order (assumption A-DISC-4).

    Listed by the true share, a hidden overall count would lie between its neighbours'.
    """
    overall = table[(table["col_level"] == tabulate.ALL)
                    & table["row_type"].isin(["item", "level"])]
    pct = pd.to_numeric(overall["pct"], errors="coerce")
    shown = overall[pct.notna()].assign(_pct=pct[pct.notna()]).sort_values(
        "_pct", ascending=False, kind="stable")["row_level"].tolist()
    hidden = overall[pct.isna()].sort_values(["row_label", "row_level"], kind="stable")
    ranking = shown + [level for level in hidden["row_level"] if level not in shown]
    rank = {level: i + 1 for i, level in enumerate(ranking)}
    ranked = table.assign(rank=table["row_level"].map(rank).astype("Int64"))
    order = ranked["rank"].fillna(len(rank) + 1).astype(int)
    return ranked.assign(_order=order).sort_values(["_order"], kind="stable") \
        .drop(columns="_order").reset_index(drop=True)


def _design(spec: ReportSpec, weights: str | None, calibration: Calibration | None = None
            ) -> dict:
    """The sampling design of ``[settings.design]`` (none: each partnership counts once),
    weighted by the wave's calibrated weights when it is calibrated: with replicate weights
    when ``[settings.design.replicates]`` asks for them, and with the variance after
    calibration when the calibration is given."""
    replicates = getattr(spec.design, "replicates", None)
    if replicates is not None:
        return dict(design=replicate_design_from_settings(spec.design))
    if spec.design is None:
        design = SurveyDesign(weights=weights) if weights else None
    else:
        design = design_from_settings(spec.design)
        design = replace(design, weights=weights) if weights else design
    if design is None:
        return {}
    return dict(design=design, calibration=calibration) if calibration is not None \
        else dict(design=design)


def table_design(spec: ReportSpec) -> object | None:
    """The design of ``[settings.design]`` as the table functions take it (replicate
    weights when asked), or ``None`` when the tables are an unweighted simple random
    sample."""
    if spec.design is None:
        return None
    if getattr(spec.design, "replicates", None) is not None:
        return replicate_design_from_settings(spec.design)
    design = design_from_settings(spec.design)
    return None if design.is_simple else design


def _designed(spec: ReportSpec, weights: str | None) -> bool:
    """Whether the tables are computed under a design (weights, strata, clusters, fpc or
    replicates) rather than as an unweighted simple random sample."""
    if weights:
        return True
    return spec.design is not None and (
        getattr(spec.design, "replicates", None) is not None
        or not design_from_settings(spec.design).is_simple)


def check_design_settings(spec: ReportSpec, calibrated: bool) -> None:
    """Refuse report settings the tables' design cannot compute, before any table is.

    Raises
    ------
    PulsecheckError
        ``REP_003`` for replicate weights in a calibrated wave (calibrating replicate
        weights is not offered: supply calibrated replicate columns instead);
        ``STAT_004`` for an interval method replicate weights do not give (the profile
        ``likelihood``); ``STAT_009`` for a trend test across the phases under a design (the
        Cochran–Armitage test is defined for unweighted counts; R's ``survey`` has no
        design-based version of it).
    """
    replicates = getattr(spec.design, "replicates", None)
    if replicates is not None:
        if calibrated:
            raise PulsecheckError("REP_003", problem="wave.toml calibrates the wave and "
                                  "tables.toml gives replicate weights; calibrate the "
                                  "replicate weights before and give them as columns, or "
                                  "remove one of the two")
        if spec.ci_method not in REPLICATE_CI_METHODS:
            raise PulsecheckError("STAT_004", what="interval method with replicate weights",
                                  value=spec.ci_method,
                                  supported=", ".join(REPLICATE_CI_METHODS))
    if _designed(spec, "weights" if calibrated else None):
        trended = [t.id for t in spec.tables if t.trend and t.by_phase and t.kind == "single"]
        if trended:
            raise PulsecheckError("STAT_009", method=f"Cochran-Armitage trend (table "
                                                     f"'{trended[0]}', trend = true)")


def variance_method(spec: ReportSpec, weights: str | None,
                    calibration: Calibration | None = None) -> str:
    """How the tables' standard errors, intervals and tests were computed, in a sentence
    (empty for an unweighted simple random sample, which the methods already describe)."""
    replicates = getattr(spec.design, "replicates", None)
    if replicates is not None:
        design = replicate_design_from_settings(spec.design)
        return (f"Standard errors, intervals and tests from replicate weights "
                f"({design.describe()}), as R's svrepdesign.")
    if not _designed(spec, weights):
        return ""
    design = design_from_settings(spec.design)
    if calibration is not None and calibration.steps:
        return (f"Standard errors, intervals and tests by Taylor linearisation after "
                f"calibration ({calibration.method}: the residuals of the scores from the "
                f"calibration, as R's svymean on the calibrated design), design "
                f"{design.describe()}.")
    return (f"Standard errors, intervals and tests by Taylor linearisation, design "
            f"{replace(design, weights=design.weights or weights).describe()}.")


def build_table(frame: pd.DataFrame, table: TableSpec, instrument: Instrument,
                spec: ReportSpec, weights: str | None = None,
                calibration: Calibration | None = None) -> ReportTable:
    """Compute one table of the specification (``frame`` has the banner column; ``weights``
    names its column of calibrated weights, when the wave is weighted, and ``calibration``
    is the calibration that made them, whose variance the tables then use)."""
    order = list(instrument.phase_order)
    # An instrument without phases (no self-placement question) has only overall figures.
    by_phase = table.by_phase and bool(order)
    banner = dict(col=BANNER, col_levels=order, col_labels=order) if by_phase else {}
    tests: list[str] = []
    if by_phase and table.kind in ("single", "multi"):
        tests = [TABLE_TESTS[table.test]]
        if table.test == "chisq" and _designed(spec, weights):
            # Under a design the test of association is the design-based one (R svychisq).
            tests = ["rao_scott_f"]
        if table.kind == "single" and table.trend:
            # Phases are ordered, so each level may also get a test for a trend across them.
            tests.append("trend")
    pairwise = dict(pairwise=table.pairwise, alpha=table.pairwise_alpha) if by_phase else {}
    trend = dict(trend_scores=list(range(1, len(order) + 1))) if "trend" in tests else {}
    design = _design(spec, weights, calibration)
    if table.kind == "single":
        if table.row == PHASE_COLUMN:
            levels = [*order, instrument.unclassified]
            labels = levels
        else:
            pairs = single_levels(table.row, instrument, spec)
            levels, labels = [p[0] for p in pairs], [p[1] for p in pairs]
        result = tabulate.single_choice_table(
            frame, table.row, levels=levels, labels=labels, ci_method=spec.ci_method,
            level=spec.level, missing="show" if table.show_missing else "exclude",
            tests=tests, table_id=table.id, **pairwise, **banner, **trend, **design)
    elif table.kind == "multi":
        items = multi_items(table.row, instrument, spec)
        result = tabulate.check_all_table(
            frame, [i.column for i in items], labels=[i.label for i in items],
            row_var=table.row, ci_method=spec.ci_method, level=spec.level, tests=tests,
            table_id=table.id, **pairwise, **banner, **trend, **design)
    else:
        result = tabulate.numeric_summary(frame, table.row, level=spec.level,
                                          table_id=table.id, **banner, **design)
    tidy = result.table
    if table.kind == "multi":
        # Item levels are the instrument's choice (or source question) names.
        names = {i.column: i.name for i in items}
        tidy = tidy.assign(row_level=tidy["row_level"].map(lambda v: names.get(v, v)))
        tests_frame = result.tests.assign(
            row_level=result.tests["row_level"].map(lambda v: names.get(v, v)))
    else:
        tests_frame = result.tests
    if table.sort == "descending" and table.kind in ("single", "multi"):
        tidy = _order_items(tidy)
    # The banner is the phase column with unclassified partnerships blanked; name it as such.
    tidy = tidy.assign(col_var=tidy["col_var"].replace({BANNER: PHASE_COLUMN}))
    tests_frame = tests_frame.assign(col_var=tests_frame["col_var"].replace({BANNER: PHASE_COLUMN}))
    return ReportTable(spec=table, table=tidy, tests=tests_frame)


def _whole(value: float) -> int | None:
    return None if np.isnan(value) else int(value)


def _distinctive_candidates(report: ReportTable, order: Sequence[str]) -> list[dict]:
    """Per item (or level) and phase: the rate there and in the other phases."""
    table = report.table
    rows = table[table["row_type"].isin(["item", "level"]) & table["col_level"].isin(order)]
    # Each item's label and its (count, base, rate) in each phase, items in table order.
    labels: dict[str, str] = {}
    cells: dict[str, dict[str, tuple[float, float, float]]] = {}
    for item, label, phase, n, base_n, pct in zip(
            rows["row_level"], rows["row_label"], rows["col_level"],
            rows["n"].to_numpy(dtype=float), rows["base_n"].to_numpy(dtype=float),
            rows["pct"].to_numpy(dtype=float), strict=True):
        labels.setdefault(item, label)
        cells.setdefault(item, {})[phase] = (n, base_n, pct)
    candidates = []
    for item, by_phase in cells.items():
        if not set(order) <= set(by_phase):
            continue
        counts, bases, rates = (np.array([by_phase[p][k] for p in order], dtype=float)
                                for k in range(3))
        for position, phase in enumerate(order):
            others = [i for i in range(len(order)) if i != position]
            # In a published view a hidden count is blank: its rate, and any difference
            # computed from it, stay blank too.
            difference = rates[position] - np.nanmax(rates[others]) \
                if not np.isnan(counts[[position, *others]]).any() else np.nan
            candidates.append({
                "table_id": report.spec.id, "row_var": report.spec.row, "item": item,
                "item_label": labels[item], "phase": phase,
                "rate": rates[position], "n": _whole(counts[position]),
                "base_n": _whole(bases[position]),
                "other_phases": "; ".join(order[i] for i in others),
                "other_rates": "; ".join("" if np.isnan(counts[i]) else f"{rates[i]:.1f}"
                                         for i in others),
                "difference": difference,
                "_counts": counts, "_bases": bases,
            })
    return candidates


def distinctive_findings(reports: Sequence[ReportTable], spec: ReportSpec,
                         order: Sequence[str]) -> pd.DataFrame:
    """Apply the specification's phase-distinctive rule to the tables it names.

    Every item (a check-all item, or a level of a single-choice table) is tested once for an
    association with phase: Pearson's χ² on the phase × (item, not item) table, or the
    Cochran–Armitage trend test across the ordered phases. The p-values of all items are
    adjusted together (``adjust``, e.g. Benjamini–Hochberg); an item is distinctive for a phase
    when its rate there exceeds every other phase's by at least ``min_difference`` points,
    its q-value is below ``alpha`` and the phase has at least ``min_base`` partnerships.

    Returns
    -------
    pandas.DataFrame
        One row per item and phase (:data:`FINDING_COLUMNS`), ``distinctive`` marking those
        that meet the rule.

    References
    ----------
    Benjamini, Y. and Hochberg, Y. (1995). Controlling the false discovery rate. *JRSS B* 57,
    289–300. Agresti, A. (2013). *Categorical Data Analysis*, 3rd ed., §3.4 (trend test).
    """
    rule = spec.distinctive
    if rule is None:
        return pd.DataFrame(columns=list(FINDING_COLUMNS))
    wanted = [r for r in reports if r.spec.id in rule.tables]
    candidates = [c for r in wanted for c in _distinctive_candidates(r, order)]
    if not candidates:
        return pd.DataFrame(columns=list(FINDING_COLUMNS))
    frame = pd.DataFrame(candidates)
    # One test per item (not per phase): the association of phase with the item.
    tests: dict[tuple[str, str], TestResult] = {}
    for candidate in candidates:
        key = (candidate["table_id"], candidate["item"])
        if key in tests:
            continue
        counts, bases = candidate["_counts"], candidate["_bases"]
        if np.isnan(counts).any() or np.isnan(bases).any():
            # A published view: a test computed from a hidden count would reveal it.
            tests[key] = TestResult(test=rule.test, method="not tested (a count is "
                                          "hidden)", statistic=float("nan"), df=float("nan"),
                                          ddf=float("nan"), p_value=float("nan"))
        elif counts.sum() == 0 or (bases - counts).sum() == 0 or (bases > 0).sum() < 2:
            # Chosen by nobody or by everybody: nothing to test, never distinctive.
            tests[key] = TestResult(test=rule.test, method="not tested",
                                          statistic=float("nan"), df=float("nan"),
                                          ddf=float("nan"), p_value=float("nan"))
        elif rule.test == "trend":
            tests[key] = cochran_armitage(counts, bases, list(range(1, len(order) + 1)))
        else:
            table = np.vstack([counts, bases - counts])
            tests[key] = pearson_chisq(table, continuity=False)
    keys = list(tests)
    q_values = adjust_pvalues([tests[k].p_value for k in keys], method=rule.adjust)
    q_of = dict(zip(keys, q_values, strict=True))
    pairs = list(zip(frame["table_id"], frame["item"], strict=True))
    frame["test"] = [tests[pair].method for pair in pairs]
    frame["statistic"] = [tests[pair].statistic for pair in pairs]
    frame["df"] = [tests[pair].df for pair in pairs]
    frame["p_value"] = [tests[pair].p_value for pair in pairs]
    frame["q_value"] = [q_of[pair] for pair in pairs]
    frame["adjust"] = rule.adjust
    frame["min_difference"] = rule.min_difference
    frame["alpha"] = rule.alpha
    frame["distinctive"] = ((frame["difference"] >= rule.min_difference)
                            & (frame["q_value"] < rule.alpha)
                            & (frame["base_n"] >= rule.min_base))
    return frame[list(FINDING_COLUMNS)].reset_index(drop=True)


def build_report_tables(frame: pd.DataFrame, phase: pd.Series, instrument: Instrument,
                        spec: ReportSpec, weights: str | None = None,
                        calibration: Calibration | None = None) -> ReportTables:
    """Compute every table of the specification and the phase-distinctive findings.

    Parameters
    ----------
    frame : pandas.DataFrame
        Analysed partnerships with derived variables
        (:func:`pipeline.stages.derive.derive_variables`). Not modified.
    phase : pandas.Series
        The phase group of each partnership on the report's basis (same index as ``frame``).
    instrument : Instrument
    spec : ReportSpec
    weights : str, optional
        Column of ``frame`` holding calibrated weights; the tables are then weighted
        (design-based intervals and tests). Unset: unweighted.
    calibration : Calibration, optional
        The calibration behind ``weights``: the tables' variances are then those after
        calibration (:func:`pipeline.stats.calibrate.calibrated_design`).

    Raises
    ------
    PulsecheckError
        :func:`check_design_settings`, and the design's own errors (a missing design or
        replicate column, ``STAT_001``; ``REP_001``-``REP_005``).
    """
    check_design_settings(spec, calibrated=weights is not None)
    order = list(instrument.phase_order)
    data = _with_banner(frame, phase, order)
    reports = tuple(build_table(data, table, instrument, spec, weights, calibration)
                    for table in spec.tables)
    return ReportTables(tables=reports, findings=distinctive_findings(reports, spec, order),
                        variance=variance_method(spec, weights, calibration))


def table_links(spec: ReportSpec) -> list[Link]:
    """Relations between published tables that an attacker could use, from the spec.

    Two single-choice tables whose rows are bands of the same number are linked band by
    band (a coarse band is the sum of the fine bands inside it); a table of a recoded
    variable is linked to a table of its source (each group is the sum of its levels).
    """
    by_row: dict[str, list[str]] = {}
    for table in spec.tables:
        if table.kind == "single":
            by_row.setdefault(table.row, []).append(table.id)
    derived = {d.name: d for d in spec.derived}
    links: list[Link] = []
    bands = [d for d in spec.derived if d.kind == "bands"]
    for coarse in bands:
        for fine in bands:
            if coarse.name == fine.name or coarse.source != fine.source:
                continue
            for band in coarse.bands:
                low = -np.inf if band.min is None else band.min
                high = np.inf if band.max is None else band.max
                inside = tuple(b.label for b in fine.bands
                               if (-np.inf if b.min is None else b.min) >= low
                               and (np.inf if b.max is None else b.max) <= high)
                if not inside:
                    continue
                for coarse_id in by_row.get(coarse.name, []):
                    links.extend(Link(coarse_id, band.label, fine_id, inside)
                                 for fine_id in by_row.get(fine.name, []))
    for name, entry in derived.items():
        if entry.kind != "recode":
            continue
        groups: dict[str, list[str]] = {}
        for level, group in entry.mapping.items():
            groups.setdefault(group, []).append(level)
        for coarse_id in by_row.get(name, []):
            for fine_id in by_row.get(entry.source, []):
                links.extend(Link(coarse_id, group, fine_id, tuple(levels))
                             for group, levels in groups.items())
    return links


def protect(tables: ReportTables, threshold: int,
            spec: ReportSpec | None = None) -> dict[str, pd.DataFrame]:
    """Each table with small-cell suppression applied (analyst numbers kept beside).

    Suppression is first applied table by table (primary and complementary), then extended
    across tables that the specification links (:func:`table_links`), so that no hidden cell
    can be worked out by combining published tables.
    """
    rule = DisclosureRule(threshold=threshold)
    protected = {t.spec.id: suppress_table(t.table, rule) for t in tables.tables}
    links = table_links(spec) if spec is not None else []
    return protect_linked(protected, links, rule) if links else protected


def published_report_tables(tables: ReportTables, protected: dict[str, pd.DataFrame],
                            spec: ReportSpec, order: Sequence[str],
                            symbol: str) -> ReportTables:
    """The report as it may leave the team: every table, test and finding computed only from
    published numbers.

    Each table is its published view (:func:`pipeline.stats.disclosure.published_view`: hidden
    numbers blank, one mark ``symbol`` for every hidden cell); each test computed from a
    hidden count is withheld (:func:`pipeline.stats.disclosure.published_tests`); the
    phase-distinctive findings are worked out again on the published tables, so an item with
    a hidden count in any phase is not tested and the p-values are adjusted over the tests
    that are published (assumption A-DISC-2).

    Parameters
    ----------
    tables : ReportTables
        The analyst's tables (:func:`build_report_tables`).
    protected : mapping
        Table id → the table after suppression (:func:`protect`).
    spec : ReportSpec
    order : sequence of str
        The phase columns in order.
    symbol : str
        The published mark of a hidden cell.
    """
    published = []
    for report in tables.tables:
        table = protected[report.spec.id]
        view = published_view(table, symbol)
        if "rank" in view.columns:
            view = _order_published_items(view)
        published.append(ReportTable(spec=report.spec,
                                     table=view,
                                     tests=published_tests(report.tests, table)))
    published = tuple(published)
    return ReportTables(tables=published,
                        findings=distinctive_findings(published, spec, order))
