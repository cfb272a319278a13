"""Schemas of every TOML file pulsecheck reads, and their errors as catalogue messages.

Each file the project reads as TOML (``wave.toml``, an instrument's ``manifest.toml``,
``tables.toml`` and ``phase_criteria.toml``, ``survey_instrument/limits.toml``, the platform
profiles, ``crosswalks/trends.toml``, ``reports/report.toml`` and the wording and
recommendations of the reports) has a pydantic model here. The models are strict and closed:

* an unknown key is an error, with the nearest known key as a suggestion (``synthetc`` →
  ``synthetic``), because a misspelt key silently keeps its default;
* a value of the wrong type is an error and is never converted: ``values = "no"`` is not the
  list ``["n", "o"]``, a TOML date is not a string, ``max_invalid = "10"`` is not a number;
* statistical choices have no default where the file is the place to state them (the test of
  association, the trend test and the pairwise adjustment of the report tables).

Pure data: the models only. Checking parsed TOML against them and turning every problem into
a catalogue message is :mod:`pipeline.model.schema_check`; reading the files is
:func:`pipeline.ingest.config.read_toml`; ``python -m pipeline.model.schema_docs`` prints
every schema as Markdown (``docs/configuration.md``).
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator


class Closed(BaseModel):
    """A table of a configuration file: known keys only, values of the declared type."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


# --------------------------------------------------------------------------------------------
# Wave description (raw/<survey>/<wave>/wave.toml)
# --------------------------------------------------------------------------------------------

#: Rules of the deduplication step's ``keep`` list.
KEEP_RULES = ("most_complete", "latest", "earliest")


class _Step(Closed):
    id: str = Field(description="Name of the step in flow.csv and dispositions.csv.")
    reason: str | None = Field(None, description="Why a row removed by the step is removed "
                                                 "(default: the step's id).")


class MetadataInStep(_Step):
    """Rows whose platform role (``channel``, ``finished``, …) has one of ``values``."""

    rule: Literal["metadata_in"]
    role: str = Field(description="A platform role: response_id, submitted_at, finished, "
                                  "progress, channel, instrument_version.")
    values: list[str] = Field(description="Values of the role that remove the row "
                                          "(compared without case).")


class IncompleteStep(_Step):
    """Rows whose platform says they were not finished (or below ``min_progress``)."""

    rule: Literal["incomplete"]
    min_progress: float | None = Field(
        None, ge=0, le=100, description="Rows with a progress below this (0-100) are removed "
                                        "as well; unset: only the finished flag counts.")


class AnswerInStep(_Step):
    """Rows whose answer to ``question`` is one of ``values`` (a screening question)."""

    rule: Literal["answer_in"]
    question: str = Field(description="A question of the instrument.")
    values: list[str] = Field(description="Choice names that remove the row.")


class QuarantineStep(_Step):
    """Rows with a validation problem of error severity."""

    rule: Literal["quarantine"]
    max_invalid: int = Field(ge=0, description="A row with more invalid answers than this is "
                                               "quarantined as a whole (VAL_010).")


class DeduplicateStep(_Step):
    """All but one submission of each respondent."""

    rule: Literal["deduplicate"]
    key: str | None = Field(None, description="The question identifying a respondent "
                                              "(default: the instrument's respondent key).")
    keep: list[Literal["most_complete", "latest", "earliest"]] = Field(
        min_length=1, description="Which submission survives, in order of preference.")


Step = Annotated[Union[MetadataInStep, IncompleteStep, AnswerInStep, QuarantineStep,
                       DeduplicateStep], Field(discriminator="rule")]


#: ``[limits]``: limit name → a whole number above zero. The names are those of the readers'
#: ``Limits`` and are checked there (:func:`pipeline.ingest.readers.check_limits`).
LimitsTable = dict[str, Annotated[int, Field(gt=0)]]


