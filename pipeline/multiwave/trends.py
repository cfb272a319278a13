"""Trends: harmonised measures by wave, with intervals and tests of change (pure).

Each measure of the crosswalks (:mod:`pipeline.model.crosswalk`) is computed in every wave where a
crosswalk defines it: the share of analysed partnerships whose answer counts, among those who
answered, overall and — where the wave's instrument has phases — by phase. Consecutive waves
whose crosswalk marks the measure ``not_comparable`` start a new *series*: their numbers are
shown side by side but never pooled or tested together. Caveats travel in a column of every
row they concern.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from pipeline.columns import MULTI_SEPARATOR
from pipeline.errors import issues_frame, make_issue
from pipeline.model.crosswalk import NOT_COMPARABLE, Crosswalk, MeasureSide
from pipeline.model.instrument import Instrument
from pipeline.stats import cells as cellkit
from pipeline.stats.comparisons import adjust_pvalues, design_change_test
from pipeline.stats.contingency import cochran_armitage, expected_counts, pearson_chisq
from pipeline.stats.design import SurveyDesign
from pipeline.stats.fisher import fisher_exact
from pipeline.stats.intervals import binomial_interval
from pipeline.stats.methods import TestResult

#: The column level of overall figures.
ALL = "All"
TREND_COLUMNS = ("measure", "label", "family", "wave", "phase", "n", "base_n", "pct",
                 "ci_low", "ci_high", "ci_method", "series", "comparability", "caveat",
                 "question", "choices")
CHANGE_COLUMNS = ("measure", "label", "family", "phase", "from_wave", "to_wave", "pct_from",
                  "pct_to", "difference", "test", "statistic", "p_value", "q_value",
                  "adjust", "significant", "comparability", "caveat")
TREND_TEST_COLUMNS = ("measure", "label", "family", "phase", "series", "waves", "test",
                      "statistic", "p_value", "q_value", "adjust", "caveat")
CAVEAT_COLUMNS = ("measure", "label", "from_wave", "to_wave", "comparability", "caveat")


@dataclass(frozen=True)
class WaveData:
    """One wave's analysed partnerships for trends.

    ``frame`` holds typed answers (choice names; ``question/choice`` 0/1 columns for
    check-all questions); ``phase`` the phase group of each row (same index).
    """

    wave: str
    instrument: Instrument
    frame: pd.DataFrame
    phase: pd.Series
    #: The wave's sampling design (``[settings.design]`` of its tables, or its calibrated
    #: weights): its shares are then design-based and the tests of change with the wave
    #: before and after it are the design-based test of a difference. ``None``: unweighted.
    design: Any = None
    #: The calibration of the wave (:class:`pipeline.stats.calibrate.Calibration`), whose
    #: weights and variance the shares then use.
    calibration: Any = None
    #: The interval method of the wave's design-based shares (its tables' ``ci_method``).
    ci_method: str | None = None

    @property
    def designed(self) -> bool:
        """Whether the wave's shares are design-based."""
        return self.design is not None or self.calibration is not None


@dataclass(frozen=True)
class Settings:
    """How trends are computed (from ``trends.toml``)."""

    ci_method: str = "wilson"
    level: float = 0.95
    adjust: str = "bh"
    alpha: float = 0.05


@dataclass(frozen=True)
class MeasureChain:
    """A measure across the waves: its definition per wave and comparability with the last."""

    measure: str
    label: str
    family: str
    sides: Mapping[str, MeasureSide]
    #: wave → (comparability, caveat) with the previous wave where it is defined.
    links: Mapping[str, tuple[str, str]]


@dataclass(frozen=True)
class Trends:
    """Every measure by wave, the tests of change, the trend tests and the caveats."""

    table: pd.DataFrame
    changes: pd.DataFrame
    trend_tests: pd.DataFrame
    caveats: pd.DataFrame


def chain_measures(crosswalks: Sequence[Crosswalk]) -> tuple[tuple[MeasureChain, ...],
                                                             pd.DataFrame]:
    """Join the crosswalks of consecutive versions into one chain per measure.

    Returns the chains (in first-seen order) and the issues (``XWALK_008`` when two crosswalks
    define a measure differently for the version they share).
    """
    issues: list[dict] = []
    found: dict[str, dict] = {}
    for crosswalk in crosswalks:
        for link in crosswalk.links:
            entry = found.setdefault(link.measure, {"label": link.label, "family": link.family,
                                                    "sides": {}, "links": {}})
            for version, side in ((crosswalk.old, link.old), (crosswalk.new, link.new)):
                known = entry["sides"].get(version)
                if known is not None and known != side:
                    issues.append(make_issue(
                        "XWALK_008", file=f"{crosswalk.old}__{crosswalk.new}.csv",
                        measure=link.measure, version=version,
                        first=f"{known.question} {', '.join(known.choices)}",
                        second=f"{side.question} {', '.join(side.choices)}"))
                entry["sides"][version] = side
            entry["links"][crosswalk.new] = (link.comparability, link.caveat)
    chains = tuple(MeasureChain(measure=m, label=e["label"], family=e["family"],
                                sides=e["sides"], links=e["links"]) for m, e in found.items())
    return chains, issues_frame(issues)


