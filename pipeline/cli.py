"""The ``pulsecheck`` command line: the outermost edge, where files and exit codes live.

Every user-fixable problem surfaces as a catalogue message on stderr and an exit code
(0 clean, 1 data issues of error severity, 2 unusable input or configuration); a traceback
reaches the user only for a genuine bug.
"""

from __future__ import annotations

import sys

import click

from pipeline.errors import EXIT_UNUSABLE, PulsecheckError


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


def main() -> None:
    """Console entry point."""
    try:
        cli.main(standalone_mode=True)
    except PulsecheckError as error:  # raised outside a command (defensive)
        click.echo(f"error: {error.message}", err=True)
        sys.exit(EXIT_UNUSABLE)


if __name__ == "__main__":  # pragma: no cover
    main()
