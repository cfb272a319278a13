"""The ``pulsecheck verify`` command."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.options import STATUS, emit_json, json_option, progress_reporter, quiet_option
from pipeline.errors import PulsecheckError
from pipeline.run.verify import verify_run


@click.command("verify")
@click.argument("run_dir", type=click.Path(path_type=Path))
@quiet_option
@json_option
def verify(run_dir: Path, as_json: bool) -> None:
    """Check that a run folder is rebuilt byte for byte from its recorded inputs.

    Re-hashes the raw exports and instrument files named in RUN_DIR/run.json, runs the wave
    again with the recorded settings into a temporary folder, and compares every output.
    A file in RUN_DIR that the run did not write, or one it wrote that is gone, fails too.
    Exit code 0 when every file is identical, 2 when any differs (VERIFY_005) or an input
    is missing or changed.

    \b
    Examples:
      pulsecheck verify reports/out/pulse_check-2016
      pulsecheck verify reports/out/pulse_check-2016 --json
    """
    result = verify_run(run_dir, progress=progress_reporter())
    failure = None if result.ok else PulsecheckError(
        # Exit 1 means rows quarantined; a run that is not rebuilt is a catalogue error (2).
        "VERIFY_005", file=str(run_dir), differ=len(result.different),
        missing=len(result.missing), extra=len(result.extra))
    if as_json:
        exit_code = 0 if failure is None else failure.exit_code
        emit_json({"command": "verify", "status": STATUS[exit_code], "exit_code": exit_code,
                   "run_dir": str(run_dir),
                   "counts": {"identical": len(result.identical),
                              "differs": len(result.different),
                              "missing": len(result.missing), "not_recorded": len(result.extra),
                              "not_written_by_the_run": len(result.unrecorded)},
                   "files": {"differs": list(result.different),
                             "missing": list(result.missing),
                             "not_recorded": list(result.extra),
                             "not_written_by_the_run": list(result.unrecorded)},
                   "error": None if failure is None else {
                       name: getattr(failure, name)
                       for name in ("code", "file", "row", "column", "rule", "fix",
                                    "message")}})
        raise SystemExit(exit_code)
    click.echo(f"{len(result.identical)} file(s) identical")
    for label, names in (("differs", result.different), ("missing", result.missing),
                         ("not recorded", result.extra),
                         ("not written by the run", result.unrecorded)):
        for name in names:
            click.echo(f"  {label}: {name}")
    if failure is not None:
        raise failure
    click.echo("Verified: the run is rebuilt byte for byte from its inputs.")