def measure_indicator(frame: pd.DataFrame, instrument: Instrument, side: MeasureSide
                      ) -> pd.Series:
    """1 when the answer counts for the measure, 0 when it does not, missing if unanswered."""
    question = instrument.question(side.question)
    if question.type == "select_multiple":
        columns = [f"{side.question}{MULTI_SEPARATOR}{c}" for c in side.choices]
        ticks = frame[columns].apply(pd.to_numeric, errors="coerce")
        answered = frame[list(instrument.indicator_columns(question))].apply(
            pd.to_numeric, errors="coerce").notna().any(axis=1)
        value = (ticks.fillna(0).sum(axis=1) > 0).astype(float)
        return value.where(answered)
    answers = frame[side.question].astype("object")
    value = answers.isin(side.choices).astype(float)
    return value.where(answers.notna())


def _share(values: pd.Series, settings: Settings) -> dict:
    valid = values.dropna()
    n, base = int(valid.sum()), len(valid)
    if base == 0:
        return {"n": 0, "base_n": 0, "pct": np.nan, "ci_low": np.nan, "ci_high": np.nan}
    interval = binomial_interval(n, base, method=settings.ci_method,
                                       level=settings.level)
    return {"n": n, "base_n": base, "pct": 100.0 * n / base,
            "ci_low": 100.0 * interval.low, "ci_high": 100.0 * interval.high}


def _design_share(values: pd.Series, resolved: Any, method: str, level: float) -> dict:
    """A wave's design-based share of the rows in ``values`` (a subset of the wave's rows,
    index aligned with its frame), with its variance and design df for the change test."""
    y = values.to_numpy(dtype=float)
    present = ~np.isnan(y)
    if not present.any():
        return {"n": 0, "base_n": 0, "pct": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                "_variance": np.nan, "_df": 0, "ci_method": method}
    domain = np.zeros(resolved.n_rows, dtype=bool)
    domain[values.index.to_numpy()[present]] = True
    ticks = np.zeros((resolved.n_rows, 1))
    ticks[values.index.to_numpy()[present], 0] = y[present]
    cell = cellkit.column_cells(domain, resolved, method, level, indicators=ticks, n_shown=1)[0]
    return {"n": cell["n"], "base_n": cell["base_n"], "pct": cell["pct"],
            "ci_low": cell["ci_low"], "ci_high": cell["ci_high"], "ci_method": cell["ci_method"],
            "_variance": (cell["se"] / 100.0) ** 2, "_df": cell["df"]}


def _simple_share(values: pd.Series) -> tuple[float, float]:
    """Variance and df of an unweighted wave's share as a simple random sample (R's
    ``svymean`` on ``svydesign(id=~1)``): :math:`p(1-p)/(n-1)` on :math:`n-1` df."""
    valid = values.dropna()
    n = len(valid)
    if n < 2:
        return np.nan, 0
    p = float(valid.mean())
    return p * (1.0 - p) / (n - 1), n - 1


def _change_test(n1: int, b1: int, n2: int, b2: int) -> TestResult:
    """Two-proportion test of change: Pearson χ² on the 2×2 table, Fisher when sparse."""
    table = np.array([[n1, b1 - n1], [n2, b2 - n2]], dtype=float)
    if table.sum(axis=0).min() == 0:
        return TestResult(test="none", method="not tested (no variation)",
                                statistic=float("nan"), df=float("nan"), ddf=float("nan"),
                                p_value=float("nan"))
    if expected_counts(table).min() < 5:
        return fisher_exact(table.astype(int))
    return pearson_chisq(table, continuity=False)


