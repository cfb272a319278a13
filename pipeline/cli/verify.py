"""The ``pulsecheck verify`` command."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.errors import PulsecheckError
from pipeline.run.verify import verify_run


@click.command("verify")
@click.argument("run_dir", type=click.Path(path_type=Path))
def verify(run_dir: Path) -> None:
    """Check that a run folder is rebuilt byte for byte from its recorded inputs.

    Re-hashes the raw exports and instrument files named in RUN_DIR/run.json, runs the wave
    again with the recorded settings into a temporary folder, and compares every output.
    A file in RUN_DIR that the run did not write, or one it wrote that is gone, fails too.
    Exit code 0 when every file is identical, 2 when any differs (VERIFY_005) or an input
    is missing or changed.

    \b
    Example:
      pulsecheck verify reports/out/pulse_check-2016
    """
    result = verify_run(run_dir, progress=lambda m: click.echo(f"  {m}", err=True))
    click.echo(f"{len(result.identical)} file(s) identical")
    for label, names in (("differs", result.different), ("missing", result.missing),
                         ("not recorded", result.extra),
                         ("not written by the run", result.unrecorded)):
        for name in names:
            click.echo(f"  {label}: {name}")
    if not result.ok:
        # Exit 1 means rows quarantined; a run that is not rebuilt is a catalogue error (2).
        raise PulsecheckError("VERIFY_005", file=str(run_dir), differ=len(result.different),
                              missing=len(result.missing), extra=len(result.extra))
    click.echo("Verified: the run is rebuilt byte for byte from its inputs.")
