"""The start-up benchmark: measured in fresh processes beside a baseline, recorded in
RESULTS.md only on request (no timing assertions here)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from benchmarks.startup import END, START, measure_startup, record_startup, replace_section
from pipeline.cli.main import cli


def test_measure_startup__baseline_help_and_version__each_timed():
    result = measure_startup(repeats=1)
    assert set(result["seconds"]) == {"python -c pass", "pulsecheck --help",
                                      "pulsecheck --version"}
    assert all(value > 0 for value in result["seconds"].values())
    assert result["target_seconds"] == 0.5


def test_replace_section__twice__keeps_one_section_and_the_rest():
    text = "# Benchmark results\n\nper size table\n"
    once = replace_section(text, f"{START}\nfirst\n{END}")
    twice = replace_section(once, f"{START}\nsecond\n{END}")
    assert twice.count(START) == 1 and "second" in twice and "first" not in twice
    assert twice.startswith(text.rstrip("\n"))


def test_record_startup__writes_json_and_the_results_section(tmp_path):
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "RESULTS.md").write_text("# Benchmark results\n\nkept\n",
                                                        encoding="utf-8")
    result = {"repeats": 1, "target_seconds": 0.5, "command": "pulsecheck",
              "seconds": {"python -c pass": 0.02, "pulsecheck --help": 0.3,
                          "pulsecheck --version": 0.6}}
    record_startup(result, tmp_path)
    text = (tmp_path / "benchmarks" / "RESULTS.md").read_text(encoding="utf-8")
    assert "kept" in text
    assert "| `pulsecheck --help` | 0.300 | +0.280 | yes |" in text
    assert "| `pulsecheck --version` | 0.600 | +0.580 | NO |" in text
    saved = json.loads((tmp_path / "benchmarks" / "results" / "startup.json").read_text())
    assert saved == result


def test_bench_startup__without_record__leaves_the_committed_results_alone(tmp_path,
                                                                          monkeypatch):
    monkeypatch.setattr("benchmarks.startup.measure_startup", lambda: {
        "repeats": 1, "target_seconds": 0.5, "command": "pulsecheck",
        "seconds": {"python -c pass": 0.02, "pulsecheck --help": 0.3,
                    "pulsecheck --version": 0.3}})
    recorded = []
    monkeypatch.setattr("benchmarks.startup.record_startup",
                        lambda *args: recorded.append(args) or [])
    result = CliRunner().invoke(cli, ["bench", "--startup", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert recorded == []
    assert json.loads((tmp_path / "startup.json").read_text())["command"] == "pulsecheck"