class CalibrationSettings(Closed):
    """``[calibration]`` of ``wave.toml``: weight the analysed respondents to known population
    counts (off unless this table is present; see survey_instrument/ASSUMPTIONS.md A-WEIGHT-1).
    """

    method: Literal["poststratify", "rake"] = Field(
        description="'poststratify' (one variable: each level's weights scaled to its count) "
                    "or 'rake' (every variable of the margins file, in turn, until the "
                    "weighted table settles).")
    margins: str = Field(description="CSV of population counts inside the wave folder, "
                                     "columns variable, level, count; a variable is a "
                                     "question (or derived variable) of the instrument.")
    max_iterations: int = Field(10, gt=0, description="Raking passes allowed before the run "
                                                      "stops with CALIB_003.")
    epsilon: float = Field(1.0, gt=0, description="Raking has converged when no cell of the "
                                                  "weighted table changes by this much in a "
                                                  "pass (below 1: a fraction of the total).")
    trim_lower: float | None = Field(None, gt=0, description="Smallest calibrated weight "
                                                             "kept (unset: no lower bound).")
    trim_upper: float | None = Field(None, gt=0, description="Largest calibrated weight kept "
                                                             "(unset: no upper bound).")
    trim_strict: bool = Field(False, description="Repeat trimming until no weight is outside "
                                                 "the bounds.")


class WaveFile(Closed):
    """``wave.toml``: which instrument, platform and files make a wave, and its steps."""

    survey: str = Field(description="The survey's name (run folders are <survey>-<wave>).")
    wave: str = Field(description="The wave, quoted (a version, not a number).")
    title: str | None = Field(None, description="Shown in every output (default: survey "
                                                "and wave).")
    synthetic: bool = Field(False, description="True for generated sample data; every output "
                                               "then says so.")
    instrument: str = Field(description="Instrument folder, relative to the wave folder.")
    platform: str = Field(description="A profile in survey_instrument/platforms/.")
    files: list[str] = Field(min_length=1, description="The export file(s), relative to the "
                                                       "wave folder (or to exports_dir).")
    exports_dir: str | None = Field(None, description="Folder holding the export files when "
                                    "they must stay outside the project (personal data): "
                                    "absolute, or relative to the wave folder. files are then "
                                    "relative to it and may not leave it; without it every "
                                    "path stays inside the project. wave.toml and SHA256SUMS "
                                    "stay in the wave folder.")
    steps: list[Step] = Field(description="The raw → analysed flow, applied in order.")
    limits: LimitsTable = Field(default_factory=dict, description="Overrides of "
                                "survey_instrument/limits.toml (max_file_bytes, max_rows, …).")
    calibration: CalibrationSettings | None = Field(
        None, description="Optional: weight the analysed respondents to population counts "
                          "(unset: unweighted, as the published report).")


class LimitsFile(Closed):
    """``survey_instrument/limits.toml``: the input limits of the project."""

    limits: LimitsTable = Field(default_factory=dict, description="max_file_bytes, max_rows, "
                                "max_columns, max_cell_chars, … (see pipeline/ingest/adapters/"
                                "text.py ``Limits``).")


# --------------------------------------------------------------------------------------------
# Instrument manifest (survey_instrument/<survey>/<version>/manifest.toml)
# --------------------------------------------------------------------------------------------

class ManifestKeys(Closed):
    respondent: str = Field(description="The question that identifies a respondent.")


class ManifestPhase(Closed):
    question: str | None = Field(None, description="The self-placement question.")
    map: str | None = Field(None, description="The phase map (CSV) in the instrument folder.")
    order: list[str] = Field(default_factory=list, description="Phase groups in order.")
    unclassified_group: str | None = Field(None, description="Group of partnerships whose "
                                                             "answer places them in no phase.")


class ManifestReport(Closed):
    tables: str | None = Field(None, description="The report specification (tables.toml).")
    criteria: str | None = Field(None, description="The criteria-based phase placement.")


class ManifestFile(Closed):
    """``manifest.toml``: the instrument version's identity, keys, phases and report."""

    id: str
    version: str = Field(description="Quoted, e.g. version = \"2016\".")
    year: int
    title: str | None = None
    languages: list[str]
    default_language: str | None = None
    reconstruction: bool = Field(False, description="True when the instrument was rebuilt "
                                                    "from published sources.")
    keys: ManifestKeys
    phase: ManifestPhase = Field(default_factory=ManifestPhase)
    report: ManifestReport = Field(default_factory=ManifestReport)


