"""Run: take a wave folder from raw export to validated, phase-classified partnerships.

:func:`analyse_wave` is the pure core (exports in, frozen result out); :func:`run_wave` is the
edge that reads inputs, calls it and publishes the outputs atomically: everything is written to
a temporary folder beside the destination and moved into place only when complete, so a failed
or interrupted run never leaves half a report.

Outputs (in the run folder)::

    run.json                  inputs and their sha256, instrument version, config, versions
    published/                what may leave the team: tables.xlsx, tables/*.csv and
                              findings.csv as published (hidden numbers blank), the
                              funder summary and partnership pages
    internal/                 what stays with the team (README.txt says so):
      flow.csv                one row per step: step, n_in, n_out, n_removed, reason
      dispositions.csv        one row per raw row: where it went and why
      issues.csv              every data problem, with the row's outcome
      quarantine.csv          rows quarantined, with the rules they broke
      partnerships.csv        the analysed set, one row per partnership, with phase_group
      overview.html           flow, issues summary and phase distribution
      tables/, findings.csv   the analyst's tables (true counts beside the marks)
"""

from __future__ import annotations

import json
import platform as host_platform
import subprocess
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from pipeline import __version__
from pipeline.columns import FILE_COLUMN, PHASE_COLUMN, ROW_COLUMN
from pipeline.errors import PulsecheckError, SpecError, combine_issues, issues_frame
from pipeline.ingest.adapters.assemble import FINISHED_TRUE, TICK_SEPARATOR
from pipeline.ingest.readers import Export, Platform, configuration_files, read_wave
from pipeline.ingest.wave_folder import load_wave
from pipeline.model.instrument import Instrument
from pipeline.model.report_spec import ReportSpec, build_spec, check_spec
from pipeline.model.wave import Step, Wave, missing_step_warnings
from pipeline.paths import contained, plain_name
from pipeline.report.tables import build_report_tables, protect
from pipeline.run.calibration import (
    WEIGHT_COLUMN,
    WEIGHTS_FILE,
    CalibrationInput,
    calibrate_respondents,
    check_design_statistics,
    read_calibration,
)
from pipeline.run.publication import RUN_MANIFEST, check_out, publish
from pipeline.stages.classify import (
    Agreement,
    Classification,
    classify_by_criteria,
    classify_phase,
    phase_agreement,
)
from pipeline.stages.corrections import CORRECTIONS_FILE, apply_corrections
from pipeline.stages.derive import derive_variables
from pipeline.stages.flow import FlowResult, account_blank_records, apply_steps
from pipeline.stages.privacy import inert_frame, instrument_mask, mask_personal
from pipeline.stages.results import ReportResult, WaveResult
from pipeline.stages.validate import ValidationConfig, ValidationResult, validate_responses

_PACKAGES = ("pandas", "numpy", "scipy", "statsmodels", "click", "rich", "jinja2")


def validation_config(platform: Platform, steps: Sequence[Step] = ()) -> ValidationConfig:
    """Validation settings for exports read with ``platform`` (every command uses this).

    Parameters
    ----------
    platform : Platform
        The profile the exports were read with.
    steps : sequence of Step, optional
        The wave's steps; a ``quarantine`` step may set ``max_invalid`` (default 10).

    Notes
    -----
    Validation sees the canonical frame, after the adapters have normalised the platform's
    conventions: a select-multiple holds choice names joined by
    :data:`~pipeline.ingest.adapters.assemble.TICK_SEPARATOR` and ``finished`` is
    :data:`~pipeline.ingest.adapters.assemble.FINISHED_TRUE` or ``0`` whatever the platform
    wrote (REDCap's ``2``, ``Complete``). The platform's own codes would match nothing there.
    The submission time is left as the platform wrote it, so its declared format applies.
    """
    max_invalid = 10
    for step in steps:
        if step.rule == "quarantine" and "max_invalid" in step.params:
            max_invalid = int(step.params["max_invalid"])
    return ValidationConfig(multiple_separator=TICK_SEPARATOR, finished_true=(FINISHED_TRUE,),
                            max_invalid=max_invalid,
                            submitted_at_format=stated_time_format(platform))


