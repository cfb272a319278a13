"""Shape rules, deny by default over every module of ``pipeline/``.

* The layers (``[tool.importlinter]`` in ``pyproject.toml``) hold: each layer imports only from
  the layers below it, files are read only at the edges, nothing needs the sample generator.
* No module does file, process or terminal I/O or renders, except the few listed in
  :data:`IO_MODULES` (the README's "only these modules touch files").
* No module holds a question, choice or phase name of the instrument.
* No module imports a private name (``_x``) of another module.

A new module is covered by every rule the moment it exists; only :data:`IO_MODULES` grants an
exception, and it names files, not folders.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import INSTRUMENT_2016, PROJECT
from pipeline.ingest.readers import read_instrument

PIPELINE = PROJECT / "pipeline"
#: The only modules that may touch files, processes or the terminal, or render documents
#: (paths relative to ``pipeline/``). Everything else is pure: frames and frozen config in,
#: new frames or frozen results out.
IO_MODULES = frozenset({
    "errors.py",                     # `python -m pipeline.errors --markdown` prints the catalogue
    "cli/bench.py", "cli/ingest.py", "cli/instrument.py", "cli/main.py", "cli/report.py",
    "cli/sample.py", "cli/stats.py", "cli/verify.py", "cli/weights.py",
    "cli/raw_guard.py",              # moves a recorded export aside before it is replaced
    "cli/explain.py", "cli/init.py", "cli/lazy.py",
    "cli/new_wave.py",               # copies a wave's description into a new wave folder
    "cli/options.py",                # progress on the terminal, JSON on stdout
    "report/labelled.py",            # writes the .sav/.dta files and the codebook
    "report/optional.py",            # finds whether the optional PDF/notebook parts are installed
    "resources.py",                  # finds the data shipped with pulsecheck and the project
    "ingest/readers.py",             # instruments, platform profiles, wave files, exports
    "ingest/config.py",              # the one reader of every TOML configuration file
    "model/schema_docs.py",          # `python -m pipeline.model.schema_docs` prints the schema page
    "ingest/adapters/text.py",       # an export's bytes, its encoding and spreadsheet sheets
    "ingest/adapters/columnar.py",   # parses the export's decoded text with pandas
    "ingest/adapters/spss.py",       # .sav files through pyreadstat
    "report/html.py", "report/workbook.py", "report/charts.py", "report/notebook.py",
    "run/analyse.py", "run/waves.py", "run/verify.py",
    "run/publication.py",            # stages a run folder and switches it into place
    "run/calibration.py",            # reads the calibration margins a wave names
    "ingest/adapters/sheet_limits.py",  # reads a spreadsheet's zip directory before its cells
    "synthetic/profile.py",          # reads the sample profile
    "synthetic/export.py",           # writes the sample export and its checksums
})
#: Modules whose import means I/O, a subprocess, the terminal or rendering.
IO_IMPORTS = ("os", "sys", "shutil", "subprocess", "tempfile", "io", "csv", "glob", "tomllib",
              "socket", "urllib", "http", "click", "rich", "jinja2", "matplotlib", "weasyprint",
              "nbclient", "nbconvert", "nbformat", "jupytext", "xlsxwriter", "pyreadstat",
              "python_calamine")
#: Method calls that touch the file system (names that are unambiguous in this code base).
IO_CALLS = ("read_csv", "to_csv", "read_excel", "to_excel", "read_sav", "read_text",
            "write_text", "read_bytes", "write_bytes", "write_pdf", "mkdir", "unlink", "rmdir",
            "iterdir", "glob", "rglob", "touch", "exists", "is_file", "is_dir")
#: Choice names generic enough to appear in code for other reasons.
GENERIC = {"yes", "no", "none", "other", "all",
           # Keys of a Qualtrics .qsf file ("ID", "FL" for the survey flow) that are also the
           # codes of two states.
           "id", "fl"}


def _modules() -> list[Path]:
    return sorted(PIPELINE.rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(PIPELINE).as_posix() if path.is_relative_to(PIPELINE) else path.name


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_io_allowlist__names_modules_that_exist():
    missing = sorted(name for name in IO_MODULES if not (PIPELINE / name).is_file())
    assert not missing, f"IO_MODULES names modules that do not exist: {missing}"


def test_pure_modules__are_most_of_the_package():
    pure = [p for p in _modules() if _name(p) not in IO_MODULES]
    # Sanity check on the scan itself: it must see the subpackages, not only the top level.
    assert {"stages/validate.py", "stats/tabulate.py", "model/instrument.py",
            "ingest/adapters/detect.py"} <= {_name(p) for p in pure}


@pytest.mark.parametrize("path", [p for p in _modules() if _name(p) not in IO_MODULES],
                         ids=_name)
def test_pure_module__imports_no_io_or_rendering(path: Path):
    bad = {name for name in _imports(_tree(path))
           if any(name == f or name.startswith(f + ".") for f in IO_IMPORTS)}
    assert not bad, f"{_name(path)} imports {sorted(bad)}; only IO_MODULES may"


@pytest.mark.parametrize("path", [p for p in _modules() if _name(p) not in IO_MODULES],
                         ids=_name)
def test_pure_module__never_opens_files(path: Path):
    calls = [node for node in ast.walk(_tree(path)) if isinstance(node, ast.Call)]
    found = [f"line {c.lineno} open()" for c in calls
             if isinstance(c.func, ast.Name) and c.func.id == "open"]
    found += [f"line {c.lineno} .{c.func.attr}()" for c in calls
              if isinstance(c.func, ast.Attribute) and c.func.attr in IO_CALLS]
    assert not found, f"{_name(path)} touches files: {found}; only IO_MODULES may"


def test_io_scan__catches_a_module_that_opens_a_file(tmp_path: Path):
    # The scan must be able to fail: a module that reads a file is caught.
    module = tmp_path / "leaky.py"
    module.write_text("import csv\n\ndef f(p):\n    return p.read_text()\n", encoding="utf-8")
    tree = _tree(module)
    assert "csv" in _imports(tree)
    assert any(isinstance(n, ast.Attribute) and n.attr in IO_CALLS for n in ast.walk(tree))


def _instrument_words() -> set[str]:
    instrument = read_instrument(INSTRUMENT_2016)
    words = {q.name for q in instrument.questions}
    words |= {q.group for q in instrument.questions if q.group}
    words |= set(instrument.choices)
    words |= {c.name for choices in instrument.choices.values() for c in choices}
    words |= {c.label for choices in instrument.choices.values() for c in choices}
    words |= set(instrument.phase_order) | {instrument.unclassified}
    return {w for w in words if w.lower() not in GENERIC}


def _instrument_content(path: Path, words: set[str]) -> list[str]:
    tree = _tree(path)
    # Keys of dict literals are library options (e.g. a cell format's "align"), not
    # instrument content.
    keys = {id(k) for node in ast.walk(tree) if isinstance(node, ast.Dict)
            for k in node.keys if k is not None}
    return [f"{_name(path)}:{node.lineno} {node.value!r}" for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and node.value in words and id(node) not in keys]


def test_pipeline_code__holds_no_question_choice_or_phase_name():
    words = _instrument_words()
    modules = _modules()
    assert any(_name(p).startswith("ingest/adapters/") for p in modules)
    found = [hit for path in modules for hit in _instrument_content(path, words)]
    assert not found, "instrument content in pipeline code: " + ", ".join(found)


def test_instrument_scan__catches_a_question_name(tmp_path: Path):
    # The scan must be able to fail: a module naming a question is caught.
    words = _instrument_words()
    module = tmp_path / "adapter.py"
    module.write_text(f"COLUMN = {sorted(words)[0]!r}\n", encoding="utf-8")
    assert _instrument_content(module, words)


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _is_module(dotted: str) -> bool:
    path = PROJECT.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _private_uses(path: Path) -> list[str]:
    """Private names of other modules that ``path`` imports or reaches through a module."""
    tree = _tree(path)
    found, modules = [], set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 \
                and node.module.split(".")[0] == "pipeline":
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{_name(path)}:{node.lineno} {node.module}.{alias.name}")
                elif _is_module(f"{node.module}.{alias.name}"):
                    modules.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            modules.update(alias.asname for alias in node.names
                           if alias.asname and alias.name.split(".")[0] == "pipeline")
    found += [f"{_name(path)}:{node.lineno} {node.value.id}.{node.attr}"
              for node in ast.walk(tree)
              if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
              and node.value.id in modules and _private(node.attr)]
    return found


def test_no_module__uses_a_private_name_of_another():
    found = [hit for path in _modules() for hit in _private_uses(path)]
    assert not found, "private names used across modules: " + ", ".join(found)


def test_private_scan__catches_both_spellings(tmp_path: Path):
    module = tmp_path / "user.py"
    module.write_text("from pipeline.stats.design import _hidden\n"
                      "from pipeline.stats import design\n\nx = design._other\n",
                      encoding="utf-8")
    assert len(_private_uses(module)) == 2


def _lint_imports() -> str:
    beside = Path(sys.executable).parent / "lint-imports"
    found = str(beside) if beside.exists() else shutil.which("lint-imports")
    assert found, "lint-imports (import-linter, a dev dependency) is not installed"
    return found


def test_layers__import_contracts_are_kept():
    result = subprocess.run([_lint_imports(), "--no-cache", "--no-logo"], cwd=PROJECT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