# --------------------------------------------------------------------------------------------
# Report specification (tables.toml, phase_criteria.toml)
# --------------------------------------------------------------------------------------------

#: Tests of association a table may name → the engine's test (:data:`tabulate.TABLE_TESTS`).
TABLE_TESTS = {"chisq": "pearson", "fisher": "fisher", "lr": "lr"}
#: p-value adjustments of the pairwise column tests ("none": letters without adjustment).
PAIRWISE = ("none", "bonferroni", "holm", "bh")

Test = Literal["chisq", "fisher", "lr"]
Pairwise = Literal["none", "bonferroni", "holm", "bh"]


class ReplicateSettings(Closed):
    """``[settings.design.replicates]``: variances from replicate weights, as R's
    ``svrepdesign`` (replicate-weight columns) or ``as.svrepdesign`` (no columns: replicates
    made from the strata, clusters and fpc of ``[settings.design]``)."""

    type: Literal["JK1", "JKn", "BRR", "Fay", "bootstrap"] = Field(
        description="Replication method. Without columns: JK1 (unstratified), JKn "
                    "(stratified), BRR or Fay (two PSUs per stratum); bootstrap needs "
                    "columns.")
    columns: list[str] = Field(default_factory=list, description="The replicate-weight "
                               "columns, in order (empty: converted from the design).")
    combined_weights: bool = Field(True, description="The columns hold whole weights "
                                   "(false: factors multiplying the design's weights).")
    scale: float | None = Field(None, gt=0, description="Overall variance multiplier (R's "
                                "scale; default as R for the type). Columns only; not for "
                                "BRR or Fay.")
    rscales: list[Annotated[float, Field(ge=0)]] = Field(
        default_factory=list, description="Multiplier of each replicate (R's rscales: one, "
                                          "or one per column). Columns only.")
    mse: bool = Field(False, description="Deviations from the full-sample estimate rather "
                                         "than the replicates' mean. Columns only.")
    rho: float | None = Field(None, ge=0, lt=1, description="Fay's coefficient; type Fay "
                              "only, and required there.")

    @model_validator(mode="after")
    def _fits_together(self) -> ReplicateSettings:
        if (self.rho is None) == (self.type == "Fay"):
            raise ValueError("rho given exactly when type is \"Fay\"")
        if not self.columns:
            if self.type == "bootstrap":
                raise ValueError("columns for type \"bootstrap\" (a design is converted "
                                 "to JK1, JKn, BRR or Fay only)")
            given = [k for k in ("scale", "rscales", "mse") if getattr(self, k)] + \
                (["combined_weights"] if not self.combined_weights else [])
            if given:
                raise ValueError(f"no {', '.join(given)} without columns (a converted "
                                 "design's are fixed by its strata and PSUs)")
        if self.type in ("BRR", "Fay") and self.scale is not None:
            raise ValueError(f"no scale for type \"{self.type}\" (it is fixed by the "
                             "number of replicates)")
        if self.rscales and len(self.rscales) not in (1, len(self.columns)):
            raise ValueError(f"one rscale, or one per column ({len(self.columns)}), not "
                             f"{len(self.rscales)}")
        return self


class DesignSettings(Closed):
    """``[settings.design]``: how the sample was drawn, as R's ``svydesign`` (optional)."""

    weights: str | None = Field(None, description="Column of sampling weights.")
    strata: str | None = Field(None, description="Column of first-stage strata.")
    cluster: list[str] = Field(default_factory=list, description="Cluster column of each "
                               "sampling stage, first stage first (svydesign id=~a+b).")
    fpc: list[str] = Field(default_factory=list, description="Finite-population correction "
                           "column of each stage (population sizes or sampling fractions); "
                           "none, or one per cluster stage.")
    lonely_psu: Literal["fail", "certainty", "remove", "adjust", "average"] = Field(
        "fail", description="Rule for a stratum with one PSU (R's survey.lonely.psu).")
    adjust_domain_lonely: bool = Field(False, description="Apply the rule to a domain with "
                                       "one PSU in a stratum (R's "
                                       "survey.adjust.domain.lonely).")
    replicates: ReplicateSettings | None = Field(
        None, description="Replicate weights for every variance of the tables (unset: "
                          "Taylor linearisation).")