def stated_time_format(platform: Platform) -> str:
    """The ``strptime`` format of ``submitted_at`` the profile declares ("" when none).

    Only a declared format is checked (``VAL_013``) and used to rank duplicate submissions;
    without one, times are read as ISO 8601 (A-FLOW-4).
    """
    return str(platform.settings.get("values", {}).get("submitted_at_format", ""))


def analyse_wave(exports: Sequence[Export], instrument: Instrument, wave: Wave,
                 config: ValidationConfig, keep_personal: bool = False,
                 spec: ReportSpec | None = None, phase_basis: str | None = None,
                 corrections: pd.DataFrame | None = None,
                 calibration: CalibrationInput | None = None) -> WaveResult:
    """Validate, apply the flow, classify and tabulate (pure).

    Parameters
    ----------
    exports : sequence of Export
        The wave's exports, read by :func:`pipeline.ingest.readers.read_export`.
    instrument : Instrument
        The wave's instrument version.
    wave : Wave
        Supplies the exclusion steps.
    config : ValidationConfig
        Validation settings.
    keep_personal : bool
        Keep the instrument's personal questions in ``partnerships`` and leave contact
        details and names typed into answers and issues unmasked (internal use only).
    spec : ReportSpec, optional
        The report specification; without it no tables are computed.
    phase_basis : {"self", "criteria"}, optional
        Overrides the specification's choice of phase placement for the report.
    corrections : DataFrame, optional
        The wave's ``corrections.csv``, applied to the answers as read, before validation
        (:func:`pipeline.stages.corrections.apply_corrections`); each applied correction is
        an issue (``CORR_007``).
    calibration : CalibrationInput, optional
        The wave's calibration step (``[calibration]`` of ``wave.toml``); the tables are
        then weighted.
    """
    frame = pd.concat([e.frame for e in exports], ignore_index=True)
    corrected = apply_corrections(frame, corrections, instrument)
    frame = corrected.frame
    validation = validate_responses(frame, instrument, config)
    if len(corrected.issues):
        validation = replace(validation, issues=pd.concat(
            [corrected.issues, validation.issues], ignore_index=True))
    flow, analysed, classification, all_issues = classify_rows(
        exports, validation, wave, instrument, config.submitted_at_format)
    report = None
    phase = classification.phase
    extra: dict[str, pd.Series] = {}
    # With nothing analysed there is nothing to tabulate; the run stops with RUN_003 after
    # writing where every row went (run_wave).
    if spec is not None and len(flow.analysed):
        report = tabulate_wave(analysed, classification.phase, instrument, spec, phase_basis,
                               calibration)
        if report.basis == "criteria" and report.criteria is not None:
            phase = report.criteria.phase
        extra["phase_self"] = classification.phase.astype(str)
        if report.criteria is not None:
            extra["phase_criteria"] = report.criteria.phase.astype(str)
            extra["criteria_points"] = report.criteria.points
    partnerships = _partnerships_table(analysed, phase, instrument, keep_personal, extra)
    if not keep_personal:
        # The one masking step: nothing computed below or written later sees the raw text.
        all_issues, partnerships = mask_personal(instrument_mask(frame, instrument),
                                                 all_issues, partnerships)
    return WaveResult(instrument=instrument, typed=validation.frame, issues=all_issues,
                      flow=flow, partnerships=partnerships, report=report)


