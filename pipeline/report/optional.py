"""The optional heavy parts of rendering: PDFs (WeasyPrint and the Pango system library) and
the executed notebooks (nbclient, nbconvert, ipykernel, jupytext).

A run without them still writes every other output. When a part is missing or fails, the
run records a warning (``RENDER_007`` for a PDF, ``RENDER_008`` for a notebook) that names the
real cause and the fix, instead of failing as a whole.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import dataclass

from pipeline.errors import render_message

#: What to install for PDFs, per operating system (WeasyPrint needs Pango >= 1.44).
PANGO_INSTALL = {
    "linux": "on Debian or Ubuntu `sudo apt install libpango-1.0-0 libpangoft2-1.0-0 "
             "fonts-dejavu-core`, on Fedora `sudo dnf install pango`",
    "darwin": "on macOS `brew install pango`",
    "win32": "on Windows the GTK 3 runtime (see WeasyPrint's installation guide)",
}
#: The Python packages the notebooks need (the ``notebook`` extra).
NOTEBOOK_PACKAGES = ("nbformat", "nbclient", "nbconvert", "ipykernel", "jupytext")


@dataclass(frozen=True)
class Skipped:
    """An output that was not written, with the catalogue warning that says why."""

    code: str
    name: str
    reason: str
    fix: str
    message: str


def skipped(code: str, name: str, reason: str, remedy: str) -> Skipped:
    """Build the warning for an output ``name`` not written because of ``reason``."""
    _, fix, message = render_message(code, name=name, reason=reason, remedy=remedy)
    return Skipped(code=code, name=name, reason=reason, fix=fix, message=message)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0] if text else ''}".strip().rstrip(":")


def pdf_problem() -> tuple[str, str] | None:
    """Why PDFs cannot be written here, as ``(reason, remedy)``, or ``None`` when they can.

    Notes
    -----
    WeasyPrint loads Pango through cffi when it is imported, so a missing system library
    surfaces as an ``OSError`` at import, not when a PDF is written.
    """
    try:
        importlib.import_module("weasyprint")
    except ImportError as error:
        return (f"WeasyPrint is not installed ({_first_line(error)})",
                "Install the PDF extra: pip install 'pulsecheck[pdf]'.")
    except OSError as error:
        system = PANGO_INSTALL.get(sys.platform, PANGO_INSTALL["linux"])
        return (f"WeasyPrint cannot load the Pango system library ({_first_line(error)})",
                f"Install Pango: {system}.")
    return None


def pdf_failure(error: BaseException) -> tuple[str, str]:
    """The reason and remedy for a PDF whose writing failed with ``error``."""
    return (f"WeasyPrint stopped with {_first_line(error)}",
            "Check the HTML page beside it, which was written.")


def parquet_problem() -> tuple[str, str] | None:
    """Why Parquet files cannot be written here, as ``(reason, remedy)``, or ``None``."""
    if importlib.util.find_spec("pyarrow") is None:
        return ("pyarrow is not installed",
                "Install the parquet extra: pip install 'pulsecheck[parquet]'.")
    return None


def notebook_problem() -> tuple[str, str] | None:
    """Why the notebooks cannot be executed here, as ``(reason, remedy)``, or ``None``."""
    missing = [name for name in NOTEBOOK_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        return (f"{', '.join(missing)} not installed",
                "Install the notebook extra: pip install 'pulsecheck[notebook]'.")
    return None
