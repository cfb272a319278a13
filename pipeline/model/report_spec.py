"""The report specification: derived variables, tables, findings rule and phase criteria, as data.

A specification lives beside its instrument version (``tables.toml`` and
``phase_criteria.toml``, named in ``manifest.toml`` ``[report]``). Nothing about a Pulse Check
table is written in Python: adding a table means adding an entry. This module turns the parsed
TOML into frozen objects and checks them against the instrument, reporting every problem at
once (:func:`check_spec`).

Derived variable kinds
----------------------
``bands``
    A number cut into labelled bands (``source``, ``bands = [{label, min, max}]``, bounds
    inclusive, either may be omitted).
``recode``
    A select-one answer (or another derived variable) mapped to groups (``source``, ``map``).
``count_selected``
    How many choices of a select-multiple question were ticked (``source``).
``count_at_least``
    How many of the numeric ``sources`` are at least ``threshold``.
``count_matching``
    How many questions of an instrument ``group`` (or ``sources``) have an answer in
    ``values``.
``indicators``
    A family of 0/1 items, one per question of ``group`` (or ``sources``): 1 when the answer is
    in ``values``. Tabulated like a check-all question (``label`` names the family).
``difference``
    ``constant`` minus a numeric ``source`` (e.g. years active from the year formed).
``ratio``
    ``scale`` × ``numerator`` / ``denominator`` (two numeric variables, e.g. counts); missing
    when either is missing or the denominator is 0 (e.g. the share of a partnership's
    activities that are carried out jointly).

``count_matching`` and ``indicators`` take ``blank``: ``missing`` (the default: a blank answer
makes the count, or the item, missing) or ``zero`` (a blank answer counts as not matching —
for a grid whose questions skip logic asks only of some partnerships, such as "who carries
out the activity" asked only where it is carried out).

Table kinds
-----------
``single`` (one row per level of a single-choice variable), ``multi`` (one row per item of a
select-multiple question or an ``indicators`` family, base = partnerships that answered),
``numeric`` (mean, median and quartiles).

Statistical choices are stated in ``[settings]`` (``test``, ``trend``, ``pairwise``,
``pairwise_alpha``, with ``ci_method``, ``level`` and ``disclosure_threshold``) and may be
overridden per table; ``sort`` is ``instrument`` or ``descending``. Every key is checked by
:class:`pipeline.model.schemas.TablesFile` (``docs/configuration.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, Sequence

import pandas as pd

from pipeline.errors import issues_frame, make_issue
from pipeline.model.instrument import Instrument
from pipeline.model.schema_check import validate_config
from pipeline.model.schemas import BandEntry, CriteriaFile, TablesFile

DERIVED_KINDS = ("bands", "recode", "count_selected", "count_at_least", "count_matching",
                 "indicators", "difference", "ratio")
TABLE_KINDS = ("single", "multi", "numeric")
DISTINCTIVE_TESTS = ("chisq", "trend")


@dataclass(frozen=True)
class Band:
    """A labelled interval of a number (bounds inclusive; ``None`` is open)."""

    label: str
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Derived:
    """One derived variable (see the module docstring for the kinds)."""

    name: str
    kind: str
    label: str = ""
    source: str = ""
    sources: tuple[str, ...] = ()
    group: str = ""
    values: tuple[str, ...] = ()
    bands: tuple[Band, ...] = ()
    mapping: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    threshold: float = 0.0
    constant: float = 0.0
    blank: str = "missing"
    numerator: str = ""
    denominator: str = ""
    scale: float = 100.0
    assumption: str = ""


@dataclass(frozen=True)
class TableSpec:
    """One report table, with every statistical choice resolved (the table's or [settings]').

    ``test`` is the test of association with phase (``chisq``, ``fisher`` or ``lr``),
    ``trend`` whether single-choice levels also get a Cochran–Armitage test across the
    ordered phases, ``pairwise`` the adjustment of the pairwise column tests behind the
    significance letters (``none``, ``bonferroni``, ``holm``, ``bh``) at ``pairwise_alpha``.
    """

    id: str
    title: str
    kind: str
    row: str
    section: str = ""
    by_phase: bool = True
    sort: str = "instrument"
    test: str = "chisq"
    trend: bool = True
    pairwise: str = "holm"
    pairwise_alpha: float = 0.05
    show_missing: bool = False
    footnotes: tuple[str, ...] = ()


@dataclass(frozen=True)
class DistinctiveRule:
    """When an item's rate in one phase stands out from the others.

    An item is distinctive for a phase when its rate there exceeds the rate in *every* other
    phase by at least ``min_difference`` percentage points, and the test of association
    between phase and item (``test``) is significant at ``alpha`` after ``adjust`` over all
    items tested together.
    """

    tables: tuple[str, ...]
    min_difference: float
    test: str
    adjust: str
    alpha: float
    min_base: int = 0
    assumption: str = ""


@dataclass(frozen=True)
class Criterion:
    """One rule of the criteria-based placement: a point when the condition holds."""

    id: str
    label: str
    variable: str
    values: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    points: int = 1


@dataclass(frozen=True)
class PhaseCriteria:
    """A criteria-based phase placement: points per criterion, bands of total points."""

    criteria: tuple[Criterion, ...]
    placement: tuple[Band, ...]
    assumption: str = ""


@dataclass(frozen=True)
class ReportSpec:
    """Everything the report tables need, from data."""

    derived: tuple[Derived, ...]
    tables: tuple[TableSpec, ...]
    distinctive: DistinctiveRule | None
    criteria: PhaseCriteria | None
    phase_basis: str = "self"
    ci_method: str = "wilson"
    level: float = 0.95
    disclosure_threshold: int = 5
    #: ``[settings.design]`` (:class:`pipeline.model.schemas.DesignSettings`), or ``None``.
    design: Any = None

    def table(self, table_id: str) -> TableSpec:
        for table in self.tables:
            if table.id == table_id:
                return table
        raise KeyError(table_id)


def _bands(entries: Sequence[BandEntry]) -> tuple[Band, ...]:
    return tuple(Band(label=e.label, min=e.min, max=e.max) for e in entries)


def build_spec(tables_toml: Mapping[str, Any],
               criteria_toml: Mapping[str, Any] | None = None, *,
               files: tuple[str, str] = ("tables.toml", "phase_criteria.toml")) -> ReportSpec:
    """Turn parsed TOML into a :class:`ReportSpec` (call :func:`check_spec` next).

    Both tables are first checked against their schemas (:class:`TablesFile`,
    :class:`CriteriaFile`); ``files`` names them in the messages.

    Raises
    ------
    pipeline.model.schema_check.ConfigError
        An unknown key, a missing statistical setting or a value of the wrong type.
    """
    parsed = validate_config(tables_toml, TablesFile, files[0])
    settings = parsed.settings
    derived = tuple(
        Derived(name=name, kind=entry.kind, label=entry.label or name,
                source=entry.source or "", sources=tuple(entry.sources),
                group=entry.group or "", values=tuple(entry.values),
                bands=_bands(entry.bands), mapping=MappingProxyType(dict(entry.map)),
                threshold=float(entry.threshold), constant=float(entry.constant),
                blank=entry.blank, numerator=entry.numerator or "",
                denominator=entry.denominator or "", scale=float(entry.scale),
                assumption=entry.assumption or "")
        for name, entry in parsed.derived.items())
    tables = tuple(
        TableSpec(id=t.id, title=t.title or t.id, kind=t.kind, row=t.row, section=t.section,
                  by_phase=t.by_phase, sort=t.sort,
                  test=t.test if t.test is not None else settings.test,
                  trend=t.trend if t.trend is not None else settings.trend,
                  pairwise=t.pairwise if t.pairwise is not None else settings.pairwise,
                  pairwise_alpha=settings.pairwise_alpha, show_missing=t.show_missing,
                  footnotes=tuple(t.footnotes))
        for t in parsed.tables)
    rule = parsed.distinctive
    distinctive = DistinctiveRule(
        tables=tuple(rule.tables), min_difference=float(rule.min_difference), test=rule.test,
        adjust=rule.adjust, alpha=float(rule.alpha), min_base=rule.min_base,
        assumption=rule.assumption or "") if rule else None
    criteria = None
    if criteria_toml:
        placed = validate_config(criteria_toml, CriteriaFile, files[1])
        criteria = PhaseCriteria(
            criteria=tuple(Criterion(id=c.id, label=c.label or c.id, variable=c.variable,
                                     values=tuple(c.values), min=c.min, max=c.max,
                                     points=c.points)
                           for c in placed.criteria),
            placement=_bands(placed.placement), assumption=placed.assumption or "")
    return ReportSpec(derived=derived, tables=tables, distinctive=distinctive,
                      criteria=criteria, phase_basis=settings.phase_basis,
                      ci_method=settings.ci_method, level=float(settings.level),
                      disclosure_threshold=settings.disclosure_threshold,
                      design=settings.design)


def _variable_kinds(spec: ReportSpec, instrument: Instrument) -> dict[str, str]:
    """Every name a table may tabulate, with how it can be tabulated."""
    kinds: dict[str, str] = {}
    for question in instrument.answerable:
        if question.type == "select_multiple":
            kinds[question.name] = "multi"
        elif question.type in ("integer", "decimal"):
            kinds[question.name] = "numeric"
        elif question.type == "select_one":
            kinds[question.name] = "single"
    for derived in spec.derived:
        kinds[derived.name] = {"bands": "single", "recode": "single",
                               "indicators": "multi"}.get(derived.kind, "numeric")
    return kinds


def check_spec(spec: ReportSpec, instrument: Instrument, file: str = "tables.toml",
               phase_column: str = "") -> pd.DataFrame:
    """Check a specification against its instrument; every problem at once.

    Returns
    -------
    pandas.DataFrame
        The issues table (``SPEC_`` codes), empty when the specification is sound.
    """
    issues: list[dict] = []
    questions = {q.name for q in instrument.answerable}
    groups = {q.group for q in instrument.questions if q.group}

    def add(code: str, where: str, **params: Any) -> None:
        issues.append(make_issue(code, file=file, column=where, **params))

    known = set(questions)
    for derived in spec.derived:
        where = f"derived.{derived.name}"
        if derived.kind not in DERIVED_KINDS:
            add("SPEC_001", where, what="derived kind", value=derived.kind,
                known=", ".join(DERIVED_KINDS))
        for source in (derived.source, *derived.sources, derived.numerator,
                       derived.denominator):
            if source and source not in known:
                add("SPEC_002", where, name=source)
        if derived.group and derived.group not in groups:
            add("SPEC_002", where, name=derived.group)
        if derived.kind == "bands" and not derived.bands:
            add("SPEC_003", where, problem="has no bands")
        if derived.kind == "recode" and not derived.mapping:
            add("SPEC_003", where, problem="has no map")
        if derived.kind in ("count_matching", "indicators") and not (derived.group or
                                                                     derived.sources):
            add("SPEC_003", where, problem="needs a group or sources")
        if derived.kind == "ratio" and not (derived.numerator and derived.denominator):
            add("SPEC_003", where, problem="needs a numerator and a denominator")
        if derived.blank != "missing" and derived.kind not in ("count_matching", "indicators"):
            add("SPEC_003", where, problem="sets 'blank', which only count_matching and "
                "indicators take")
        known.add(derived.name)
    kinds = _variable_kinds(spec, instrument)
    if phase_column:
        kinds[phase_column] = "single"
    seen: set[str] = set()
    for table in spec.tables:
        where = f"tables.{table.id}"
        if table.id in seen:
            add("SPEC_004", where, name=table.id)
        seen.add(table.id)
        if table.kind not in TABLE_KINDS:
            add("SPEC_001", where, what="table kind", value=table.kind,
                known=", ".join(TABLE_KINDS))
        elif table.row not in kinds:
            add("SPEC_002", where, name=table.row)
        elif kinds[table.row] != table.kind:
            add("SPEC_003", where, problem=f"is a {table.kind} table but '{table.row}' can "
                f"only be tabulated as {kinds[table.row]}")
    if spec.distinctive:
        if spec.distinctive.test not in DISTINCTIVE_TESTS:
            add("SPEC_001", "distinctive", what="test", value=spec.distinctive.test,
                known=", ".join(DISTINCTIVE_TESTS))
        for table_id in spec.distinctive.tables:
            if table_id not in seen:
                add("SPEC_002", "distinctive", name=table_id)
    if spec.criteria:
        for criterion in spec.criteria.criteria:
            if criterion.variable not in known:
                add("SPEC_002", f"criteria.{criterion.id}", name=criterion.variable)
        labels = {band.label for band in spec.criteria.placement}
        unknown = labels - set(instrument.phase_order)
        if unknown:
            add("SPEC_003", "criteria.placement",
                problem=f"places unknown phase(s) {sorted(unknown)}")
    if spec.phase_basis not in ("self", "criteria"):
        add("SPEC_001", "settings.phase_basis", what="phase basis", value=spec.phase_basis,
            known="self, criteria")
    if spec.phase_basis == "criteria" and not spec.criteria:
        add("SPEC_003", "settings.phase_basis", problem="is 'criteria' but no criteria are given")
    return issues_frame(issues)