def classify_rows(exports: Sequence[Export], validation: ValidationResult, wave: Wave,
                  instrument: Instrument, submitted_at_format: str = ""
                  ) -> tuple[FlowResult, pd.DataFrame, Classification, pd.DataFrame]:
    """Apply the flow, classify the analysed rows, and give every issue its row's outcome.

    ``submitted_at_format`` is the platform's declared time format (:func:`stated_time_format`),
    with which duplicate submissions are ranked.

    Returns
    -------
    tuple
        ``(flow, analysed, classification, issues)``: where every row went, the analysed
        typed rows, their phases, and all issues (reading notes, validation, flow and
        classification) with an ``outcome`` column.
    """
    # How each file was read (platform, encoding) is reported with the data problems.
    read_issues = [part for e in exports for part in (e.notes, e.issues)
                   if part is not None and len(part)]
    issues = pd.concat([*read_issues, validation.issues], ignore_index=True) \
        if read_issues else validation.issues
    flow = apply_steps(validation.frame, issues, wave.steps, instrument,
                       submitted_at_format=submitted_at_format)
    flow = account_blank_records(
        flow, [place for e in exports for place in e.blank_rows],
        [name for e in exports for name in e.frame[FILE_COLUMN].unique().tolist()])
    typed = validation.frame
    # The same rows as ``typed.loc[flow.analysed]``; taken by position when labels are unique,
    # which skips the checks for labels that are not there.
    analysed = typed.take(typed.index.get_indexer(flow.analysed)) \
        if typed.index.is_unique else typed.loc[flow.analysed]
    classification = classify_phase(analysed, instrument)
    all_issues = combine_issues([issues_frame(missing_step_warnings(wave)), issues,
                                 flow.issues, classification.issues])
    numbers = [None if r is pd.NA else int(r) for r in all_issues["row"].tolist()]
    # Only dispositions whose row number has an issue can match one; the last of equal
    # (file, row) pairs gives the outcome.
    dispositions = flow.dispositions
    candidates = dispositions[dispositions["row"].isin(
        [number for number in numbers if number is not None])]
    outcome_of = {(f, r): d for f, r, d in zip(candidates["file"].tolist(),
                                               candidates["row"].tolist(),
                                               candidates["disposition"].tolist(), strict=True)}
    all_issues["outcome"] = [outcome_of.get((f, r), "")
                             for f, r in zip(all_issues["file"].tolist(), numbers, strict=True)]
    return flow, analysed, classification, all_issues


def tabulate_wave(analysed: pd.DataFrame, self_phase: pd.Series, instrument: Instrument,
                  spec: ReportSpec, phase_basis: str | None = None,
                  calibration: CalibrationInput | None = None) -> ReportResult:
    """Derived variables, calibrated weights (when asked), criteria placement, agreement and
    every report table (pure)."""
    derived = derive_variables(analysed, instrument, spec)
    weights = None
    if calibration is not None:
        check_design_statistics(spec)
        weights = calibrate_respondents(derived, calibration, instrument.respondent_key)
        derived = derived.assign(**{WEIGHT_COLUMN: weights.weights})
    criteria = classify_by_criteria(derived, spec.criteria, instrument) \
        if spec.criteria else None
    agreement = phase_agreement(self_phase, criteria.phase, instrument.phase_order) \
        if criteria is not None else None
    basis = phase_basis or spec.phase_basis
    if basis == "criteria" and criteria is None:
        raise PulsecheckError("CLI_003", option="--phase-basis", value=basis,
                              expected="'self' (this instrument defines no criteria)")
    phase = criteria.phase if basis == "criteria" else self_phase
    tables = build_report_tables(derived, phase, instrument, spec,
                                 WEIGHT_COLUMN if weights is not None else None,
                                 weights.calibration if weights is not None else None)
    return ReportResult(spec=spec, basis=basis, tables=tables,
                        protected=protect(tables, spec.disclosure_threshold, spec),
                        self_phase=self_phase, criteria=criteria, agreement=agreement,
                        calibration=weights)