class SpecSettings(Closed):
    """``[settings]``: how every table is computed. Statistical choices have no default."""

    phase_basis: Literal["self", "criteria"] = Field(description="Phase placement the report "
                                                                 "uses.")
    ci_method: str = Field(description="Interval method (pipeline.stats.stats.CI_METHODS).")
    level: float = Field(gt=0, lt=1, description="Confidence level of every interval.")
    disclosure_threshold: int = Field(ge=1, description="Counts below this are suppressed.")
    test: Test = Field(description="Test of association with phase of every by-phase table: "
                                   "chisq (Pearson; under [settings.design] or calibrated "
                                   "weights the Rao-Scott F test, R's svychisq), fisher "
                                   "(exact r×c) or lr (G-test), both on unweighted counts.")
    trend: bool = Field(description="Also a Cochran–Armitage test across the ordered phases "
                                    "for each level of a single-choice table by phase "
                                    "(unweighted counts only: refused under a design).")
    pairwise: Pairwise = Field(description="Adjustment of the pairwise column-proportion "
                                           "tests behind the significance letters.")
    pairwise_alpha: float = Field(gt=0, lt=1, description="Significance level of the "
                                                          "pairwise tests.")
    design: DesignSettings | None = Field(None, description="The sampling design of every "
                                          "table; absent: each respondent counts once, "
                                          "unweighted.")


class BandEntry(Closed):
    label: str
    min: float | None = None
    max: float | None = None


class DerivedEntry(Closed):
    """``[derived.<name>]``: a derived variable (kinds in pipeline.model.report_spec)."""

    kind: str
    label: str | None = None
    source: str | None = None
    sources: list[str] = Field(default_factory=list)
    group: str | None = None
    values: list[str] = Field(default_factory=list)
    bands: list[BandEntry] = Field(default_factory=list)
    map: dict[str, str] = Field(default_factory=dict)
    threshold: float = 0.0
    constant: float = 0.0
    blank: Literal["missing", "zero"] = Field(
        "missing", description="count_matching, indicators: a blank answer makes the count "
        "(or item) missing, or counts as not matching (e.g. a question skip logic hid).")
    numerator: str | None = Field(None, description="ratio: the variable counted.")
    denominator: str | None = Field(None, description="ratio: the variable it is a share of.")
    scale: float = Field(100.0, description="ratio: the multiplier (100 gives a percentage).")
    assumption: str | None = None


class TableEntry(Closed):
    """``[[tables]]``: one report table."""

    id: str
    title: str | None = Field(None, description="Default: the id.")
    section: str = ""
    kind: str = Field(description="single, multi or numeric.")
    row: str = Field(description="The question or derived variable tabulated.")
    by_phase: bool = Field(True, description="Columns per phase besides All.")
    sort: Literal["instrument", "descending"] = Field(
        "instrument", description="Row order: the instrument's, or by overall percentage.")
    test: Test | None = Field(None, description="Overrides [settings] test for this table.")
    trend: bool | None = Field(None, description="Overrides [settings] trend.")
    pairwise: Pairwise | None = Field(None, description="Overrides [settings] pairwise.")
    show_missing: bool = Field(False, description="Blank answers as a row of the table.")
    footnotes: list[str] = Field(default_factory=list)


class DistinctiveEntry(Closed):
    """``[distinctive]``: when an item's rate in one phase stands out."""

    tables: list[str]
    min_difference: float
    test: Literal["chisq", "trend"]
    adjust: Literal["bonferroni", "holm", "bh", "none"]
    alpha: float = Field(gt=0, lt=1)
    min_base: int = Field(0, ge=0)
    assumption: str | None = None


