"""``pulsecheck explain CODE``: what a catalogue code means, what it does to a run, and the fix."""

from __future__ import annotations

import difflib

import click


@click.command("explain")
@click.argument("code")
def explain(code: str) -> None:
    """Explain a catalogue code such as VAL_004: its problem, its effect on a run, the fix.

    \b
    Examples:
      pulsecheck explain VAL_004
      pulsecheck explain wave_005
    """
    from pipeline.errors import CATALOGUE, PulsecheckError

    key = code.strip().upper()
    if key not in CATALOGUE:
        close = difflib.get_close_matches(key, list(CATALOGUE), n=3, cutoff=0.6)
        expected = f"a catalogue code such as {', '.join(close) or 'VAL_004'}"
        raise PulsecheckError("CLI_003", option="CODE", value=code, expected=expected)
    entry = CATALOGUE[key]
    effect = {
        "fatal": "stops the run: nothing is written, exit code 2",
        "error": "quarantines the row (see quarantine.csv); the run exits with code 1",
        "warning": "sets the cell to missing and keeps the row; the exit code is unchanged",
        "info": "informs only; the exit code is unchanged",
    }[entry.severity]
    click.echo(f"{entry.code} ({entry.severity}): {entry.title}")
    click.echo(f"  effect:  {effect}")
    click.echo(f"  problem: {entry.rule}")
    click.echo(f"  fix:     {entry.fix}")
    click.echo("  (words in braces are filled in from the data when the problem is reported)")