def _partnerships_table(analysed: pd.DataFrame, phase: pd.Series, instrument: Instrument,
                        keep_personal: bool, extra: Mapping[str, pd.Series]) -> pd.DataFrame:
    key = instrument.respondent_key
    columns: list[str] = []
    for question in instrument.answerable:
        if question.personal and not keep_personal:
            continue
        if question.name == key:
            continue
        if question.type == "select_multiple":
            columns.extend(instrument.indicator_columns(question))
        else:
            columns.append(question.name)
    table = pd.DataFrame({
        key: analysed[key],
        "response_id": analysed.get("response_id"),
        PHASE_COLUMN: phase.astype(str),
        **extra,
    }, index=analysed.index)
    table = pd.concat([table, analysed[columns]], axis=1)
    table["source_file"] = analysed[FILE_COLUMN]
    table["source_row"] = analysed[ROW_COLUMN]
    return table.sort_values(key, kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# The edge: reading, provenance and atomic publication
# --------------------------------------------------------------------------------------------

def _relative(path: Path, root: Path) -> str:
    try:
        return Path(path).resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return Path(path).name


def _git(root: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(["git", "-C", str(root), *args],
                                capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


def _git_commit(root: Path) -> str | None:
    out = _git(root, "rev-parse", "HEAD")
    return (out or "").strip() or None


def _git_changes(root: Path) -> list[str] | None:
    """Tracked files changed since the commit (``git status``), or ``None`` outside git.

    Untracked files are left out: they include the run's own staging folder when the output
    is inside the project, which would make reruns differ.
    """
    out = _git(root, "status", "--porcelain", "--untracked-files=no")
    return None if out is None else sorted(line[3:] for line in out.splitlines() if line)


def package_versions() -> dict[str, str]:
    versions = {"python": host_platform.python_version(), "pulsecheck": __version__}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _statistics(result: WaveResult) -> dict[str, Any] | None:
    """The statistical settings in force (from ``tables.toml``), table by table."""
    if result.report is None:
        return None
    spec = result.report.spec
    return {"ci_method": spec.ci_method, "level": spec.level,
            "disclosure_threshold": spec.disclosure_threshold,
            "weighted": result.report.tables.weighted,
            "variance": result.report.tables.variance,
            "tables": {t.id: {"test": t.test, "trend": t.trend, "pairwise": t.pairwise,
                              "pairwise_alpha": t.pairwise_alpha, "sort": t.sort}
                       for t in spec.tables},
            "calibration": result.report.calibration.record()
            if result.report.calibration is not None else None}


def run_manifest(wave: Wave, instrument: Instrument, input_sums: Mapping[str, str],
                 result: WaveResult, outputs: Mapping[str, str],
                 keep_personal: bool, partner_reports: bool = False, pdf: bool = True,
                 notebook: bool = True) -> dict[str, Any]:
    """The provenance record written as ``run.json`` (no timestamps: reruns are identical).

    ``code`` records the commit and whether the working tree differed from it (``dirty``,
    with the changed files): a run from uncommitted code cannot be rebuilt from the commit.
    """
    folder = wave.path.parent
    changes = _git_changes(wave.root)
    return {
        "pulsecheck": __version__,
        "code": {"version": __version__, "git_commit": _git_commit(wave.root),
                 "dirty": None if changes is None else bool(changes),
                 "changed_files": changes},
        "survey": wave.survey,
        "wave": wave.wave,
        "title": wave.title,
        "synthetic": wave.synthetic,
        "wave_description": {"path": _relative(wave.path, wave.root),
                             "config": dict(wave.config)},
        # An export kept outside the project (wave.toml's exports_dir) is recorded by its
        # name there; verify finds it through the wave description.
        "inputs": [_input_entry(wave, name, digest) for name, digest in sorted(input_sums.items())],
        # Corrections applied to the answers as read: the file's hash and how many (no
        # values: run.json leaves the team's hands with less care than internal/).
        "corrections": None if CORRECTIONS_FILE not in input_sums else {
            "path": _relative(folder / CORRECTIONS_FILE, wave.root),
            "sha256": input_sums[CORRECTIONS_FILE],
            "count": int(result.issues["code"].eq("CORR_007").sum())},
        "instrument": {"id": instrument.id, "version": instrument.version,
                       "path": _relative(wave.instrument_path, wave.root),
                       "files": dict(sorted(instrument.source.items()))},
        # The configuration files outside the instrument that shape the outputs.
        "configuration": configuration_files(wave),
        # Everything `pulsecheck verify` needs to replay the run exactly.
        "settings": {"keep_personal": keep_personal,
                     "phase_basis": result.report.basis if result.report else None,
                     "partner_reports": partner_reports, "pdf": pdf, "notebook": notebook},
        "statistics": _statistics(result),
        "packages": package_versions(),
        "counts": result.counts,
        "exit_code": result.exit_code,
        "outputs": dict(sorted(outputs.items())),
    }


def _input_entry(wave: Wave, name: str, digest: str) -> dict[str, Any]:
    """One ``inputs`` entry of ``run.json``: path (in the project), sha256 and size."""
    folder = Path(wave.path).parent
    if wave.exports_dir is None or name == CORRECTIONS_FILE:
        path = folder / name
        return {"path": _relative(path, wave.root), "sha256": digest,
                "bytes": path.stat().st_size}
    path = Path(wave.exports_dir) / name
    return {"path": name, "exports_dir": True, "sha256": digest, "bytes": path.stat().st_size}


def run_folder_name(wave: Wave, part: str | None = None) -> str:
    """``<survey>-<wave>`` (or ``<survey>-<part>``), refused unless both are plain names.

    ``survey`` and ``wave`` come from ``wave.toml``; a ``..`` or a separator in them must not
    decide where a run folder is written (PATH_001).
    """
    file = str(wave.path)
    survey = plain_name(wave.survey, what="survey name", file=file)
    return f"{survey}-{plain_name(part or wave.wave, what='wave name', file=file)}"


def default_out(wave: Wave) -> Path:
    return wave.root / "reports" / "out" / run_folder_name(wave)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    # Respondent text never runs as a spreadsheet formula (pipeline.stages.privacy.inert_cell).
    inert_frame(frame).to_csv(path, index=False, lineterminator="\n")


def write_outputs(folder: Path, wave: Wave, result: WaveResult, input_sums: Mapping[str, str],
                  keep_personal: bool, partner_reports: bool = False, *, pdf: bool = True,
                  notebook: bool = True, skipped: list | None = None,
                  progress: Callable[[str], None] = lambda message: None) -> None:
    """Write every output of a run into ``folder``: ``published/`` (what may leave the team)
    and ``internal/`` (true counts, problems with their values, review lists), and
    ``run.json`` beside them.

    The reports (funder summary, analyst notebook, partnership pages) are rendered from the
    files written here, exactly as ``pulsecheck report`` re-renders them later. PDFs and the
    notebook are left out when ``pdf`` or ``notebook`` is false; when ``skipped`` is a list,
    one that cannot be rendered is recorded there (RENDER_007, RENDER_008) and every other
    output is still written. ``progress`` is called with a short message before each slow
    step.
    """
    from pipeline.ingest.readers import sha256_file
    from pipeline.report.html import (
        INTERNAL_DIR,
        PUBLISHED_DIR,
        render_overview,
        write_internal_readme,
        write_reports,
    )
    from pipeline.report.labelled import write_labelled

    published, internal = folder / PUBLISHED_DIR, folder / INTERNAL_DIR
    published.mkdir()
    internal.mkdir()
    write_internal_readme(internal)
    flow = result.flow
    quarantined = flow.dispositions[flow.dispositions["disposition"].eq("quarantined")]
    files = {
        "flow.csv": flow.flow,
        "dispositions.csv": flow.dispositions,
        "issues.csv": result.issues,
        "quarantine.csv": quarantined[["file", "row", "response_id", "reason"]],
        "partnerships.csv": result.partnerships,
    }
    if result.report is not None and result.report.calibration is not None:
        files[WEIGHTS_FILE] = result.report.calibration.table
    for name, frame in files.items():
        _write_csv(frame, internal / name)
    # The analysed set for SPSS, Stata and R: labels from the instrument, and a codebook.
    progress("writing the labelled data for SPSS, Stata and R")
    write_labelled(internal, result.partnerships, result.instrument, skipped=skipped)
    if result.report is not None:
        progress("writing the tables and the workbook")
        write_report_outputs(folder, wave, result)
    (internal / "overview.html").write_text(
        render_overview(wave, result), encoding="utf-8")
    if result.report is not None:
        # Provenance shown in the reports: run.json without the output hashes (which
        # cannot include the reports themselves).
        write_reports(folder, run_manifest(wave, result.instrument, input_sums, result, {},
                                           keep_personal, partner_reports, pdf=pdf,
                                           notebook=notebook),
                      partner_reports=partner_reports, pdf=pdf, notebook=notebook,
                      skipped=skipped, progress=progress)
    outputs = {path.relative_to(folder).as_posix(): sha256_file(path)
               for path in sorted(folder.rglob("*"))
               if path.is_file() and path.name != RUN_MANIFEST}
    manifest = run_manifest(wave, result.instrument, input_sums, result, outputs,
                            keep_personal, partner_reports,
                            pdf=pdf, notebook=notebook)
    (folder / RUN_MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False)
                                       + "\n", encoding="utf-8")


def agreement_frame(agreement: Agreement) -> pd.DataFrame:
    """``phase_agreement.csv``: the confusion counts and κ, in one tidy table."""
    rows = [("count", a, b, float(agreement.confusion.loc[a, b]), "")
            for a in agreement.confusion.index for b in agreement.confusion.columns]
    rows += [
        ("n", "", "", float(agreement.n), "partnerships placed in a phase by both"),
        ("observed_agreement", "", "", agreement.observed, ""),
        ("expected_agreement", "", "", agreement.expected, "by chance"),
        ("kappa", "", "", agreement.kappa, agreement.method),
        ("kappa_se", "", "", agreement.se, ""),
        ("kappa_ci_low", "", "", agreement.ci_low, ""),
        ("kappa_ci_high", "", "", agreement.ci_high, ""),
    ]
    return pd.DataFrame(rows, columns=["measure", "self_placement", "criteria_placement",
                                       "value", "note"])


def criteria_frame(result: WaveResult) -> pd.DataFrame:
    """``phase_criteria.csv``: per partnership, both placements and the criteria met."""
    report = result.report
    instrument = result.instrument
    criteria = report.criteria
    key = instrument.respondent_key
    analysed = result.typed.loc[report.self_phase.index]
    labels = {c.id: c.label for c in report.spec.criteria.criteria}
    met_text = criteria.explanation.apply(
        lambda row: "; ".join(labels[c] for c, v in row.items() if v) or "none", axis=1)
    frame = pd.DataFrame({
        key: analysed[key],
        "phase_self": report.self_phase.astype(str),
        "phase_criteria": criteria.phase.astype(str),
        "criteria_points": criteria.points,
    }, index=analysed.index)
    frame = pd.concat([frame, criteria.explanation.add_prefix("met_")], axis=1)
    classified = frame["phase_self"].isin(instrument.phase_order)
    frame["discordant"] = classified & (frame["phase_self"] != frame["phase_criteria"])
    frame["criteria_met"] = met_text
    return frame.sort_values(key, kind="stable").reset_index(drop=True)


#: The project file that says how published files mark hidden cells (assumption A-DISC-1).
DISCLOSURE_FILE = Path("survey_instrument") / "disclosure.toml"


def read_published_symbol(root: Path) -> str:
    """The mark of a hidden cell in published files (``survey_instrument/disclosure.toml``,
    ``symbol``; :data:`pipeline.stats.disclosure.PUBLISHED_SYMBOL` when the file is absent)."""
    from pipeline.ingest.config import read_toml
    from pipeline.model.schemas import DisclosureFile
    from pipeline.stats.disclosure import PUBLISHED_SYMBOL

    path = Path(root) / DISCLOSURE_FILE
    if not path.exists():
        return PUBLISHED_SYMBOL
    model, _ = read_toml(path, DisclosureFile, root=Path(root))
    return model.symbol


def write_report_outputs(folder: Path, wave: Wave, result: WaveResult) -> None:
    """The report tables (CSV and XLSX), findings and phase agreement.

    ``internal/`` gets the analyst's tables, tests and findings (true counts beside the
    marks); ``published/`` gets the published views (hidden numbers blank, one mark for every
    hidden cell), the tests and findings worked out on them, and the workbook built from
    them (:func:`pipeline.report.tables.published_report_tables`).
    """
    import datetime as dt

    from pipeline.report.content import report_context
    from pipeline.report.html import ASSUMPTIONS, INTERNAL_DIR, PUBLISHED_DIR, read_assumptions
    from pipeline.report.tables import published_report_tables
    from pipeline.report.workbook import level_text, write_workbook
    from pipeline.resources import shipped_or_project

    report = result.report
    instrument = result.instrument
    published_dir, internal_dir = folder / PUBLISHED_DIR, folder / INTERNAL_DIR
    symbol = read_published_symbol(wave.root)
    public = published_report_tables(report.tables, dict(report.protected), report.spec,
                                     list(instrument.phase_order), symbol)
    _write_csv(read_assumptions(shipped_or_project(ASSUMPTIONS, wave.root)),
               published_dir / "assumptions.csv")
    context = report_context(wave, result)
    context["settings"]["published_symbol"] = symbol
    (published_dir / "report.json").write_text(
        json.dumps(context, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    for base, tables, findings in ((internal_dir, report.tables, report.tables.findings),
                                   (published_dir, public, public.findings)):
        tables_dir = base / "tables"
        tables_dir.mkdir()
        for item in tables.tables:
            frame = report.protected[item.spec.id] if base is internal_dir else item.table
            _write_csv(frame, contained(tables_dir, f"{item.spec.id}.csv", what="table id"))
        _write_csv(tables.tests, tables_dir / "tests.csv")
        _write_csv(findings, base / "findings.csv")
    if report.agreement is not None:
        _write_csv(agreement_frame(report.agreement), internal_dir / "phase_agreement.csv")
        placements = criteria_frame(result)
        _write_csv(placements, internal_dir / "phase_criteria.csv")
        _write_csv(placements[placements["discordant"]], internal_dir / "phase_review.csv")
    columns = ["All", *instrument.phase_order]
    basis = "self-placement on the Pathway" if report.basis == "self" else \
        "the criteria-based placement (phase_criteria.toml)"
    threshold = report.spec.disclosure_threshold
    notes = [
        f"{wave.title}. Instrument {instrument.id} {instrument.version}. "
        f"{result.counts['analysed']} partnerships analysed.",
        f"Phases are from {basis}; partnerships without a phase count in All only.",
        f"Percentages are {'weighted' if report.tables.weighted else 'unweighted'}, with "
        f"{level_text(report.spec.level)} intervals; the sample is voluntary, not a "
        "probability sample, so intervals describe sampling variability only.",
        *([report.tables.variance] if report.tables.variance else []),
        f"{symbol}: hidden to protect the partnerships concerned: a count below {threshold}, "
        "or a cell hidden so that such a count cannot be worked out. Tests computed from a "
        "hidden count are withheld.",
    ]
    if wave.synthetic:
        notes.insert(0, "SYNTHETIC SAMPLE DATA: no real partnership is described here.")
    write_workbook(published_dir / "tables.xlsx", public,
                   {t.spec.id: t.table for t in public.tables}, report.spec,
                   title=wave.title, columns=columns, notes=notes,
                   created=dt.datetime(instrument.year, 1, 1), symbol=symbol)


def read_report_spec(instrument_path: Path, instrument: Instrument) -> ReportSpec | None:
    """Read and check the instrument's report specification (``manifest.toml`` ``[report]``).

    Returns ``None`` when the instrument names no tables.
    """
    from pipeline.ingest.config import parse_toml

    manifest = parse_toml(Path(instrument_path) / "manifest.toml")
    names = manifest.get("report", {})
    if not names.get("tables"):
        return None

    def load(name: str) -> dict:
        path = contained(instrument_path, name, what="report specification",
                         file="manifest.toml")
        if not path.exists():
            raise PulsecheckError("INST_001", file=str(instrument_path), name=name)
        return parse_toml(path)

    tables = load(names["tables"])
    criteria = load(names["criteria"]) if names.get("criteria") else None
    spec = build_spec(tables, criteria,
                      files=(names["tables"], names.get("criteria") or "phase_criteria.toml"))
    problems = check_spec(spec, instrument, file=names["tables"], phase_column=PHASE_COLUMN)
    if len(problems):
        raise SpecError(names["tables"], problems)
    return spec


def nothing_analysed(result: WaveResult, out: Path) -> PulsecheckError:
    """RUN_003: no row is left to analyse; says how many went where and which steps took them."""
    counts = result.counts
    removed = [f"{step} {n}" for step, n in zip(result.flow.flow["step"],
                                                result.flow.flow["n_removed"], strict=True) if n]
    return PulsecheckError("RUN_003", n=counts["raw"], excluded=counts["excluded"],
                           quarantined=counts["quarantined"],
                           steps="removed by step: " + (", ".join(removed) or "none"),
                           path=str(out))


@dataclass(frozen=True)
class RunSummary:
    out: Path
    counts: Mapping[str, int]
    flow: pd.DataFrame
    issues: pd.DataFrame
    phase_counts: Mapping[str, int]
    exit_code: int
    #: Outputs asked for but not written (RENDER_007, RENDER_008), each with its cause and fix.
    skipped: tuple = ()


def run_wave(wave_dir: Path, out: Path | None = None, keep_personal: bool = False,
             progress: Callable[[str], None] = lambda message: None,
             phase_basis: str | None = None, partner_reports: bool = False, *,
             pdf: bool = True, notebook: bool = True) -> RunSummary:
    """Run a wave end to end and publish its outputs (the command ``pulsecheck run``).

    PDFs and the analyst notebook are optional parts: left out with ``pdf``/``notebook``
    false, and, when they cannot be rendered here, left out with a warning in
    :attr:`RunSummary.skipped` naming the cause and the fix.
    """
    # An output place that publication would refuse is refused before any export is read.
    wave = read_wave(Path(wave_dir))
    target = Path(out) if out else default_out(wave)
    check_out(target)
    loaded = load_wave(Path(wave_dir), progress, wave=wave)
    wave, instrument, input_sums = loaded.wave, loaded.instrument, loaded.input_sums
    spec = read_report_spec(wave.instrument_path, instrument)
    calibration = read_calibration(wave.calibration, wave.margins_path,
                                   _relative(Path(wave.margins_path), wave.root)
                                   if wave.margins_path else "")
    progress("validating, classifying and tabulating")
    result = analyse_wave(loaded.exports, instrument, wave,
                          validation_config(loaded.platform, wave.steps), keep_personal,
                          spec=spec, phase_basis=phase_basis, corrections=loaded.corrections,
                          calibration=calibration)
    if result.report is not None:
        n_found = int(result.report.tables.findings["distinctive"].sum())
        progress(f"tabulated {len(result.report.tables.tables)} tables; "
                 f"{n_found} phase-distinctive finding(s)")
    counts = result.counts
    progress(f"validated: {len(result.issues)} issue(s); analysed {counts['analysed']}, "
             f"excluded {counts['excluded']}, quarantined {counts['quarantined']}")
    skipped: list = []

    def write(folder: Path) -> None:
        skipped.clear()  # only what the published folder lacks
        write_outputs(folder, wave, result, input_sums, keep_personal, partner_reports,
                      pdf=pdf, notebook=notebook, skipped=skipped, progress=progress)

    publish(target, write)
    if not len(result.flow.analysed):
        raise nothing_analysed(result, target)
    phase_counts = result.partnerships[PHASE_COLUMN].value_counts()
    ordered = {name: int(phase_counts.get(name, 0))
               for name in (*instrument.phase_order, instrument.unclassified)}
    return RunSummary(out=target, counts=counts, flow=result.flow.flow, issues=result.issues,
                      phase_counts=ordered, exit_code=result.exit_code, skipped=tuple(skipped))
