"""PDFs and notebooks are optional: without WeasyPrint's system library or the Jupyter
packages every other output is still written, and the warning names the cause and the fix."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import SAMPLE_WAVE
from pipeline.cli.main import cli

#: What WeasyPrint raises at import on a machine without Pango (cffi's dlopen message).
PANGO_MISSING = ("cannot load library 'libpango-1.0-0': libpango-1.0-0: cannot open shared "
                 "object file: No such file or directory")


@pytest.fixture
def no_pango(tmp_path, monkeypatch):
    """A WeasyPrint that fails to import the way it does when Pango is not installed."""
    fake = tmp_path / "fake_site" / "weasyprint"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text(f"raise OSError({PANGO_MISSING!r})\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(fake.parent))
    for name in [n for n in sys.modules if n == "weasyprint" or n.startswith("weasyprint.")]:
        monkeypatch.delitem(sys.modules, name)


def test_pdf_problem__pango_missing__names_the_library_and_how_to_install_it(no_pango):
    from pipeline.report.optional import pdf_problem

    reason, remedy = pdf_problem()
    assert "libpango-1.0-0" in reason
    assert "apt install libpango-1.0-0" in remedy


def test_notebook_problem__jupytext_missing__names_the_package_and_the_extra(monkeypatch):
    from pipeline.report.optional import notebook_problem

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "jupytext" else real(name, *a))
    reason, remedy = notebook_problem()
    assert reason == "jupytext not installed"
    assert "pulsecheck[notebook]" in remedy


def _copy_without_reports(run_dir: Path, target: Path) -> Path:
    shutil.copytree(run_dir, target)
    for name in ("published/funder_summary.html", "published/funder_summary.pdf",
                 "internal/analyst.ipynb", "internal/analyst.html"):
        (target / name).unlink(missing_ok=True)
    return target


@pytest.mark.slow
def test_report__pango_missing__writes_the_html_and_warns_with_cause_and_fix(
        sample_run_dir, tmp_path, no_pango):
    folder = _copy_without_reports(sample_run_dir, tmp_path / "run")
    result = CliRunner().invoke(cli, ["report", str(folder), "--no-notebook"])
    assert result.exit_code == 0, result.output
    assert (folder / "published" / "funder_summary.html").is_file()
    assert not (folder / "published" / "funder_summary.pdf").exists()
    assert "RENDER_007" in result.output
    assert "libpango-1.0-0" in result.output and "apt install" in result.output


@pytest.mark.slow
def test_report__no_pdf__writes_html_only_and_no_warning(sample_run_dir, tmp_path):
    folder = _copy_without_reports(sample_run_dir, tmp_path / "run")
    result = CliRunner().invoke(cli, ["report", str(folder), "--no-pdf", "--no-notebook"])
    assert result.exit_code == 0, result.output
    assert (folder / "published" / "funder_summary.html").is_file()
    assert not (folder / "published" / "funder_summary.pdf").exists()
    assert "warning" not in result.output


@pytest.mark.slow
def test_run__pango_missing__writes_every_other_output_and_records_the_choice(
        tmp_path, no_pango):
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["run", str(SAMPLE_WAVE), "--out", str(out),
                                      "--no-notebook"])
    assert result.exit_code == 0, result.output
    for name in ("internal/partnerships.csv", "internal/issues.csv", "published/tables.xlsx",
                 "internal/overview.html", "published/funder_summary.html",
                 "published/findings.csv", "run.json"):
        assert (out / name).is_file(), name
    assert not list(out.rglob("*.pdf")) and not list(out.rglob("analyst.ipynb"))
    assert "libpango-1.0-0" in result.output and "RENDER_007" in result.output
    settings = json.loads((out / "run.json").read_text(encoding="utf-8"))["settings"]
    assert (settings["pdf"], settings["notebook"]) == (True, False)