class TablesFile(Closed):
    """``tables.toml``: derived variables, tables and the phase-distinctive rule."""

    settings: SpecSettings
    derived: dict[str, DerivedEntry] = Field(default_factory=dict)
    tables: list[TableEntry] = Field(default_factory=list)
    distinctive: DistinctiveEntry | None = None


class CriterionEntry(Closed):
    id: str
    label: str | None = None
    variable: str
    values: list[str] = Field(default_factory=list)
    min: float | None = None
    max: float | None = None
    points: int = 1


class CriteriaFile(Closed):
    """``phase_criteria.toml``: points per criterion and the phase bands of total points."""

    assumption: str | None = None
    criteria: list[CriterionEntry]
    placement: list[BandEntry]


# --------------------------------------------------------------------------------------------
# Platform profiles (survey_instrument/platforms/<name>.toml)
# --------------------------------------------------------------------------------------------

class PlatformDetect(Closed):
    priority: int | None = None
    first_cell: list[str] | None = None
    first_row_all: list[str] | None = None
    first_row_suffix_any: list[str] | None = None
    row3_prefix: str | None = None
    suffixes: list[str] | None = None
    first_row_any_of: list[list[str]] | None = Field(
        None, description="Detected when row 1 holds every name of one of these lists "
                          "(older and newer headers of the same platform).")


class PlatformRoles(Closed):
    response_id: str | None = None
    submitted_at: str | None = None
    finished: str | None = None
    progress: str | None = None
    channel: str | None = None
    instrument_version: str | None = None


class PlatformValues(Closed):
    finished_true: list[str] | None = None
    submitted_at_format: str | None = None
    ticked: list[str] | None = None
    unticked: list[str] | None = None
    missing: list[str] | None = None
    zeros_mean_seen: bool | None = None
    text_ticks: bool | None = None
    label_separator: str | None = None
    other_in_cell: bool | None = None
    other_label_separators: list[str] | None = Field(
        None, description="Separators that may join ticked labels besides ', ' (Google "
                          "Forms writes ';' in some exports).")


class PlatformMetadata(Closed):
    columns: list[str] | None = None
    patterns: list[str] | None = None
    personal: list[str] | None = None


class PlatformPattern(Closed):
    kind: str
    pattern: str


class PlatformLabels(Closed):
    patterns: list[PlatformPattern] | None = None


class PlatformNames(Closed):
    choice_joiners: list[str] | None = None
    group_separators: list[str] | None = None
    other_suffix: str | None = None
    part_suffixes: list[str] | None = Field(
        default=None,
        description="Suffixes of the columns one answer is split over (an ODK geopoint's "
                    "`-Latitude`, `-Longitude`, …): `<question><suffix>` columns are read "
                    "as one answer, their values joined by a space in this order.")


class PlatformHeadings(Closed):
    answer: list[str] | None = None
    other: list[str] | None = None


class PlatformRolePatterns(Closed):
    finished: str | None = None
    submitted_at: str | None = None


class PlatformKeys(Closed):
    response_id_parts: list[str] | None = Field(
        None, description="Columns that, with the record id, make one response's id "
                          "(REDCap's event, repeating instrument and instance).")


class PlatformFile(Closed):
    """A platform profile: how one survey platform lays out its exports."""

    name: str
    title: str | None = None
    family: str | None = None
    adapter: str | None = None
    format: str | None = Field(None, description="The export's file format, for people "
                                                 "(detection uses [detect]).")
    encoding: str | None = None
    header_rows: int = Field(1, ge=0)
    name_row: int = Field(1, ge=1)
    label_row: int | None = Field(None, ge=1)
    multiple_separator: str | None = None
    response_id_from_row: bool | None = None
    detect: PlatformDetect | None = None
    roles: PlatformRoles | None = None
    role_patterns: PlatformRolePatterns | None = None
    values: PlatformValues | None = None
    metadata: PlatformMetadata | None = None
    labels: PlatformLabels | None = None
    names: PlatformNames | None = None
    headings: PlatformHeadings | None = None
    keys: PlatformKeys | None = None
    role_aliases: dict[str, list[str]] | None = Field(
        None, description="Other column names a role is exported under, by role (older "
                          "headers of the same platform).")
    short_rows: Literal["pad", "ragged"] | None = Field(
        None, description="'pad': a row that stops before its trailing empty fields is "
                          "whole (ODK Central); otherwise such a row is ragged.")


