"""Shape rules: a functional core without I/O, and no instrument content in pipeline code."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import INSTRUMENT_2016, PROJECT
from pipeline.ingest.readers import read_instrument

PIPELINE = PROJECT / "pipeline"
#: Modules of the functional core: frames and frozen config in, new frames out.
CORE = ("columns", "wave", "expressions", "instrument", "validate", "classify", "flow",
        "tabulate", "stats", "design", "disclosure")
#: What the core may not import: file, process and terminal I/O, rendering, the CLI.
FORBIDDEN = ("os", "shutil", "subprocess", "tempfile", "io", "csv", "click", "rich", "jinja2",
             "matplotlib", "pipeline.cli.main", "pipeline.cli.stats", "pipeline.cli.sample",
             "pipeline.report.html", "pipeline.run.analyse", "pipeline.ingest.readers", "pipeline.synthetic.generate")
#: Choice names generic enough to appear in code for other reasons.
GENERIC = {"yes", "no", "none", "other", "all"}


def _imports(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _core_modules():
    return [PIPELINE / f"{name}.py" for name in CORE if (PIPELINE / f"{name}.py").exists()]


@pytest.mark.parametrize("path", _core_modules(), ids=lambda p: p.stem)
def test_core_module__imports_no_io_rendering_or_cli(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = {name for name in _imports(tree)
           if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)}
    assert not bad, f"{path.name} imports {sorted(bad)}"


@pytest.mark.parametrize("path", _core_modules(), ids=lambda p: p.stem)
def test_core_module__never_opens_files(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    opened = [c for c in calls if isinstance(c.func, ast.Name) and c.func.id == "open"]
    io_methods = [c for c in calls if isinstance(c.func, ast.Attribute) and c.func.attr in
                  ("read_csv", "to_csv", "read_text", "write_text", "read_bytes",
                   "write_bytes", "read_excel", "to_excel")]
    assert not opened and not io_methods, path.name


def _instrument_words() -> set[str]:
    instrument = read_instrument(INSTRUMENT_2016)
    words = {q.name for q in instrument.questions}
    words |= {q.group for q in instrument.questions if q.group}
    words |= set(instrument.choices)
    words |= {c.name for choices in instrument.choices.values() for c in choices}
    words |= {c.label for choices in instrument.choices.values() for c in choices}
    words |= set(instrument.phase_order) | {instrument.unclassified}
    return {w for w in words if w.lower() not in GENERIC}


def test_pipeline_code__holds_no_question_choice_or_phase_name():
    words = _instrument_words()
    found = []
    for path in sorted(PIPELINE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # Keys of dict literals are library options (e.g. a cell format's "align"), not
        # instrument content.
        keys = {id(k) for node in ast.walk(tree) if isinstance(node, ast.Dict)
                for k in node.keys if k is not None}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and node.value in words and id(node) not in keys:
                found.append(f"{path.name}:{node.lineno} {node.value!r}")
    assert not found, "instrument content in pipeline code: " + ", ".join(found)
