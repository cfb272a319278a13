"""The analyst and trends notebooks are a starting point for analysts: they use pulsecheck's
public API only and run from a run folder copied anywhere, with the installed package."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import nbformat
import pytest

import pipeline
from conftest import PROJECT

TEMPLATES = ("analyst_notebook.py", "trends_notebook.py")
#: Folders of a project checkout: a notebook that reads them depends on where it was made.
CHECKOUT_FOLDERS = ("survey_instrument", "reports", "raw")


def _code(template: str) -> ast.Module:
    import jupytext

    notebook = jupytext.read(str(PROJECT / "reports" / template), fmt="py:percent")
    source = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    return ast.parse(source)


def _pipeline_uses(tree: ast.Module) -> list[str]:
    """Every way the code reaches into pulsecheck: modules imported and names used."""
    uses = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            uses += [f"import {a.name}" for a in node.names if a.name.split(".")[0] == "pipeline"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "pipeline":
            uses += [f"from {node.module} import {a.name}" for a in node.names]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id == "pipeline":
            uses.append(f"pipeline.{node.attr}")
    return uses


@pytest.mark.parametrize("template", TEMPLATES)
def test_notebook_template__uses_only_the_public_api(template):
    uses = _pipeline_uses(_code(template))
    public = {f"pipeline.{name}" for name in pipeline.__all__} | {"import pipeline"} | \
        {f"from pipeline import {name}" for name in pipeline.__all__}
    assert "import pipeline" in uses
    assert [use for use in uses if use not in public] == []


@pytest.mark.parametrize("template", TEMPLATES)
def test_notebook_template__reads_nothing_from_a_project_checkout(template):
    tree = _code(template)
    texts = [node.value for node in ast.walk(tree)
             if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    names = [node.id for node in ast.walk(tree) if isinstance(node, ast.Name)]
    assert "__file__" not in names
    assert [t for t in texts if Path(t).parts[:1] and Path(t).parts[0] in CHECKOUT_FOLDERS] \
        == []


def _execute_in_copy(folder: Path, template: str, tmp_path: Path) -> str:
    """Execute a template in a copy of ``folder`` outside any project; the notebook's HTML."""
    from pipeline.report.notebook import TEMPLATE, build_notebook, execute_notebook, notebook_html

    copy = tmp_path / "elsewhere" / "a copied run"
    shutil.copytree(folder, copy)
    assert not any((p / "survey_instrument").exists() for p in [copy, *copy.parents])
    notebook = execute_notebook(build_notebook(TEMPLATE.parent / template),
                                copy / "internal", TEMPLATE.parent / template)
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    nbformat.validate(notebook)
    return notebook_html(notebook)


@pytest.mark.slow
def test_analyst_notebook__runs_in_a_copied_run_folder_and_works_from_partnerships_csv(
        sample_run_dir, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    html = _execute_in_copy(sample_run_dir, "analyst_notebook.py", tmp_path)
    # Labelled from codebook.csv: choice labels, not the names partnerships.csv holds.
    assert "Recognized by key stakeholders, without a formal mandate" in html
    assert "Pearson χ²" in html and "simple random sample, unweighted" in html
    assert "logit 95% interval" in html and "wilson interval" in html
    assert "data:image/svg+xml;base64," in html


@pytest.fixture(scope="module")
def trends_folder(tmp_path_factory) -> Path:
    """``pulsecheck run raw/pulse_check`` once, without PDFs and notebooks."""
    from click.testing import CliRunner

    from pipeline.cli.main import cli

    out = tmp_path_factory.mktemp("waves") / "out"
    result = CliRunner().invoke(cli, ["run", str(PROJECT / "raw" / "pulse_check"), "--out",
                                      str(out), "--no-pdf", "--no-notebook"])
    assert result.exit_code in (0, 1), result.output
    return out / "pulse_check-trends"


@pytest.mark.slow
def test_trends_notebook__runs_in_a_copied_trends_folder(trends_folder, tmp_path,
                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    html = _execute_in_copy(trends_folder, "trends_notebook.py", tmp_path)
    assert "What changed" in html and "A worked test of change" in html
    assert "data:image/svg+xml;base64," in html