# --------------------------------------------------------------------------------------------
# Trends (survey_instrument/<survey>/crosswalks/trends.toml)
# --------------------------------------------------------------------------------------------

class TrendSettings(Closed):
    ci_method: str
    level: float = Field(gt=0, lt=1)
    adjust: Literal["bonferroni", "holm", "bh", "none"]
    alpha: float = Field(gt=0, lt=1)


class HistorySettings(Closed):
    name_question: str | None = None
    location_question: str | None = None
    similarity: float = Field(0.7, ge=0, le=1)
    links: str | None = None
    change_families: list[str] = Field(default_factory=list)


class TrendsFile(Closed):
    """``trends.toml``: how trends and partnership histories are computed."""

    trends: TrendSettings
    histories: HistorySettings = Field(default_factory=HistorySettings)


# --------------------------------------------------------------------------------------------
# Reports (reports/report.toml, reports/funder/*.toml, reports/trends/wording.toml)
# --------------------------------------------------------------------------------------------

class Headline(Closed):
    table: str
    show: str
    label: str
    level: str | None = None


class ChartEntry(Closed):
    kind: str
    table: str | None = None
    tables: list[str] | None = None
    series: list[str] | None = None
    top: int | None = Field(None, ge=1)
    title: str
    xlabel: str
    alt: str
    caption: str = Field("", description="Printed under the chart in a report section.")


class SectionEntry(Closed):
    """``[[sections]]``: a section of the funder summary and the analyst notebook, as data."""

    id: str
    heading: str
    topic: str = Field(description="What the section is about, for the note printed when a "
                                   "wave did not ask about it.")
    intro: str = ""
    headlines: list[Headline] = Field(default_factory=list)
    charts: list[str] = Field(default_factory=list, description="Ids of [charts].")


class PartnerLayout(Closed):
    tables: list[str]
    characteristics: list[str] = Field(default_factory=list)


class TrendsLayout(Closed):
    key_measures: list[str]
    title: str
    ylabel: str
    alt: str


class KeyMessage(Closed):
    """One rule of the funder summary's executive summary (``[[key_messages]]``)."""

    kind: str = Field(description="analysed, largest, top, level, phase_gap or common")
    text: str = Field(description="The sentence, with {placeholders} filled from cells")
    table: str | None = None
    tables: list[str] | None = None
    level: str | None = None
    exclude: list[str] = Field(default_factory=list)
    top: int | None = Field(None, ge=1)


class ProfileEntry(Closed):
    """One table of the partnerships' profile (``[[profile]]``)."""

    table: str
    heading: str
    top: int | None = Field(None, ge=1)


class MapEntry(Closed):
    """The map of states served (``[map]``): a tile grid coloured by share."""

    table: str
    tiles: str = Field(description="CSV of tile positions under reports/ (code,row,col)")
    bins: list[float] = Field(description="Upper edges (percent) of the colour classes")
    title: str
    alt: str
    heading: str


class CommonEntry(Closed):
    """Items named among the most common in every phase (``[[common]]``)."""

    table: str
    top: int = Field(ge=1)
    text: str
    exclude: list[str] = Field(default_factory=list)


class ReportLayoutFile(Closed):
    """``reports/report.toml``: which tables feed the headlines, charts and pages."""

    topics: dict[str, str] = Field(default_factory=dict)
    headlines: list[Headline] = Field(default_factory=list)
    key_messages: list[KeyMessage] = Field(default_factory=list)
    max_messages: int = Field(6, ge=1)
    profile: list[ProfileEntry] = Field(default_factory=list)
    map: MapEntry | None = None
    common: list[CommonEntry] = Field(default_factory=list)
    charts: dict[str, ChartEntry] = Field(default_factory=dict)
    sections: list[SectionEntry] = Field(default_factory=list)
    partner: PartnerLayout | None = None
    trends: TrendsLayout | None = None


