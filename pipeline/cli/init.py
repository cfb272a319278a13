"""``pulsecheck init DIR``: create a project skeleton outside any checkout of pulsecheck.

A project holds what is the user's own: instrument versions, wave descriptions and raw
exports, and the run folders. What ships with pulsecheck (platform profiles, report templates
and wording) stays in the package (:mod:`pipeline.resources`); the example Pulse Check
instrument, its wave descriptions and the assumptions log are copied, to be edited.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from pipeline.errors import PulsecheckError
from pipeline.resources import data_root

#: Copied from the shipped data into a new project (relative paths, same place in both).
PROJECT_FILES = (
    Path("survey_instrument") / "README.md",
    Path("survey_instrument") / "ASSUMPTIONS.md",
    Path("survey_instrument") / "pulse_check",
    Path("raw") / "README.md",
)
#: Wave descriptions copied (the exports themselves are the user's, or `pulsecheck sample`'s).
WAVE_FILES = "raw/*/*/wave.toml"

GITIGNORE = """\
# Run folders are rebuilt from raw/ and survey_instrument/ by `pulsecheck run`.
reports/out/
# Raw exports hold personal data (names, emails, IP addresses, open answers): nothing under
# raw/ is committed but the wave descriptions, their checksums and notes. Exports (whatever
# their format) and corrections.csv stay out of git; keep them here or outside the project
# (wave.toml's exports_dir).
raw/**
!raw/**/
!raw/**/wave.toml
!raw/**/SHA256SUMS
!raw/**/*.md
"""

README = """\
# {name}: a pulsecheck project

- `survey_instrument/<survey>/<version>/` — each instrument version as data (see
  `survey_instrument/README.md`); every guess logged in `survey_instrument/ASSUMPTIONS.md`.
- `raw/<survey>/<wave>/` — `wave.toml`, the platform exports exactly as downloaded, and their
  `SHA256SUMS` (see `raw/README.md`).
- `reports/out/` — run folders, rebuilt by `pulsecheck run` (not kept in git).

Try the synthetic sample first:

```sh
pulsecheck sample survey_instrument/pulse_check/2016 --out raw/pulse_check/2016
pulsecheck run raw/pulse_check/2016
```

For a real wave, put the export in `raw/<survey>/<wave>/`, edit its `wave.toml` (`files`,
`platform`, `synthetic = false`), record its checksum with `pulsecheck manifest
raw/<survey>/<wave>`, then `pulsecheck run raw/<survey>/<wave>`.
"""


def create_project(target: Path) -> list[Path]:
    """Write a project skeleton into ``target`` (absent or empty); return the files written.

    Parameters
    ----------
    target
        The new project's folder.

    Raises
    ------
    PulsecheckError
        ``CLI_006`` when ``target`` already holds files (nothing is overwritten),
        ``CLI_002`` when it cannot be written.
    """
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise PulsecheckError("CLI_006", path=str(target))
    source = data_root()
    try:
        target.mkdir(parents=True, exist_ok=True)
        for relative in PROJECT_FILES:
            origin = source / relative
            destination = target / relative
            destination.parent.mkdir(parents=True, exist_ok=True)
            if origin.is_dir():
                shutil.copytree(origin, destination,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copyfile(origin, destination)
        for origin in sorted(source.glob(WAVE_FILES)):
            destination = target / origin.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, destination)
        (target / "reports" / "out").mkdir(parents=True, exist_ok=True)
        (target / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
        (target / "README.md").write_text(README.format(name=target.resolve().name),
                                          encoding="utf-8")
    except OSError as error:
        raise PulsecheckError("CLI_002", path=str(target),
                              reason=error.strerror or str(error)) from error
    return sorted(p for p in target.rglob("*") if p.is_file())


@click.command("init")
@click.argument("directory", type=click.Path(path_type=Path))
def init(directory: Path) -> None:
    """Create a new project in DIRECTORY (absent or empty): instruments, raw waves, reports.

    The example Pulse Check instrument (2014, 2016, 2018) and its wave descriptions are copied
    in, to be edited; platform profiles and report templates stay with pulsecheck.

    \b
    Examples:
      pulsecheck init my_survey
      cd my_survey
      pulsecheck sample survey_instrument/pulse_check/2016 --out raw/pulse_check/2016
      pulsecheck run raw/pulse_check/2016
    """
    written = create_project(directory)
    click.echo(f"Created project {directory} ({len(written)} files). Next:")
    click.echo(f"  cd {directory}")
    click.echo("  pulsecheck sample survey_instrument/pulse_check/2016 --out raw/pulse_check/2016")
    click.echo("  pulsecheck run raw/pulse_check/2016")
