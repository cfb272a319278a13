"""Commands for instrument versions and waves: ``pulsecheck instrument diff``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from pipeline.model.instrument_diff import diff_instruments, format_diff
from pipeline.ingest.readers import read_instrument


@click.command("diff")
@click.argument("old_dir", type=click.Path(path_type=Path))
@click.argument("new_dir", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, default=False,
              help="Print the changes as JSON instead of text.")
def instrument_diff(old_dir: Path, new_dir: Path, as_json: bool) -> None:
    """List every change between two instrument versions.

    Questions added, removed, renamed (a guess from label similarity, for a crosswalk to
    confirm) or reworded; choices added, removed, renamed, split, relabelled or recoded; type
    and scale changes. Exit code 0 (a difference is not an error).

    \b
    Examples:
      pulsecheck instrument diff survey_instrument/pulse_check/2016 survey_instrument/pulse_check/2018
      pulsecheck instrument diff survey_instrument/pulse_check/2014 survey_instrument/pulse_check/2016 --json
    """
    result = diff_instruments(read_instrument(old_dir), read_instrument(new_dir))
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(format_diff(result))
