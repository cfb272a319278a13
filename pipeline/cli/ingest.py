"""The ``pulsecheck ingest`` command: any platform's export → canonical responses (lossless)."""

from __future__ import annotations

from pathlib import Path

import click
import pandas as pd

from pipeline.cli.options import (
    STATUS,
    emit_json,
    issue_records,
    json_option,
    platform_option,
    progress_reporter,
    quiet_option,
)
from pipeline.cli.raw_guard import refuse_overwrite, refuse_raw_out
from pipeline.errors import EXIT_DATA_ERRORS, PulsecheckError, issues_frame
from pipeline.ingest.adapters import SOURCES
from pipeline.ingest.adapters.responses import to_responses
from pipeline.ingest.readers import (
    read_choice_versions,
    read_export,
    read_instrument,
    read_mapping,
    read_platform,
)
from pipeline.run.analyse import validation_config
from pipeline.stages.privacy import inert_frame, mask_personal, personal_mask
from pipeline.stages.validate import validate_responses


@click.command("ingest")
@click.argument("export", type=click.Path(path_type=Path))
@click.option("--instrument", "instrument_path", required=True, type=click.Path(path_type=Path),
              help="Instrument folder, XLSForm workbook (.xlsx) or REDCap data dictionary.")
@platform_option("Platform of the export: auto (detect it from its header), a platform "
                 f"({', '.join(SOURCES)}) or a profile of survey_instrument/platforms/.")
@click.option("--map", "map_path", type=click.Path(path_type=Path), default=None,
              help="CSV mapping export columns to questions: export_column,question[,choice].")
@click.option("--encoding", default=None, help="Text encoding (default: detect).")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Folder to write responses.csv and issues.csv into.")
@click.option("--keep-personal", is_flag=True, default=False,
              help="Keep the instrument's personal questions (names, emails) in "
                   "responses.csv. For internal use only.")
@quiet_option
@json_option
def ingest(export: Path, instrument_path: Path, platform_name: str, map_path: Path | None,
           encoding: str | None, out_dir: Path, keep_personal: bool, as_json: bool) -> None:
    """Read one export of any supported platform into the canonical responses table.

    Writes OUT/responses.csv (one row per export row: response_id, instrument_version, each
    select-one as its choice name, each select-multiple as question/choice columns of 1/0,
    empty when unanswered, text verbatim) and OUT/issues.csv (how the file was read, and
    every problem found). Questions marked personal in the instrument are left out, and
    contact details and names typed into open answers and copied into issues are masked,
    unless --keep-personal is given.

    \b
    Examples:
      pulsecheck ingest export.csv --instrument survey_instrument/pulse_check/2016 --out in/
      pulsecheck ingest kobo.xlsx --instrument form.xlsx --platform kobo --out in/
      pulsecheck ingest export.csv --instrument form.xlsx --out in/ --json
    """
    if export.is_dir():
        # A wave folder is a natural thing to pass; say which commands read one.
        raise PulsecheckError("CLI_003", option="EXPORT", value=str(export),
                              expected="one export file (a wave folder is read by "
                                       "`pulsecheck validate` or `pulsecheck run`)")
    # Raw data are only read, and no output replaces an input (checked before reading).
    refuse_raw_out(out_dir)
    refuse_overwrite([out_dir / "responses.csv", out_dir / "issues.csv"],
                     [export, map_path, instrument_path])
    progress = progress_reporter()
    instrument = read_instrument(instrument_path)
    mapping = read_mapping(map_path, instrument) if map_path else None
    # A platform family is a source to detect within; any other name is a profile.
    profile = None
    if platform_name != "auto" and platform_name not in SOURCES:
        from pipeline.resources import project_root

        profile = read_platform(platform_name, project_root())
    progress(f"reading {export}")
    exported = read_export(export, instrument, profile,
                           source=platform_name if platform_name in SOURCES else None,
                           mapping=mapping, encoding=encoding,
                           choice_versions=read_choice_versions(instrument_path))
    progress(f"validating {exported.n_rows} rows")
    # Validated as the run validates exports of the platform it was read as.
    checked = validate_responses(exported.frame, instrument,
                                 validation_config(read_platform(exported.platform)))
    parts = [frame for frame in (exported.notes, exported.issues, checked.issues)
             if frame is not None and len(frame)]
    issues = pd.concat(parts, ignore_index=True) if parts else issues_frame([])
    responses = to_responses(exported.frame, instrument, exported.none_selected)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not keep_personal:
        # Contact details and names typed into any answer (responses.csv keeps answers as
        # typed, numbers included) are masked, in the issues too.
        mask = personal_mask(exported.frame, responses.columns,
                             instrument.personal_questions)
        issues, responses = mask_personal(mask, issues, responses)
        responses = responses.drop(columns=[name for name in instrument.personal_questions
                                            if name in responses])
    # Respondent text never runs as a spreadsheet formula (pipeline.stages.privacy.inert_cell).
    inert_frame(responses).to_csv(out_dir / "responses.csv", index=False, lineterminator="\n",
                                  encoding="utf-8")
    inert_frame(issues).to_csv(out_dir / "issues.csv", index=False, lineterminator="\n",
                               encoding="utf-8")
    exit_code = EXIT_DATA_ERRORS if issues["severity"].eq("error").any() else 0
    if as_json:
        counts = issues["severity"].value_counts()
        emit_json({"command": "ingest", "status": STATUS[exit_code], "exit_code": exit_code,
                   "input": str(export), "platform": exported.platform,
                   "counts": {"rows": exported.n_rows, "issues": len(issues),
                              **{s: int(counts.get(s, 0))
                                 for s in ("error", "warning", "info")}},
                   "files": [str(out_dir / "responses.csv"), str(out_dir / "issues.csv")],
                   "issues": issue_records(issues)})
        raise SystemExit(exit_code)
    if exported.notes is not None:
        for message in exported.notes["message"]:
            click.echo(message, err=True)
    click.echo(f"{export}: {exported.n_rows} rows, {len(issues)} issue(s); wrote "
               f"{out_dir / 'responses.csv'} and {out_dir / 'issues.csv'}")
    if exit_code:
        raise SystemExit(exit_code)
