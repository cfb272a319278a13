"""The ``pulsecheck`` command line: the outermost edge, where files and exit codes live.

Every user-fixable problem surfaces as a catalogue message on stderr and an exit code
(0 clean, 1 data issues of error severity, 2 unusable input or configuration, or a wave with
nothing left to analyse); errors of the file system are catalogue messages too (exit 2). A
traceback reaches the user only for a genuine bug, with exit code 3.
"""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pipeline import __version__
from pipeline.cli.lazy import LazyGroup
from pipeline.cli.options import STATUS as STATUS_TEXT
from pipeline.cli.options import (
    echo_skipped,
    emit_json,
    error_payload,
    issue_records,
    json_option,
    json_wanted,
    platform_option,
    progress_reporter,
    quiet_option,
    render_options,
    skipped_payload,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from pipeline.errors import PulsecheckError

# Heavy modules (pandas, scipy, the pipeline's stages) are imported inside the commands that
# use them, so that `pulsecheck --help` and `--version` answer at once.

#: Commands kept in their own modules: name → (module, attribute, one-line help).
COMMANDS = {
    "bench": ("pipeline.cli.bench", "bench", (
        "Benchmark every stage at 1 k to 1 M responses against pandas.read_csv and R."
    )),
    "calibrate": ("pipeline.cli.weights", "calibrate", (
        "Weight FILE's rows to population counts (R's postStratify, rake, trimWeights)."
    )),
    "crosstab": ("pipeline.cli.stats", "crosstab", (
        "Two-way table of ROW by COL with counts, proportions and tests."
    )),
    "explain": ("pipeline.cli.explain", "explain", (
        "Explain a catalogue code such as VAL_004: its problem, its effect on a run, "
        "the fix."
    )),
    "ingest": ("pipeline.cli.ingest", "ingest", (
        "Read one export of any supported platform into the canonical responses table."
    )),
    "init": ("pipeline.cli.init", "init", (
        "Create a new project in DIRECTORY (absent or empty): instruments, raw waves, "
        "reports."
    )),
    "mean": ("pipeline.cli.stats", "mean", (
        "Mean of a numeric VAR, overall and by group, with SE and a t interval."
    )),
    "new-wave": ("pipeline.cli.new_wave", "new_wave", (
        "Start a new wave in DIRECTORY from the description of an earlier wave."
    )),
    "proportion": ("pipeline.cli.stats", "proportion", (
        "Share of respondents answering VAR with LEVEL, with a confidence interval."
    )),
    "replicate": ("pipeline.cli.weights", "replicate", (
        "Share of VAR = LEVEL with a replicate-weight design (R's svrepdesign, svyciprop)."
    )),
    "report": ("pipeline.cli.report", "report", (
        "Re-render the reports of a run folder (funder summary, analyst notebook, "
        "partnership pages) from the tables it holds, without recomputing them."
    )),
    "sample": ("pipeline.cli.sample", "sample", (
        "Generate the seeded synthetic sample export of an instrument."
    )),
    "verify": ("pipeline.cli.verify", "verify", (
        "Check that a run folder is rebuilt byte for byte from its recorded inputs."
    )),
}
#: Subcommands of ``pulsecheck instrument`` kept in their own modules.
INSTRUMENT_COMMANDS = {
    "diff": ("pipeline.cli.instrument", "instrument_diff", (
        "List every change between two instrument versions."
    )),
    "import": ("pipeline.cli.instrument", "instrument_import", (
        "Turn a form written for a survey platform into an instrument folder."
    )),
}


#: Key in ``click.Context.meta``: the words of the command line, as the group was given them.
ARGS = "pulsecheck.args"


def _usage_error_as_json(ctx: click.Context, error: click.UsageError,
                         words: tuple[str, ...]) -> None:
    """Under ``--json``, a usage error is the one JSON object on stdout and the command
    exits with its code; otherwise nothing happens and click reports it as usual."""
    if json_wanted(words):
        failure = _usage_failure(error)
        emit_json(error_payload(failure, failure.exit_code))
        ctx.exit(failure.exit_code)


def _usage_failure(error: click.UsageError) -> PulsecheckError:
    """A usage error of click as the catalogue's ``CLI_005``, for a JSON object."""
    from pipeline.errors import PulsecheckError

    command = error.ctx.command_path if error.ctx is not None else "pulsecheck"
    return PulsecheckError("CLI_005", reason=error.format_message().rstrip("."),
                           command=command)


class _Group(LazyGroup):
    """A click group that turns :class:`PulsecheckError` into a message and an exit code.

    With ``--json`` on the command line every failure is one JSON object on stdout: a
    catalogue error, an error of the file system and a usage error of click (an unknown
    option, a missing argument, a bad value: ``CLI_005``), each with exit code 2. Without it
    a usage error is click's own usage text (exit code 2).
    """

    lazy_commands = COMMANDS

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # Kept before parsing: click's parser consumes the list it is given.
        words = ctx.meta[ARGS] = tuple(args)
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            _usage_error_as_json(ctx, error, words)
            raise

    def invoke(self, ctx: click.Context):
        from pipeline.errors import PulsecheckError

        args = ctx.meta.get(ARGS, ())
        try:
            return super().invoke(ctx)
        except click.UsageError as error:
            _usage_error_as_json(ctx, error, args)
            raise
        except PulsecheckError as error:
            if json_wanted(args):
                # --json: the error is the one JSON object on stdout, same exit code.
                emit_json(error_payload(error, error.exit_code))
                ctx.exit(error.exit_code)
            from pipeline.cli.options import masked_problems
            from pipeline.stages.privacy import mask_contacts

            click.echo(f"error: {mask_contacts(error.message)}", err=True)
            problems = masked_problems(error)
            if problems is not None and len(problems):
                for message in problems["message"]:
                    click.echo(f"  - {message}", err=True)
            ctx.exit(error.exit_code)
        except BrokenPipeError:
            raise
        except OSError as error:
            # Disk full, permission denied, a folder where a file was expected: a catalogue
            # message and exit 2, never a traceback and never exit 1 (rows quarantined).
            failure = PulsecheckError("CLI_004", file=error.filename and str(error.filename),
                                      action="reading or writing a file",
                                      reason=error.strerror or str(error))
            if json_wanted(args):
                emit_json(error_payload(failure, failure.exit_code))
            else:
                click.echo(f"error: {failure.message}", err=True)
            ctx.exit(failure.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
# The version of the package itself: reading it from the installed metadata would first scan
# every installed distribution (importlib.metadata), which --version need not wait for.
@click.version_option(version=__version__, prog_name="pulsecheck")
@click.option("--project", type=click.Path(path_type=Path), default=None,
              help="Work in this project folder, as if started there (like git -C); "
                   "relative paths are read from it. Default: the working directory.")
@quiet_option
def cli(project: Path | None) -> None:
    """pulsecheck: from a survey platform export to validated, phase-classified partnerships.

    The project (instruments, raw waves, run folders) is the working directory or the
    nearest folder above it holding survey_instrument/; `pulsecheck init DIR` creates one.
    Progress of slow steps is shown on stderr when it is a terminal (never when piped, or
    with --quiet).

    \b
    Examples:
      pulsecheck init my_survey
      pulsecheck run raw/pulse_check/2016
      pulsecheck --project ~/surveys/pulse run raw/pulse_check/2016
      pulsecheck validate export.csv --instrument survey_instrument/pulse_check/2016
      pulsecheck instrument check survey_instrument/pulse_check/2016
    """
    if project is not None:
        from pipeline.errors import PulsecheckError

        if not project.is_dir():
            raise PulsecheckError("CLI_001", path=str(project))
        os.chdir(project)


def _print_table(frame: pd.DataFrame, title: str) -> None:
    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=False, highlight=False)
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in frame.columns:
        justify = "right" if pd.api.types.is_numeric_dtype(frame[column]) else "left"
        table.add_column(str(column), justify=justify, overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*("" if pd.isna(v) else str(v) for v in row))
    console.print(table)


def _files_in(folder: Path) -> list[str]:
    """Every file under ``folder``, relative to it, sorted."""
    return sorted(path.relative_to(folder).as_posix() for path in Path(folder).rglob("*")
                  if path.is_file())


def _severity_counts(issues: pd.DataFrame) -> dict[str, int]:
    counts = issues["severity"].value_counts()
    return {"issues": len(issues),
            **{severity: int(counts.get(severity, 0)) for severity in ("error", "warning",
                                                                        "info")}}


def _issue_summary(issues: pd.DataFrame) -> dict:
    """Issue counts for a JSON object: by severity and by code (details are in issues.csv)."""
    return {**_severity_counts(issues),
            "by_code": [{"code": code, "severity": severity, "count": int(count)}
                        for code, severity, _title, count in
                        _issue_counts(issues).itertuples(index=False)]}


def _issue_counts(issues: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    from pipeline.errors import CATALOGUE

    if issues.empty:
        return pd.DataFrame(columns=["code", "severity", "title", "count"])
    counts = issues.groupby(["code", "severity"], sort=True).size().reset_index(name="count")
    counts.insert(2, "title", counts["code"].map(lambda c: CATALOGUE[c].title))
    return counts


@cli.command("run")
@click.argument("wave_dir", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Write the run folder here (default: reports/out/<survey>-<wave>/).")
@click.option("--keep-personal", is_flag=True, default=False,
              help="Keep personal questions (names, emails) in partnerships.csv. "
                   "For internal use only; never share such a run folder.")
@click.option("--phase-basis", type=click.Choice(["self", "criteria"]), default=None,
              help="Phase placement the report uses (default: the setting in the "
                   "instrument's tables.toml).")
@click.option("--partner-reports", is_flag=True, default=False,
              help="Also write a \"where you stand\" page per partnership "
                   "(published/partners/<id>.html and .pdf). A survey folder of waves "
                   "writes them for every wave, and always for a wave whose earlier run "
                   "folder had them.")
@render_options
@quiet_option
@json_option
def run_command(wave_dir: Path, out: Path | None, keep_personal: bool,
                phase_basis: str | None, partner_reports: bool, no_pdf: bool,
                no_notebook: bool, as_json: bool) -> None:
    """Run a wave: read, validate, exclude, classify, and write the run folder.

    WAVE_DIR is a folder with a wave.toml (see raw/README.md), or a survey folder of such
    folders: then every wave is run and the trends across waves are written to
    reports/out/<survey>-trends/ (or under --out). Exit code 0 when the run is
    clean, 1 when rows were quarantined for error-severity problems, 2 when the input or
    configuration is unusable or no row is left to analyse (the flow, dispositions and
    quarantine are still written then). PDFs and the notebook are optional: when they cannot be
    rendered here, every other output is written and a warning names the cause and the fix.

    \b
    Examples:
      pulsecheck run raw/pulse_check/2016
      pulsecheck run raw/pulse_check/2016 --out /tmp/pc2016
      pulsecheck run raw/pulse_check/2016 --no-pdf --no-notebook
      pulsecheck run raw/pulse_check/2016 --json --no-pdf > summary.json
    """
    import pandas as pd

    from pipeline.cli.raw_guard import refuse_export_for_wave, refuse_exports_out, refuse_raw_out
    from pipeline.run.analyse import run_wave
    from pipeline.run.waves import is_waves_folder, run_waves

    refuse_export_for_wave(wave_dir)
    if out is not None:
        refuse_raw_out(out)  # raw data are only read (RAW_003)
        refuse_exports_out(out, wave_dir)  # exports kept outside the project too
    progress = progress_reporter()
    if is_waves_folder(wave_dir):
        # A survey folder of waves: run each wave, then the trends and histories across them.
        waves = run_waves(wave_dir, out, progress=progress, pdf=not no_pdf,
                          notebook=not no_notebook, partner_reports=partner_reports)
        if as_json:
            emit_json({"command": "run", "status": STATUS_TEXT[waves.exit_code],
                       "exit_code": waves.exit_code, "out": str(waves.out),
                       "waves": list(waves.waves), "counts": {"analysed": waves.counts},
                       "links": waves.links, "files": _files_in(waves.out),
                       "skipped": skipped_payload(waves.skipped),
                       "notices": list(waves.notices)})
            sys.exit(waves.exit_code)
        for notice in waves.notices:
            click.echo(f"  {notice}", err=True)
        echo_skipped(waves.skipped)
        click.echo(f"Ran waves {', '.join(waves.waves)}; wrote {waves.out}")
        sys.exit(waves.exit_code)
    summary = run_wave(wave_dir, out, keep_personal=keep_personal, progress=progress,
                       phase_basis=phase_basis, partner_reports=partner_reports,
                       pdf=not no_pdf, notebook=not no_notebook)
    if as_json:
        emit_json({"command": "run", "status": STATUS_TEXT[summary.exit_code],
                   "exit_code": summary.exit_code, "out": str(summary.out),
                   "counts": dict(summary.counts), "phases": dict(summary.phase_counts),
                   "files": _files_in(summary.out),
                   "issues": _issue_summary(summary.issues),
                   "skipped": skipped_payload(summary.skipped)})
        sys.exit(summary.exit_code)
    _print_table(summary.flow[["step", "n_in", "n_removed", "n_out", "reason"]],
                 "Raw → analysed")
    phases = pd.DataFrame({"phase": list(summary.phase_counts),
                           "partnerships": list(summary.phase_counts.values())})
    _print_table(phases, "Phase (self-placement)")
    if len(summary.issues):
        _print_table(_issue_counts(summary.issues), "Data issues (details in internal/issues.csv)")
    echo_skipped(summary.skipped)
    click.echo(f"Wrote {summary.out}")
    sys.exit(summary.exit_code)


@cli.command("validate")
@click.argument("export", type=click.Path(path_type=Path))
@click.option("--instrument", "instrument_dir", default=None,
              type=click.Path(path_type=Path),
              help="Instrument folder (needed for an export file; a wave folder names its own).")
@platform_option("Platform profile of an export file (see survey_instrument/platforms/; "
                 "auto: detect it from the header); a wave folder names its own.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Also write issues.csv into this folder.")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True,
              help="List at most this many problems (0: all); issues.csv has every one.")
@quiet_option
@json_option
def validate_command(export: Path, instrument_dir: Path | None, platform_name: str,
                     out: Path | None, limit: int, as_json: bool) -> None:
    """Validate an export, or every export of a wave folder, and list every problem.

    EXPORT is an export file (then --instrument is needed) or a wave folder with a
    wave.toml, read as `pulsecheck run` reads it (its checksums, instrument, platform,
    limits and files). Each problem is listed with its file, row, column, code and message
    (contact details and names typed by respondents masked), then a count per code. Exit
    code 1 when a row would be quarantined, 2 when the input is unusable.

    \b
    Examples:
      pulsecheck validate raw/pulse_check/2016
      pulsecheck validate raw/pulse_check/2016/pulse_check_2016_qualtrics.csv \\
          --instrument survey_instrument/pulse_check/2016
      pulsecheck validate export.csv --instrument survey_instrument/pulse_check/2016 --out checks/
      pulsecheck validate raw/pulse_check/2016 --limit 0 --json
    """
    import pandas as pd

    from pipeline.cli.raw_guard import refuse_exports_out, refuse_overwrite, refuse_raw_out
    from pipeline.errors import EXIT_DATA_ERRORS, PulsecheckError
    from pipeline.ingest.readers import read_export, read_instrument, read_platform
    from pipeline.run.analyse import validation_config
    from pipeline.stages.privacy import inert_frame, instrument_mask, mask_personal
    from pipeline.stages.validate import validate_responses

    if out is not None:
        # Raw data are only read, and no output replaces an input (checked before reading).
        refuse_raw_out(out)
        if export.is_dir():
            refuse_exports_out(out, export)
        refuse_overwrite([out / "issues.csv"],
                         [export, *([instrument_dir] if instrument_dir else [])])

    progress = progress_reporter()
    if export.is_dir():
        # A wave folder (a natural thing to pass): read through the one wave loader, as
        # `pulsecheck run` reads it.
        from pipeline.ingest.wave_folder import load_wave

        for option, value, default in (("--instrument", instrument_dir, None),
                                       ("--platform", platform_name, "auto")):
            if value != default:
                raise PulsecheckError("CLI_003", option=option, value=str(value),
                                      expected="nothing with a wave folder (its wave.toml "
                                               "names the instrument and platform)")
        from pipeline.stages.corrections import apply_corrections

        loaded = load_wave(export, progress)
        instrument = loaded.instrument
        # The wave's exports are validated together, after its corrections, as in a run.
        frame = pd.concat([e.frame for e in loaded.exports], ignore_index=True)
        corrected = apply_corrections(frame, loaded.corrections, instrument)
        parts = [(corrected.frame,
                  pd.concat([*(e.issues for e in loaded.exports), corrected.issues],
                            ignore_index=True),
                  sum(e.n_rows for e in loaded.exports),
                  validation_config(loaded.platform, loaded.wave.steps))]
    else:
        if instrument_dir is None:
            raise PulsecheckError("CLI_003", option="--instrument", value="",
                                  expected="an instrument folder for an export file "
                                           "(or pass the wave folder instead)")
        from pipeline.resources import project_root

        instrument = read_instrument(instrument_dir)
        # The project's own profiles first, then those shipped with pulsecheck.
        root = project_root()
        platform = read_platform(platform_name, root)
        progress(f"reading {export}")
        exported = read_export(export, instrument, platform, root=root)
        # Detected (auto) exports are validated as exports of the platform detected.
        parts = [(exported.frame, exported.issues, exported.n_rows,
                  validation_config(read_platform(exported.platform, root)
                                    if platform_name == "auto" else platform))]
    issues, n_rows = [], 0
    for frame, read_issues, rows, check in parts:
        progress(f"validating {rows} rows")
        result = validate_responses(frame, instrument, check)
        # Issues copy what was typed; contact details and names in them are masked.
        masked, _ = mask_personal(instrument_mask(frame, instrument),
                                  pd.concat([read_issues, result.issues], ignore_index=True),
                                  pd.DataFrame())
        issues.append(masked)
        n_rows += rows
    issues = pd.concat(issues, ignore_index=True)
    written = []
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        inert_frame(issues).to_csv(out / "issues.csv", index=False, lineterminator="\n")
        written.append(str(out / "issues.csv"))
    exit_code = EXIT_DATA_ERRORS if issues["severity"].eq("error").any() else 0
    shown = issues if limit == 0 else issues.head(limit)
    if as_json:
        emit_json({"command": "validate", "status": STATUS_TEXT[exit_code],
                   "exit_code": exit_code, "input": str(export), "rows": n_rows,
                   "counts": _severity_counts(issues), "files": written,
                   "issues": issue_records(shown), "more_issues": len(issues) - len(shown)})
        sys.exit(exit_code)
    click.echo(f"{export}: {n_rows} rows, {len(issues)} issue(s)")
    for severity, message in zip(shown["severity"], shown["message"], strict=True):
        click.echo(f"  {severity:<7} {message}")
    if len(issues) > len(shown):
        click.echo(f"  … and {len(issues) - len(shown)} more (--limit 0 lists every one; "
                   "--out DIR writes issues.csv)")
    if len(issues):
        _print_table(_issue_counts(issues), "Data issues")
    if written:
        click.echo(f"Wrote {written[0]}")
    sys.exit(exit_code)


class _InstrumentGroup(LazyGroup):
    lazy_commands = INSTRUMENT_COMMANDS


@cli.group("instrument", cls=_InstrumentGroup)
def instrument_group() -> None:
    """Work with instrument versions (questionnaires kept as data)."""


@instrument_group.command("check")
@click.argument("instrument_dir", type=click.Path(path_type=Path))
def instrument_check(instrument_dir: Path) -> None:
    """Check an instrument folder and report every problem at once.

    Checks unique names, known types, that every choice list exists, that skip logic and
    constraints parse and refer to questions, that skip logic has no cycles, and that the
    phase map covers every code of the phase question.

    \b
    Example:
      pulsecheck instrument check survey_instrument/pulse_check/2016
    """
    from pipeline.errors import EXIT_UNUSABLE
    from pipeline.ingest.adapters.forms import relocate
    from pipeline.ingest.readers import read_instrument_tables
    from pipeline.model.instrument import build_instrument, check_instrument

    tables = read_instrument_tables(instrument_dir)
    # A form's problems are placed in the form (workbook sheet and row, dictionary row).
    problems = relocate(check_instrument(tables), tables.get("places", {}))
    if problems.empty:
        instrument = build_instrument(tables)
        click.echo(f"{instrument_dir}: instrument {instrument.id} {instrument.version} is "
                   f"sound ({len(instrument.questions)} questions, "
                   f"{len(instrument.choices)} choice lists).")
        # A form (XLSForm, REDCap dictionary, .qsf) says what it reads but does not check.
        for note in instrument.notes:
            click.echo(f"  - {note['message']}")
        return
    click.echo(f"{instrument_dir}: {len(problems)} problem(s)", err=True)
    for message in problems["message"]:
        click.echo(f"  - {message}", err=True)
    sys.exit(EXIT_UNUSABLE)


@cli.command("manifest")
@click.argument("wave_dir", type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, default=False,
              help="Only check the raw files against SHA256SUMS (exit 2 on a mismatch); "
                   "write nothing.")
@click.option("--replace", is_flag=True, default=False,
              help="Record files whose bytes differ from SHA256SUMS; the old SHA256SUMS is "
                   "kept in WAVE_DIR/replaced/<n>/.")
def manifest_command(wave_dir: Path, check: bool, replace: bool) -> None:
    """Record the sha256 of a wave's raw files in its SHA256SUMS.

    Raw files are immutable once recorded; run this only when adding a new export. A file
    whose bytes no longer match its record is refused (re-recording it would hide the
    change) unless --replace is given.

    \b
    Examples:
      pulsecheck manifest raw/pulse_check/2016
      pulsecheck manifest raw/pulse_check/2016 --check
    """
    from pipeline.cli.raw_guard import (
        REPLACED_DIR,
        copy_checksums_aside,
        digest_changes,
        refuse_export_for_wave,
    )
    from pipeline.errors import PulsecheckError
    from pipeline.ingest.readers import read_wave, write_checksums

    refuse_export_for_wave(wave_dir)
    wave = read_wave(wave_dir)
    if check:
        from pipeline.ingest.readers import verify_checksums

        sums = verify_checksums(wave)
        click.echo(f"{len(sums)} file(s) match {wave.path.parent / 'SHA256SUMS'}")
        return
    folder = wave.path.parent
    names = [wave.export_name(path) for path in wave.files]
    changed = digest_changes(folder, names, Path(wave.exports_base))
    if changed and not replace:
        raise PulsecheckError("RAW_001", path=str(folder / changed[0]),
                              manifest="SHA256SUMS", aside=f"{REPLACED_DIR}/<n>/")
    if changed:
        click.echo(f"kept the old SHA256SUMS in {copy_checksums_aside(folder)}")
    target = write_checksums(folder, names, Path(wave.exports_base))
    click.echo(f"Recorded {len(names)} file(s) in {target}")


def main() -> None:
    """Console entry point."""
    try:
        # One completion variable however it is started (`pulsecheck`, `python -m pipeline`).
        cli.main(standalone_mode=True, complete_var="_PULSECHECK_COMPLETE")
    except Exception as error:
        from pipeline.errors import EXIT_INTERNAL, EXIT_UNUSABLE, PulsecheckError

        if isinstance(error, PulsecheckError):
            # Raised outside a command (defensive).
            click.echo(f"error: {error.message}", err=True)
            sys.exit(EXIT_UNUSABLE)
        # A fault of pulsecheck itself: show it, never as exit 1 (rows quarantined).
        traceback.print_exc()
        click.echo("error: pulsecheck stopped on an internal fault (shown above); please "
                   f"report it. Exit code {EXIT_INTERNAL}.", err=True)
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":  # pragma: no cover
    main()
