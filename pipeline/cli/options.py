"""Options and output helpers shared by several commands.

* ``--quiet`` (on the group or on a command) and :func:`progress_reporter`: progress of the
  slow steps goes to stderr only when stderr is a terminal; piped, redirected or quiet, the
  commands say only their result. The stages below the command line never print: they call
  the reporter they are given.
* ``--platform`` (default ``auto``) with ``--source`` kept as a hidden, deprecated alias.
* ``--no-pdf`` / ``--no-notebook`` and :func:`echo_skipped` for the commands that render.
* ``--json`` and :func:`emit_json`: one JSON object on stdout and nothing else; an error is
  then a JSON object too (:func:`error_payload`), with the same exit code.
"""

from __future__ import annotations

import functools
import json
import math
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TextIO

import click

#: Keys in ``click.Context.meta`` (shared by the group and its commands).
QUIET = "pulsecheck.quiet"
JSON = "pulsecheck.json"
#: What each exit code means, in the JSON objects.
STATUS = {0: "ok", 1: "rows quarantined", 2: "error", 3: "internal error"}


def _meta() -> dict:
    context = click.get_current_context(silent=True)
    return context.meta if context is not None else {}


def _set_flag(key: str) -> Callable[[click.Context, click.Parameter, bool], bool]:
    def callback(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        if value:
            ctx.meta[key] = True
        return value
    return callback


def quiet_option(function: Callable) -> Callable:
    """``--quiet``/``-q``: no progress messages (warnings and the result are still shown)."""
    return click.option("--quiet", "-q", is_flag=True, default=False, expose_value=False,
                        is_eager=True, callback=_set_flag(QUIET),
                        help="No progress messages, even on a terminal.")(function)


JSON_HELP = ("Print one JSON object on stdout (status, exit code, counts, files, issues), "
             "errors too; nothing else.")


def json_option(function: Callable | None = None, *,
                help_text: str = JSON_HELP) -> Callable:
    """``--json``: print one JSON object on stdout, errors included, and nothing else.

    Used bare (``@json_option``) or with the command's own help text
    (``@json_option(help_text=...)``). Every command's ``--json`` goes through it, so that a
    catalogue error of any command is a JSON object too.
    """
    def decorate(command: Callable) -> Callable:
        return click.option("--json", "as_json", is_flag=True, default=False, is_eager=True,
                            callback=_set_flag(JSON), help=help_text)(command)
    return decorate(function) if function is not None else decorate


def stderr_is_terminal() -> bool:
    """Whether stderr is a terminal (progress is shown only then)."""
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


def progress_reporter(stream: TextIO | None = None) -> Callable[[str], None]:
    """A callback for the stages' ``progress`` messages.

    It writes ``[ 12.3s] message`` to stderr when stderr is a terminal and neither
    ``--quiet`` nor ``--json`` was given; otherwise it does nothing.
    """
    meta = _meta()
    if meta.get(QUIET) or meta.get(JSON) or not stderr_is_terminal():
        return lambda message: None
    start = time.monotonic()

    def report(message: str) -> None:
        click.echo(f"[{time.monotonic() - start:5.1f}s] {message}",
                   file=stream or sys.stderr)
    return report


def platform_option(help_text: str) -> Callable[[Callable], Callable]:
    """``--platform NAME`` (default ``auto``), given to the command as ``platform_name``.

    ``--source`` is its earlier name: still accepted, hidden from the help, with a one-line
    warning.
    """
    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def command(*args: Any, platform_alias: str | None = None, **kwargs: Any) -> Any:
            if platform_alias is not None:
                click.echo("warning: --source is deprecated; use --platform.", err=True)
                chosen = kwargs.get("platform_name", "auto")
                if chosen not in ("auto", platform_alias):
                    from pipeline.errors import PulsecheckError

                    raise PulsecheckError("CLI_003", option="--source", value=platform_alias,
                                          expected=f"the same platform as --platform "
                                                   f"({chosen}), or only --platform")
                kwargs["platform_name"] = platform_alias
            return function(*args, **kwargs)

        command = click.option("--source", "platform_alias", default=None, hidden=True,
                               help="Deprecated name of --platform.")(command)
        return click.option("--platform", "platform_name", default="auto", show_default=True,
                            help=help_text)(command)
    return decorate


def render_options(function: Callable) -> Callable:
    """``--no-pdf`` and ``--no-notebook``, given to the command as ``no_pdf``/``no_notebook``."""
    function = click.option(
        "--no-notebook", is_flag=True, default=False,
        help="Do not execute the analyst notebook (no Jupyter packages needed).")(function)
    return click.option(
        "--no-pdf", is_flag=True, default=False,
        help="Write the reports as HTML only (no WeasyPrint or Pango needed).")(function)


def echo_skipped(skipped: Iterable[Any]) -> None:
    """Warn once per part left out (every PDF fails for the same reason)."""
    for message in dict.fromkeys(item.message for item in skipped):
        click.echo(f"warning: {message}", err=True)


def skipped_payload(skipped: Iterable[Any]) -> list[str]:
    """The parts left out, once each, for a JSON object."""
    return list(dict.fromkeys(item.message for item in skipped))


def json_wanted(args: Iterable[str] = ()) -> bool:
    """Whether the running command was given ``--json``.

    ``args`` are the words of the command line: when parsing them failed (a usage error, or
    an error of the group's own options), ``--json`` among them still asks for JSON.
    """
    if _meta().get(JSON):
        return True
    words = list(args)
    return "--json" in (words[:words.index("--")] if "--" in words else words)


def _plain(value: Any) -> Any:
    """A value JSON can hold: numpy and pandas scalars as Python ones, missing as null."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float)):
        return None if isinstance(value, float) and math.isnan(value) else value
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    try:
        import pandas as pd

        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return str(value)


def emit_json(payload: Mapping[str, Any]) -> None:
    """Print ``payload`` as one JSON object on stdout."""
    click.echo(json.dumps(_plain(payload), ensure_ascii=False, indent=2))


def issue_records(issues: Any, limit: int | None = None) -> list[dict[str, Any]]:
    """Rows of an issues table (already masked) as JSON-ready records."""
    columns = [name for name in ("code", "severity", "file", "row", "column", "rule", "fix",
                                 "message") if name in issues.columns]
    frame = issues if limit is None else issues.head(limit)
    return [_plain(dict(zip(columns, row, strict=True)))
            for row in frame[columns].itertuples(index=False)]


def error_payload(error: Exception, exit_code: int) -> dict[str, Any]:
    """The JSON object of a catalogue error (code, file, row, column, rule, fix, message)."""
    from pipeline.stages.privacy import mask_contacts

    payload: dict[str, Any] = {
        "status": STATUS.get(exit_code, "error"),
        "exit_code": exit_code,
        "error": {name: mask_contacts(getattr(error, name, None))
                  for name in ("code", "file", "row", "column", "rule", "fix", "message")},
    }
    problems = masked_problems(error)
    if problems is not None and len(problems):
        payload["problems"] = issue_records(problems)
    return payload


def masked_problems(error: Exception) -> Any:
    """The problems an error lists (an issues table, or ``None``), their text masked.

    An error may quote what was read (a refused correction names the answer it found), and
    what a command prints leaves the team as easily as a published file: contact details
    and titled names are masked as in every output (:mod:`pipeline.stages.privacy`).
    """
    from pipeline.stages.privacy import ISSUE_TEXT_COLUMNS, mask_frame

    problems = getattr(error, "problems", None)
    if problems is None or not len(problems):
        return problems
    return mask_frame(problems, [c for c in ISSUE_TEXT_COLUMNS if c in problems])
