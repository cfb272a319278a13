"""Where pulsecheck finds its own files and where it finds the user's project.

Two different places, never confused:

- **Shipped data** (:func:`data_root`): what the code reads at run time that is not the user's
  project — platform profiles, default input limits, report templates and wording, notebook
  templates, the assumptions log, and the example Pulse Check instrument and wave descriptions
  that ``pulsecheck init`` copies. An installed wheel holds them under ``pipeline/data/`` (see
  ``[tool.hatch.build.targets.wheel.force-include]`` in ``pyproject.toml``); a source checkout
  reads them where they are kept in git (``survey_instrument/``, ``reports/``, ``raw/``).
- **The project** (:func:`project_root`): instruments, waves and run folders. It is found from
  the working directory (``pulsecheck --project DIR`` changes into ``DIR`` first, like
  ``git -C``), never from where the package is installed.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

#: The folder that marks a project: instrument versions live under it.
PROJECT_MARKER = "survey_instrument"
#: Where an installed wheel keeps the shipped data, inside the package.
SHIPPED_DATA = "data"


def data_root() -> Path:
    """The folder that holds the shipped ``survey_instrument/``, ``reports/`` and ``raw/`` data.

    Returns
    -------
    Path
        ``pipeline/data`` inside an installed wheel; in a source checkout (an editable
        install), the checkout itself, whose files the wheel is built from.
    """
    package = Path(str(resources.files("pipeline")))
    shipped = package / SHIPPED_DATA
    if (shipped / PROJECT_MARKER).is_dir():
        return shipped
    return package.parent


def project_root(start: Path | None = None) -> Path:
    """The user's project: the nearest folder at or above ``start`` holding ``survey_instrument/``.

    Parameters
    ----------
    start
        Where to look from (default: the working directory).

    Returns
    -------
    Path
        The project folder, or ``start`` itself when no folder above it is a project.
    """
    start = Path(start or Path.cwd()).resolve()
    for candidate in (start, *start.parents):
        if (candidate / PROJECT_MARKER).is_dir():
            return candidate
    return start


def shipped_or_project(relative: Path | str, project: Path | None = None) -> Path:
    """A data file of the project when it has its own copy, else the shipped one.

    Parameters
    ----------
    relative
        The file's path relative to a project (e.g. ``survey_instrument/ASSUMPTIONS.md``).
    project
        The project folder (default: :func:`project_root`).
    """
    own = (project or project_root()) / relative
    return own if own.exists() else data_root() / relative