def compute_trends(waves: Sequence[WaveData], chains: Sequence[MeasureChain],
                   settings: Settings = Settings()) -> Trends:
    """Every measure by wave, overall and by phase, with tests of change between waves.

    Parameters
    ----------
    waves : sequence of WaveData
        In wave order.
    chains : sequence of MeasureChain
        From :func:`chain_measures`.
    settings : Settings

    Returns
    -------
    Trends
        ``table`` (:data:`TREND_COLUMNS`, one row per measure, wave and phase); ``changes``
        (:data:`CHANGE_COLUMNS`): consecutive comparable waves, two-proportion Pearson χ²
        without continuity correction or Fisher's exact test when an expected count is below 5,
        p-values adjusted together (``settings.adjust``); ``trend_tests``: the
        Cochran–Armitage test over each series of three or more waves (scores = the waves'
        years), overall; ``caveats``: every caveat with the waves it concerns.

    Notes
    -----
    Waves are treated as independent samples although many partnerships answer more than
    once (assumption A-WAVE-15): for recurring partnerships the tests are approximate.

    References
    ----------
    Agresti, A. (2013). *Categorical Data Analysis*, 3rd ed., §3.1 (χ² and Fisher for 2×2),
    §3.4 (Cochran–Armitage trend). Benjamini, Y. and Hochberg, Y. (1995). *JRSS B* 57,
    289–300.
    """
    rows: list[dict] = []
    caveats: list[dict] = []
    # Each designed wave's design, resolved once against its frame (positional rows).
    resolved = {data.wave: cellkit.resolve_any(
        data.frame.reset_index(drop=True), data.design or SurveyDesign(),
        data.calibration) for data in waves if data.designed}
    designed = bool(resolved)
    for chain in chains:
        series = 0
        previous: str | None = None
        for data in waves:
            side = chain.sides.get(data.wave)
            if side is None:
                continue
            comparability, caveat = chain.links.get(data.wave, ("", "")) \
                if previous is not None else ("", "")
            if previous is not None and (comparability == NOT_COMPARABLE or
                                         data.wave not in chain.links):
                series += 1
            if caveat:
                caveats.append({"measure": chain.measure, "label": chain.label,
                                "from_wave": previous, "to_wave": data.wave,
                                "comparability": comparability, "caveat": caveat})
            values = measure_indicator(data.frame, data.instrument, side) \
                .reset_index(drop=True)
            # Rows by position (as the resolved design holds them), phases by label.
            in_phase = data.phase.reindex(data.frame.index).astype(str).reset_index(drop=True)
            groups = [(ALL, values)]
            groups.extend((phase, values[in_phase.eq(phase)])
                          for phase in data.instrument.phase_order)
            for phase, subset in groups:
                if data.designed:
                    share = _design_share(subset, resolved[data.wave],
                                          data.ci_method or settings.ci_method, settings.level)
                else:
                    share = {**_share(subset, settings), "ci_method": settings.ci_method}
                    if designed:
                        share["_variance"], share["_df"] = _simple_share(subset)
                rows.append({"measure": chain.measure, "label": chain.label,
                             "family": chain.family, "wave": data.wave, "phase": phase,
                             **share, "series": series + 1, "comparability": comparability,
                             "caveat": caveat, "question": side.question,
                             "choices": " ".join(side.choices),
                             "_designed": data.designed})
            previous = data.wave
    extra = ["_variance", "_df", "_designed"]
    full = pd.DataFrame(rows, columns=[*TREND_COLUMNS, *extra])
    changes = _changes(full, settings)
    trend_tests = _trend_tests(full, settings)
    table = full[list(TREND_COLUMNS)]
    return Trends(table=table, changes=changes, trend_tests=trend_tests,
                  caveats=pd.DataFrame(caveats, columns=list(CAVEAT_COLUMNS)))


