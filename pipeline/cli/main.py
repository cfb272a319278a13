"""The ``pulsecheck`` command line: the outermost edge, where files and exit codes live.

Every user-fixable problem surfaces as a catalogue message on stderr and an exit code
(0 clean, 1 data issues of error severity, 2 unusable input or configuration); a traceback
reaches the user only for a genuine bug.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
import pandas as pd
from rich.console import Console
from rich.table import Table

from pipeline.errors import (CATALOGUE, EXIT_DATA_ERRORS, EXIT_UNUSABLE, PulsecheckError)
from pipeline.ingest.readers import (read_export, read_instrument, read_instrument_tables,
                             read_platform, read_wave, write_checksums)
from pipeline.model.instrument import build_instrument, check_instrument
from pipeline.stages.privacy import inert_frame
from pipeline.run.analyse import run_wave
from pipeline.stages.validate import ValidationConfig, validate_responses


class _Group(click.Group):
    """A click group that turns :class:`PulsecheckError` into a message and an exit code."""

    def invoke(self, ctx: click.Context):  # noqa: D102 - click API
        try:
            return super().invoke(ctx)
        except PulsecheckError as error:
            click.echo(f"error: {error.message}", err=True)
            problems = getattr(error, "problems", None)
            if problems is not None and len(problems):
                for message in problems["message"]:
                    click.echo(f"  - {message}", err=True)
            ctx.exit(error.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pulsecheck")
def cli() -> None:
    """pulsecheck: from a survey platform export to validated, phase-classified partnerships.

    \b
    Examples:
      pulsecheck run raw/pulse_check/2016
      pulsecheck validate export.csv --instrument survey_instrument/pulse_check/2016
      pulsecheck instrument check survey_instrument/pulse_check/2016
    """


def _echo_progress(message: str) -> None:
    click.echo(f"  {message}", err=True)


def _print_table(frame: pd.DataFrame, title: str) -> None:
    console = Console(stderr=False, highlight=False)
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in frame.columns:
        justify = "right" if pd.api.types.is_numeric_dtype(frame[column]) else "left"
        table.add_column(str(column), justify=justify, overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(*("" if pd.isna(v) else str(v) for v in row))
    console.print(table)


def _issue_counts(issues: pd.DataFrame) -> pd.DataFrame:
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
              help="Also write a one-page \"where you stand\" report per partnership "
                   "(partners/<id>.html and .pdf).")
def run_command(wave_dir: Path, out: Path | None, keep_personal: bool,
                phase_basis: str | None, partner_reports: bool) -> None:
    """Run a wave: read, validate, exclude, classify, and write the run folder.

    WAVE_DIR is a folder with a wave.toml (see raw/README.md), or a survey folder of such
    folders: then every wave is run and the trends across waves are written to
    reports/out/<survey>-trends/ (or under --out). Exit code 0 when the run is
    clean, 1 when rows were quarantined for error-severity problems, 2 when the input or
    configuration is unusable.

    \b
    Examples:
      pulsecheck run raw/pulse_check/2016
      pulsecheck run raw/pulse_check/2016 --out /tmp/pc2016
    """
    from pipeline.run.waves import is_waves_folder, run_waves

    if is_waves_folder(wave_dir):
        # A survey folder of waves: run each wave, then the trends and histories across them.
        waves = run_waves(wave_dir, out, progress=_echo_progress)
        click.echo(f"Ran waves {', '.join(waves.waves)}; wrote {waves.out}")
        sys.exit(waves.exit_code)
    summary = run_wave(wave_dir, out, keep_personal=keep_personal, progress=_echo_progress,
                       phase_basis=phase_basis, partner_reports=partner_reports)
    _print_table(summary.flow[["step", "n_in", "n_removed", "n_out", "reason"]],
                 "Raw → analysed")
    phases = pd.DataFrame({"phase": list(summary.phase_counts),
                           "partnerships": list(summary.phase_counts.values())})
    _print_table(phases, "Phase (self-placement)")
    if len(summary.issues):
        _print_table(_issue_counts(summary.issues), "Data issues (details in internal/issues.csv)")
    click.echo(f"Wrote {summary.out}")
    sys.exit(summary.exit_code)


@cli.command("validate")
@click.argument("export", type=click.Path(path_type=Path))
@click.option("--instrument", "instrument_dir", required=True,
              type=click.Path(path_type=Path), help="Instrument folder.")
@click.option("--platform", "platform_name", default="qualtrics", show_default=True,
              help="Platform profile of the export (see survey_instrument/platforms/).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Also write issues.csv into this folder.")
def validate_command(export: Path, instrument_dir: Path, platform_name: str,
                     out: Path | None) -> None:
    """Validate one export against an instrument and list every problem.

    \b
    Examples:
      pulsecheck validate raw/pulse_check/2016/pulse_check_2016_qualtrics.csv \\
          --instrument survey_instrument/pulse_check/2016
      pulsecheck validate export.csv --instrument survey_instrument/pulse_check/2016 --out checks/
    """
    instrument = read_instrument(instrument_dir)
    platform = read_platform(platform_name)
    exported = read_export(export, instrument, platform)
    result = validate_responses(exported.frame, instrument, ValidationConfig(
        multiple_separator=platform.multiple_separator, finished_true=platform.finished_true))
    issues = pd.concat([exported.issues, result.issues], ignore_index=True)
    click.echo(f"{export}: {exported.n_rows} rows, {len(issues)} issue(s)")
    if len(issues):
        _print_table(_issue_counts(issues), "Data issues")
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        inert_frame(issues).to_csv(out / "issues.csv", index=False, lineterminator="\n")
        click.echo(f"Wrote {out / 'issues.csv'}")
    sys.exit(EXIT_DATA_ERRORS if issues["severity"].eq("error").any() else 0)


@cli.group("instrument")
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
    tables = read_instrument_tables(instrument_dir)
    problems = check_instrument(tables)
    if problems.empty:
        instrument = build_instrument(tables)
        click.echo(f"{instrument_dir}: instrument {instrument.id} {instrument.version} is "
                   f"sound ({len(instrument.questions)} questions, "
                   f"{len(instrument.choices)} choice lists).")
        return
    click.echo(f"{instrument_dir}: {len(problems)} problem(s)", err=True)
    for message in problems["message"]:
        click.echo(f"  - {message}", err=True)
    sys.exit(EXIT_UNUSABLE)


@cli.command("manifest")
@click.argument("wave_dir", type=click.Path(path_type=Path))
def manifest_command(wave_dir: Path) -> None:
    """Record the sha256 of a wave's raw files in its SHA256SUMS.

    Raw files are immutable once recorded; run this only when adding a new export.

    \b
    Example:
      pulsecheck manifest raw/pulse_check/2016
    """
    wave = read_wave(wave_dir)
    folder = wave.path.parent
    names = [path.relative_to(folder).as_posix() for path in wave.files]
    target = write_checksums(folder, names)
    click.echo(f"Recorded {len(names)} file(s) in {target}")


def main() -> None:
    """Console entry point."""
    try:
        cli.main(standalone_mode=True)
    except PulsecheckError as error:  # raised outside a command (defensive)
        click.echo(f"error: {error.message}", err=True)
        sys.exit(EXIT_UNUSABLE)


from pipeline.cli.sample import sample  # noqa: E402
cli.add_command(sample)

from pipeline.cli.stats import crosstab, proportion  # noqa: E402

cli.add_command(crosstab)
cli.add_command(proportion)

from pipeline.cli.ingest import ingest  # noqa: E402
cli.add_command(ingest)

from pipeline.cli.verify import verify  # noqa: E402

cli.add_command(verify)


from pipeline.cli.report import report  # noqa: E402

cli.add_command(report)

from pipeline.cli.instrument import instrument_diff  # noqa: E402
instrument_group.add_command(instrument_diff)


from pipeline.cli.bench import bench  # noqa: E402

cli.add_command(bench)

if __name__ == "__main__":  # pragma: no cover
    main()
