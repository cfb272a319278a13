"""Classify: place each partnership in a developmental phase from its self-placement.

The phase question and the table that groups its answers into phases both live in the
instrument (``manifest.toml`` ``[phase]`` and ``phase_map.csv``); nothing here knows a stage
or phase name. A partnership whose answer is missing or maps to no phase is *unclassified*:
it stays in the analysed set, is counted in overall figures, and is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from pipeline.columns import FILE_COLUMN, PHASE_COLUMN, ROW_COLUMN
from pipeline.errors import issues_frame, issues_table
from pipeline.model.instrument import Instrument
from pipeline.model.report_spec import PhaseCriteria

#: The value an unclassified issue shows for a missing self-placement.
_BLANK = "(blank)"


@dataclass(frozen=True)
class Classification:
    """Phase group per row (same index as the input) and the rows reported as unclassified."""

    phase: pd.Series
    issues: pd.DataFrame


def classify_phase(frame: pd.DataFrame, instrument: Instrument) -> Classification:
    """Map each row's self-placement through the instrument's phase map.

    Parameters
    ----------
    frame : pandas.DataFrame
        Typed answers (from :func:`pipeline.stages.validate.validate_responses`). Not modified.
    instrument : Instrument
        Supplies the phase question, the phase map and the name of the unclassified group.

    Returns
    -------
    Classification
        ``phase`` is a categorical Series with the phase groups in developmental order
        followed by the unclassified group; ``issues`` has one ``CLS_001`` row per
        unclassified partnership.

    Notes
    -----
    The grouping of Pathway stages into phases is assumption A-PHASE-1.
    """
    categories = [*instrument.phase_order, instrument.unclassified]
    if not instrument.phase_question:
        # No self-placement question in this version: every partnership has no phase, which
        # is a property of the instrument, not a problem of any row, so no issue is raised.
        phase = pd.Series(pd.Categorical([instrument.unclassified] * len(frame),
                                         categories=categories, ordered=True),
                          index=frame.index, name=PHASE_COLUMN)
        return Classification(phase=phase, issues=issues_frame([]))
    answers = frame[instrument.phase_question]
    # Each distinct answer is looked up once; a missing answer has code -1.
    codes, distinct = pd.factorize(answers)
    dtype = pd.CategoricalDtype(categories, ordered=True)
    unclassified_code = categories.index(instrument.unclassified)
    placed = np.array([_phase_code(value, instrument, dtype) for value in distinct]
                      + [unclassified_code], dtype=np.intp)[codes]
    phase = pd.Series(pd.Categorical.from_codes(placed, dtype=dtype), index=frame.index,
                      name=PHASE_COLUMN)
    return Classification(phase=phase, issues=_unclassified_issues(
        frame, instrument.phase_question, codes, distinct, placed == unclassified_code))


def _phase_code(answer: object, instrument: Instrument, dtype: pd.CategoricalDtype) -> int:
    """The category code of one self-placement answer (-1 for a phase not in the order)."""
    placed = instrument.phase_lookup.get(answer) if isinstance(answer, str) else None
    if placed is None or pd.isna(placed) or placed == instrument.unclassified:
        placed = instrument.unclassified
    return int(dtype.categories.get_indexer([placed])[0])


def _unclassified_issues(frame: pd.DataFrame, question: str, codes: np.ndarray,
                         distinct: pd.Index, unclassified: np.ndarray) -> pd.DataFrame:
    """One ``CLS_001`` issue per unclassified row, in row order, each answer's text made once."""
    positions = np.flatnonzero(unclassified)
    if all(isinstance(value, str) for value in distinct):
        # Template values per distinct answer, then one for a blank answer.
        params = [{"value": value} for value in distinct] + [{"value": _BLANK}]
        group = np.where(codes[positions] >= 0, codes[positions], len(distinct))
    else:
        # Answers of other types that compare equal may still read differently: one each.
        params = [{"value": _BLANK if pd.isna(value) else value}
                  for value in frame[question].take(positions).tolist()]
        group = np.arange(len(positions))

    def column(name: str, convert=None) -> list:
        if name not in frame:
            return [None] * len(positions)
        values = frame[name].take(positions).tolist()
        return [convert(value) for value in values] if convert else values

    return issues_table("CLS_001", file=column(FILE_COLUMN), row=column(ROW_COLUMN, int),
                        column=question, respondent=column("response_id"), group=group,
                        params=params)


# --------------------------------------------------------------------------------------------
# Criteria-based placement and its agreement with self-placement
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CriteriaPlacement:
    """A criteria-based phase per partnership, with the criteria that placed it.

    Attributes
    ----------
    phase : pandas.Series
        Categorical phase group (unclassified when the points fall in no band).
    points : pandas.Series
        Total points per partnership.
    explanation : pandas.DataFrame
        One column per criterion id: 1 met, 0 not met (a missing answer does not meet it).
    """

    phase: pd.Series
    points: pd.Series
    explanation: pd.DataFrame


