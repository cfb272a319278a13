"""``pulsecheck explain CODE``: what a catalogue code means, what it does to a run, and the fix."""

from __future__ import annotations

import difflib
import re
import string

import click

#: A code as people type it: any case, with or without the underscore and leading zeros.
_LOOSE_CODE = re.compile(r"\s*([A-Za-z]+)[\s_-]*(\d{1,3})\s*")


def catalogue_key(typed: str) -> str:
    """``val4``, ``VAL-004`` or `` Val 004 `` as the catalogue writes it, ``VAL_004``."""
    match = _LOOSE_CODE.fullmatch(typed)
    if match is None:
        return typed.strip().upper()
    return f"{match.group(1).upper()}_{int(match.group(2)):03d}"


def _problem_text(rule: str, title: str) -> str:
    """The rule, or its title when the rule is only words filled in from the data."""
    fixed = "".join(text for text, _, _, _ in string.Formatter().parse(rule))
    if sum(ch.isalpha() for ch in fixed) >= 10:
        return rule
    return f"{title} (the message says what exactly, from the data)"


@click.command("explain")
@click.argument("code")
def explain(code: str) -> None:
    """Explain a catalogue code such as VAL_004: its problem, its effect on a run, the fix.

    \b
    Examples:
      pulsecheck explain VAL_004
      pulsecheck explain wave_005
      pulsecheck explain val4
    """
    from pipeline.errors import CATALOGUE, PulsecheckError

    key = catalogue_key(code)
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
    click.echo(f"  problem: {_problem_text(entry.rule, entry.title)}")
    click.echo(f"  fix:     {entry.fix}")
    click.echo("  (words in braces are filled in from the data when the problem is reported)")
