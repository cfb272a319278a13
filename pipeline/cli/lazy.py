"""A click group whose commands are imported only when they run.

``pulsecheck --help`` and ``--version`` should answer at once; importing every command
module would first load pandas, scipy and the rest (seconds). Each lazy command is listed
with its one-line help, which a test keeps equal to the command's own.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

import click


class LazyGroup(click.Group):
    """A group with commands given as ``name → (module, attribute, one-line help)``."""

    #: The lazy commands; a subclass or instance sets it.
    lazy_commands: Mapping[str, tuple[str, str, str]] = {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in self.lazy_commands:
            module, attribute, _ = self.lazy_commands[name]
            self.add_command(getattr(importlib.import_module(module), attribute), name)
        return super().get_command(ctx, name)

    def format_commands(self, ctx: click.Context,
                        formatter: click.HelpFormatter) -> None:
        names = self.list_commands(ctx)
        if not names:
            return
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            if name in self.commands:
                command = self.commands[name]
                if command.hidden:
                    continue
                text = command.get_short_help_str(limit)
            else:
                text = click.utils.make_default_short_help(self.lazy_commands[name][2], limit)
            rows.append((name, text))
        with formatter.section("Commands"):
            formatter.write_dl(rows)