class Caveat(Closed):
    text: str
    assumptions: list[str] = Field(default_factory=list)
    instruments: list[str] = Field(default_factory=list)


class FunderWordingFile(Closed):
    """``reports/funder/wording.toml``: every sentence template of the funder reports."""

    document: dict[str, str]
    headlines: dict[str, str]
    findings: dict[str, str]
    finding_other: dict[str, str]
    missing: dict[str, str]
    partner: dict[str, str]
    methods: dict[str, str]
    caveats: list[Caveat] = Field(default_factory=list)
    recommendations: dict[str, str]
    synthetic: dict[str, str]
    phases: dict[str, str] = Field(default_factory=dict)
    phase_meaning: dict[str, str] = Field(default_factory=dict)
    profile: dict[str, str] = Field(default_factory=dict)


class PublishedFigure(Closed):
    """One figure the published report printed, beside the cell of this run that matches."""

    label: str
    published: str
    source: str
    page: str
    table: str
    show: str = Field(description="base (the number analysed) or pct (a level's share)")
    level: str | None = None


class PublishedFiguresFile(Closed):
    """``reports/funder/published.toml``: the figures a published report printed."""

    report_year: int
    instruments: list[str]
    sources: dict[str, str]
    figures: list[PublishedFigure]


class Recommendation(Closed):
    source: str
    text: str


class PhaseRecommendation(Closed):
    phase: str
    source: str
    preamble: str
    actions: list[str]


class FunderRecommendation(Closed):
    source: str
    preamble: str
    actions: list[str]


class PublishedPattern(Closed):
    phase: str
    source: str
    text: str


class RecommendationsFile(Closed):
    """``reports/funder/recommendations.toml``: the published advice, each with its source."""

    report_year: int
    instruments: list[str]
    sources: dict[str, str]
    all_phases: Recommendation
    phases: list[PhaseRecommendation]
    funders: FunderRecommendation
    published_patterns: list[PublishedPattern] = Field(default_factory=list)


class TrendsMethods(Closed):
    text: list[str]


class TrendsWordingFile(Closed):
    """``reports/trends/wording.toml``: the sentences of the trends summary."""

    document: dict[str, str]
    changes: dict[str, str]
    brief: dict[str, str] = Field(description="The three lines the summary opens with: what "
                                              "rose, what fell, the rest.")
    charts: dict[str, str] = Field(description="Plain names of the lines of a trend chart.")
    transitions: dict[str, str]
    missing: dict[str, str]
    methods: TrendsMethods
    synthetic: dict[str, str]


# --------------------------------------------------------------------------------------------
# Every schema
# --------------------------------------------------------------------------------------------

#: Every schema, with the file it describes (for ``docs/configuration.md``).
class DisclosureFile(Closed):
    """How published files mark a hidden cell (``survey_instrument/disclosure.toml``)."""

    symbol: str = Field(min_length=1, pattern=r"\S",
                        description="The one mark of every hidden cell in published files; it "
                                    "says nothing of the hidden value (assumption A-DISC-1).")


FILES: tuple[tuple[str, type[BaseModel]], ...] = (
    ("raw/<survey>/<wave>/wave.toml", WaveFile),
    ("survey_instrument/limits.toml", LimitsFile),
    ("survey_instrument/<survey>/<version>/manifest.toml", ManifestFile),
    ("survey_instrument/<survey>/<version>/tables.toml", TablesFile),
    ("survey_instrument/<survey>/<version>/phase_criteria.toml", CriteriaFile),
    ("survey_instrument/<survey>/crosswalks/trends.toml", TrendsFile),
    ("survey_instrument/platforms/<name>.toml", PlatformFile),
    ("survey_instrument/disclosure.toml", DisclosureFile),
    ("reports/report.toml", ReportLayoutFile),
    ("reports/funder/wording.toml", FunderWordingFile),
    ("reports/funder/recommendations.toml", RecommendationsFile),
    ("reports/funder/published.toml", PublishedFiguresFile),
    ("reports/trends/wording.toml", TrendsWordingFile),
)
