"""The catalogue of bad inputs (tests/bad_inputs/cases.py): each damage, its code and exit code.

Every case builds a damaged project, runs the command line on it and checks that pulsecheck
refuses or quarantines the input with the catalogue code(s) and words expected, exits with
the expected code, never shows a traceback and, when it refuses (exit 2), writes nothing.
A few cases run in a real subprocess to prove that nothing but the message reaches stderr.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from bad_inputs.cases import CASES, Case
from conftest import PROJECT
from pipeline.errors import CATALOGUE


def _issues(root: Path) -> pd.DataFrame:
    for name in ("out/internal", "out", "ingested"):
        path = root / name / "issues.csv"
        if path.exists():
            return pd.read_csv(path, dtype=str, keep_default_na=False)
    return pd.DataFrame(columns=["code", "message"])


def _check(case: Case, root: Path, exit_code: int, stderr: str) -> None:
    assert exit_code == case.exit_code, stderr
    assert "Traceback" not in stderr
    issues = _issues(root)
    found = set(issues["code"]) | {code for code in CATALOGUE if f"({code})" in stderr}
    assert set(case.codes) <= found, (case.codes, found, stderr)
    messages = stderr + "\n".join(issues["message"])
    for word in case.words:
        assert word in messages, (word, messages[-2000:])
    if case.exit_code == 2 and case.keeps:
        written = {p.relative_to(root / "out").as_posix() for p in (root / "out").rglob("*")}
        assert set(case.keeps) <= written, (case.keeps, written)
    elif case.exit_code == 2:
        assert not (root / "out").exists() and not (root / "ingested" / "responses.csv").exists()
    # Nothing half-written: no staging or retired folder is left beside the output.
    assert not [p for p in root.rglob(".*") if ".tmp-" in p.name or ".old-" in p.name]
    for name in case.absent:
        assert not (root / name).exists(), name


def test_catalogue_of_bad_inputs__has_at_least_40_distinct_cases():
    assert len({c.case_id for c in CASES}) == len(CASES) >= 40


def test_catalogue_of_bad_inputs__names_only_codes_that_exist():
    assert {code for c in CASES for code in c.codes} <= set(CATALOGUE)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.case_id} {c.description}" for c in CASES])
def test_bad_input__is_refused_or_quarantined_with_its_code_and_exit_code(case, tmp_path):
    args = case.builder(tmp_path)
    result = CliRunner().invoke(cli_group(), args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    _check(case, tmp_path, result.exit_code, result.output)


@pytest.mark.parametrize("case", [c for c in CASES if c.subprocess],
                         ids=[c.case_id for c in CASES if c.subprocess])
def test_bad_input__in_a_real_process__shows_only_the_message_on_stderr(case, tmp_path):
    args = case.builder(tmp_path)
    done = subprocess.run([sys.executable, "-m", "pipeline.cli.main", *args], cwd=PROJECT,
                          capture_output=True, text=True, timeout=120, check=False)
    _check(case, tmp_path, done.returncode, done.stderr + done.stdout)
    if case.exit_code == 2:
        lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        assert len(lines) == 1 and lines[0].rstrip().endswith(")"), done.stderr


def cli_group():
    from pipeline.cli.main import cli
    return cli