def classify_by_criteria(frame: pd.DataFrame, criteria: PhaseCriteria,
                         instrument: Instrument) -> CriteriaPlacement:
    """Place each partnership by the criteria of a
    :class:`~pipeline.model.report_spec.PhaseCriteria`.

    Parameters
    ----------
    frame : pandas.DataFrame
        Analysed partnerships with derived variables. Not modified.
    criteria : PhaseCriteria
        Criteria and the bands of total points that place each phase (from data).
    instrument : Instrument
        Supplies the phase order and the unclassified group.

    Notes
    -----
    The criteria and the bands are assumption A-PHASE-4; a missing answer earns no point.
    """
    met: dict[str, pd.Series] = {}
    points = pd.Series(0, index=frame.index, dtype="int64")
    for criterion in criteria.criteria:
        values = frame[criterion.variable]
        if criterion.values:
            hit = values.astype("object").isin(criterion.values)
        else:
            numbers = pd.to_numeric(values, errors="coerce").astype(float)
            hit = numbers.notna()
            if criterion.min is not None:
                hit &= numbers >= float(criterion.min)
            if criterion.max is not None:
                hit &= numbers <= float(criterion.max)
        hit = hit.fillna(False).astype(bool)
        met[criterion.id] = hit.astype("int64")
        points = points + hit.astype("int64") * criterion.points
    placed = pd.Series(instrument.unclassified, index=frame.index, dtype=object)
    for band in reversed(criteria.placement):
        inside = pd.Series(True, index=frame.index)
        if band.min is not None:
            inside &= points >= band.min
        if band.max is not None:
            inside &= points <= band.max
        placed = placed.mask(inside, band.label)
    categories = [*instrument.phase_order, instrument.unclassified]
    phase = pd.Series(pd.Categorical(placed, categories=categories, ordered=True),
                      index=frame.index, name=PHASE_COLUMN)
    return CriteriaPlacement(phase=phase, points=points,
                             explanation=pd.DataFrame(met, index=frame.index))


@dataclass(frozen=True)
class Agreement:
    """Agreement between two placements of the same partnerships.

    Attributes
    ----------
    confusion : pandas.DataFrame
        Counts, rows = first placement, columns = second, phases in developmental order.
    n : int
        Partnerships placed in a phase by both.
    observed, expected, kappa, se, ci_low, ci_high : float
        Observed and chance agreement, Cohen's κ, its standard error and 95% interval.
    """

    confusion: pd.DataFrame
    n: int
    observed: float
    expected: float
    kappa: float
    se: float
    ci_low: float
    ci_high: float
    method: str = "Cohen's kappa, asymptotic 95% interval"


def phase_agreement(first: pd.Series, second: pd.Series, order: tuple[str, ...]) -> Agreement:
    """Cohen's κ between two phase placements, over partnerships both place in a phase.

    The standard error is the large-sample one of Fleiss, Cohen and Everitt (1969), as
    computed by :func:`statsmodels.stats.inter_rater.cohens_kappa`; the interval is κ ± 1.96 se.

    References
    ----------
    Cohen, J. (1960). A coefficient of agreement for nominal scales. *Educational and
    Psychological Measurement* 20, 37–46.
    Fleiss, J. L., Cohen, J. and Everitt, B. S. (1969). Large sample standard errors of kappa
    and weighted kappa. *Psychological Bulletin* 72, 323–327.
    """
    from statsmodels.stats.inter_rater import cohens_kappa

    both = first.astype(str).isin(order) & second.astype(str).isin(order)
    a = pd.Categorical(first[both].astype(str), categories=list(order))
    b = pd.Categorical(second[both].astype(str), categories=list(order))
    confusion = pd.crosstab(a, b, dropna=False).reindex(index=list(order), columns=list(order),
                                                         fill_value=0)
    table = confusion.to_numpy(dtype=float)
    n = int(table.sum())
    observed = float(np.trace(table) / n) if n else float("nan")
    expected = float((table.sum(axis=1) @ table.sum(axis=0)) / n ** 2) if n else float("nan")
    confusion.index.name, confusion.columns.name = None, None
    if n == 0 or expected >= 1.0:
        # No partnership placed by both, or all in one phase on both sides: κ is undefined.
        nan = float("nan")
        return Agreement(confusion=confusion, n=n, observed=observed, expected=expected,
                         kappa=nan, se=nan, ci_low=nan, ci_high=nan)
    result = cohens_kappa(table, return_results=True)
    return Agreement(confusion=confusion, n=n, observed=observed, expected=expected,
                     kappa=float(result.kappa), se=float(result.std_kappa),
                     ci_low=float(result.kappa_low), ci_high=float(result.kappa_upp))