def _changes(table: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    out: list[dict] = []
    for (measure, phase), group in table.groupby(["measure", "phase"], sort=False):
        records = group.to_dict("records")
        for before, after in itertools.pairwise(records):
            if after["series"] != before["series"] or not before["base_n"] or \
                    not after["base_n"]:
                continue  # not comparable: never tested together
            if before.get("_designed") or after.get("_designed"):
                # A design in either wave: the design-based test of the difference (an
                # unweighted wave taken as a simple random sample).
                result = design_change_test(
                    before["pct"] / 100.0, before["_variance"], before["_df"],
                    after["pct"] / 100.0, after["_variance"], after["_df"])
            else:
                result = _change_test(before["n"], before["base_n"], after["n"],
                                      after["base_n"])
            out.append({"measure": measure, "label": after["label"], "family": after["family"],
                        "phase": phase, "from_wave": before["wave"], "to_wave": after["wave"],
                        "pct_from": before["pct"], "pct_to": after["pct"],
                        "difference": after["pct"] - before["pct"], "test": result.method,
                        "statistic": result.statistic, "p_value": result.p_value,
                        "comparability": after["comparability"], "caveat": after["caveat"]})
    frame = pd.DataFrame(out, columns=[c for c in CHANGE_COLUMNS
                                       if c not in ("q_value", "adjust", "significant")])
    q = adjust_pvalues(frame["p_value"].to_numpy(dtype=float), method=settings.adjust) \
        if len(frame) else np.array([])
    frame.insert(frame.columns.get_loc("p_value") + 1, "q_value", q)
    frame.insert(frame.columns.get_loc("q_value") + 1, "adjust", settings.adjust)
    frame.insert(frame.columns.get_loc("adjust") + 1, "significant",
                 frame["q_value"] < settings.alpha)
    return frame[list(CHANGE_COLUMNS)]


def _trend_tests(table: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    out: list[dict] = []
    overall = table[table["phase"] == ALL]
    for (measure, series), whole in overall.groupby(["measure", "series"], sort=False):
        group = whole[whole["base_n"] > 0]
        if len(group) < 3:
            continue
        if "_designed" in group and group["_designed"].fillna(False).astype(bool).any():
            result = TestResult(
                test="none", method="not tested (a wave has a sampling design: the "
                "Cochran-Armitage test needs unweighted counts)", statistic=float("nan"),
                df=float("nan"), ddf=float("nan"), p_value=float("nan"))
        else:
            result = cochran_armitage(group["n"].tolist(), group["base_n"].tolist(),
                                      [float(w) for w in group["wave"]])
        caveat = "; ".join(dict.fromkeys(c for c in group["caveat"] if c))
        out.append({"measure": measure, "label": group["label"].iloc[0],
                    "family": group["family"].iloc[0], "phase": ALL, "series": series,
                    "waves": " ".join(group["wave"]), "test": result.method,
                    "statistic": result.statistic, "p_value": result.p_value,
                    "caveat": caveat})
    frame = pd.DataFrame(out, columns=[c for c in TREND_TEST_COLUMNS
                                       if c not in ("q_value", "adjust")])
    q = adjust_pvalues(frame["p_value"].to_numpy(dtype=float), method=settings.adjust) \
        if len(frame) else np.array([])
    frame.insert(frame.columns.get_loc("p_value") + 1, "q_value", q)
    frame.insert(frame.columns.get_loc("q_value") + 1, "adjust", settings.adjust)
    return frame[list(TREND_TEST_COLUMNS)]


def waves_left_out(versions: Sequence[str], chains: Sequence[MeasureChain]) -> list[dict]:
    """A warning (``CONF_007``) for each wave version no harmonised measure reaches.

    A wave enters the trends only through a crosswalk to a neighbouring version; without
    one it is silently absent from every trend table, so the run says which and why.

    Parameters
    ----------
    versions : sequence of str
        The waves' instrument versions, in wave order.
    chains : sequence of MeasureChain
        The measures of the crosswalks (:func:`chain_measures`).
    """
    if len(versions) < 2:
        return []
    reached = {version for chain in chains for version in chain.sides}
    warnings = []
    for position, version in enumerate(versions):
        if version in reached:
            continue
        before = versions[position - 1] if position > 0 else None
        after = versions[position + 1] if position + 1 < len(versions) else None
        wanted = f"{before}__{version}.csv" if before else f"{version}__{after}.csv"
        neighbours = " or ".join(v for v in (before, after) if v) or "another wave"
        warnings.append(make_issue(
            "CONF_007", value=version, wave=version, crosswalk=wanted,
            folder="crosswalks/",
            reason=f"no crosswalk maps its questions to wave {neighbours}"))
    return warnings


#: Text of a withheld statistic in published trend files.
WITHHELD = "withheld: computed from a hidden count"


def _hidden_rows(table: pd.DataFrame, threshold: int,
                 wave_hidden: frozenset[tuple[str, str, str, str]] = frozenset()
                 ) -> np.ndarray:
    """Primary cells (a count or base from 1 to ``threshold`` - 1), shares whose count is a
    cell (or a sum of cells) hidden in the wave's own tables, overall shares that less the
    phases would count 1 to ``threshold`` - 1 unclassified partnerships, and, where a wave's phases
    would otherwise give a lone hidden phase away (the overall count minus the other phases),
    the smallest other phase of that wave and measure."""
    n = table["n"].to_numpy(dtype=float)
    base = table["base_n"].to_numpy(dtype=float)
    hidden = ((n > 0) & (n < threshold)) | ((base > 0) & (base < threshold))
    if wave_hidden:
        hidden |= np.array([any((str(w), str(q), c, str(p)) in wave_hidden
                                for c in str(choices).split())
                            for w, q, choices, p in zip(table["wave"], table["question"],
                                                        table["choices"], table["phase"],
                                                        strict=True)],
                           dtype=bool)
    positions = np.arange(len(table))
    for _, group in table.groupby(["measure", "wave"], sort=False):
        where = positions[table.index.get_indexer(group.index)]
        is_all = group["phase"].to_numpy() == ALL
        phases = where[~is_all]
        # The overall share less the phases counts the partnerships in no phase: when they
        # are 1 to threshold - 1, the overall share is hidden (as the wave's tables hide an
        # All cell first for the same reason).
        rest = n[where[is_all]].sum() - n[phases].sum()
        if is_all.any() and len(phases) and 0 < rest < threshold:
            hidden[where[is_all]] = True
        if len(phases) < 2 or hidden[phases].sum() != 1:
            continue
        shown = phases[~hidden[phases]]
        hidden[shown[np.lexsort((shown, n[shown]))[0]]] = True
    return hidden


def published_trends(trends: Trends, threshold: int, settings: Settings = Settings(),
                     wave_hidden: frozenset[tuple[str, str, str, str]] = frozenset()
                     ) -> Trends:
    """The trends as they may leave the team: nothing computed from a hidden count.

    A share is hidden when its count or its base is from 1 to ``threshold`` - 1; where that
    leaves one phase of a wave hidden, the smallest other phase is hidden too, so that the
    overall count minus the shown phases (and the unclassified partnerships, whose number
    the bases give) does not give it away. A hidden share has its count, percentage and
    interval blank (its base too when the base is small). A test of change or trend test
    that uses a hidden share is withheld; the q-values of the published tests are adjusted
    over the published tests only, so they do not depend on a withheld one
    (assumption A-DISC-3).

    Parameters
    ----------
    trends : Trends
        From :func:`compute_trends`; not modified.
    threshold : int
        The small-cell threshold.
    settings : Settings
        The adjustment and significance level of the tests.
    wave_hidden : frozenset of (wave, question, choice, column)
        Cells hidden in the waves' own published tables (row variable = question, row level
        = choice): a share counting such a cell is hidden too, or it would give the cell
        away across the two folders.

    Returns
    -------
    Trends
        ``table`` with a ``suppressed`` column; ``changes`` and ``trend_tests`` with the
        withheld tests blank; ``caveats`` unchanged.
    """
    table = trends.table.reset_index(drop=True)
    hidden = _hidden_rows(table, threshold, wave_hidden)
    out = table.astype({c: object for c in ("n", "base_n", "pct", "ci_low", "ci_high")})
    out.loc[hidden, ["n", "pct", "ci_low", "ci_high"]] = None
    base = table["base_n"].to_numpy(dtype=float)
    out.loc[(base > 0) & (base < threshold), "base_n"] = None
    out["suppressed"] = hidden
    secret = {(m, str(w), p) for m, w, p, h in zip(table["measure"], table["wave"],
                                                   table["phase"], hidden, strict=True) if h}

    def withhold(frame: pd.DataFrame, uses, blank: Sequence[str]) -> pd.DataFrame:
        frame = frame.reset_index(drop=True)
        gone = np.array([uses(row) for row in frame.to_dict("records")], dtype=bool)
        frame = frame.astype({c: object for c in blank if c in frame.columns})
        frame.loc[gone, [c for c in blank if c in frame.columns]] = None
        if "test" in frame.columns:
            frame.loc[gone, "test"] = WITHHELD
        p = pd.to_numeric(frame["p_value"], errors="coerce").to_numpy(dtype=float)
        q = adjust_pvalues(p, method=settings.adjust) if len(frame) else np.array([])
        frame["q_value"] = q
        if "significant" in frame.columns:
            frame["significant"] = np.where(gone, None, q < settings.alpha)
        return frame

    changes = withhold(
        trends.changes,
        lambda r: (r["measure"], str(r["from_wave"]), r["phase"]) in secret
        or (r["measure"], str(r["to_wave"]), r["phase"]) in secret,
        ("pct_from", "pct_to", "difference", "statistic", "p_value", "q_value"))
    trend_tests = withhold(
        trends.trend_tests,
        lambda r: any((r["measure"], w, r["phase"]) in secret
                      for w in str(r["waves"]).split()),
        ("statistic", "p_value", "q_value"))
    return Trends(table=out, changes=changes, trend_tests=trend_tests,
                  caveats=trends.caveats)
