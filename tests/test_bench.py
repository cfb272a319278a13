"""The benchmark machinery works at a tiny size (no timing assertions, no R)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from benchmarks.runner import BenchOptions, run_bench, scaling_exponent
from benchmarks.scaled import design_columns, prepare_wave

ROOT = Path(__file__).resolve().parents[1]


def test_scaling_exponent__linear_times__is_one():
    assert scaling_exponent([10, 100, 1000], [0.5, 5.0, 50.0]) == pytest.approx(1.0)


def test_scaling_exponent__quadratic_times__is_two():
    assert scaling_exponent([10, 100], [1.0, 100.0]) == pytest.approx(2.0)


def test_design_columns__psus_nest_in_strata_with_two_or_more_each():
    design = design_columns(5000)
    assert design.groupby("psu")["stratum"].nunique().max() == 1
    assert design.groupby("stratum")["psu"].nunique().min() >= 2
    assert (design["w"] > 0).all()


def test_prepare_wave__scaled_export__keeps_header_and_gives_fresh_ids(tmp_path):
    data = ROOT / "benchmarks" / "data" / "test"
    wave = prepare_wave(ROOT, 300, data)
    export = next(wave.glob("scaled_*.csv"))
    sample = ROOT / "raw" / "pulse_check" / "2016" / "pulse_check_2016_qualtrics.csv"
    with open(export, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    with open(sample, encoding="utf-8-sig", newline="") as handle:
        header = list(csv.reader(handle))[:3]
    assert rows[:3] == header
    ids = [r[header[0].index("ResponseId")] for r in rows[3:]]
    assert len(ids) == 300 and len(set(ids)) == 300


@pytest.mark.slow
def test_run_bench__tiny_sizes__writes_results_with_every_stage(tmp_path):
    options = BenchOptions(root=ROOT, sizes=(200,), out=tmp_path / "results",
                           data_dir=ROOT / "benchmarks" / "data" / "test", render_max=0,
                           with_r=False, write_report=False)
    payload = run_bench(options, say=lambda message: None)
    saved = json.loads((tmp_path / "results" / "results.json").read_text())
    assert [s["n"] for s in saved["sizes"]] == [200]
    stages = saved["sizes"][0]["pipeline"]["stages"]
    assert set(stages) == {"read", "validate", "classify", "tabulate"}
    assert saved["sizes"][0]["pipeline"]["rows"] == 200
    assert payload["summary"]["ratio_vs_r"] is None
    assert saved["sizes"][0]["design"]["summary"]["chisq"]


@pytest.mark.slow
def test_bench_command__results_written_elsewhere__leave_the_recorded_results_alone(tmp_path):
    from click.testing import CliRunner

    from pipeline.cli.main import cli

    recorded = Path(__file__).resolve().parent.parent / "benchmarks" / "RESULTS.md"
    before = recorded.read_bytes()
    result = CliRunner().invoke(cli, ["bench", "--sizes", "200", "--no-r", "--render-max", "0",
                                      "--out", str(tmp_path / "bench")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "bench" / "results.json").exists()
    assert recorded.read_bytes() == before


def _bench_options(monkeypatch, *args: str):
    """The options `pulsecheck bench ARGS` would run with (the benchmark itself not run)."""
    from click.testing import CliRunner

    import benchmarks.runner
    from pipeline.cli.main import cli

    seen = []

    def fake_run_bench(options, say):
        seen.append(options)
        return {"sizes": [], "summary": {}, "machine": {}}

    monkeypatch.setattr(benchmarks.runner, "run_bench", fake_run_bench)
    monkeypatch.setattr("benchmarks.report.text_table", lambda payload: "")
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["bench", *args])
    return result, seen


def test_bench_command__without_record__never_writes_the_committed_results(monkeypatch):
    result, seen = _bench_options(monkeypatch, "--quick", "--no-r")
    assert result.exit_code == 0, result.output
    (options,) = seen
    assert options.write_report is False
    assert not options.out.resolve().is_relative_to((ROOT / "benchmarks").resolve())


def test_bench_command__record__replaces_the_committed_results(monkeypatch):
    result, seen = _bench_options(monkeypatch, "--quick", "--no-r", "--record")
    assert result.exit_code == 0, result.output
    (options,) = seen
    assert options.write_report is True
    assert options.out == ROOT / "benchmarks" / "results"


def test_replicate_case__groups_psus_four_to_a_stratum_and_converts_to_40_jkn_replicates():
    import numpy as np
    import pandas as pd

    from benchmarks.design_tables import REPLICATE_PSU, replicate_groups, run_design_tables
    from pipeline.stats.design import SurveyDesign
    from pipeline.stats.replicate import ReplicateConversion, resolve_replicate_design

    design = design_columns(5000)
    frame = design.assign(**{REPLICATE_PSU: replicate_groups(design["psu"])})
    assert frame.groupby("stratum")[REPLICATE_PSU].nunique().tolist() == [4] * 10
    resolved = resolve_replicate_design(frame, ReplicateConversion(
        SurveyDesign(weights="w", strata="stratum", cluster=REPLICATE_PSU), "JKn"))
    assert resolved.n_replicates == 40
    rng = np.random.default_rng(3)
    frame = design.assign(row=rng.choice(["a", "b"], 5000), col=rng.choice(["x", "y"], 5000),
                          item=(rng.random(5000) < 0.4).astype(float))
    plan = {"chisq": [["row", "col"]], "ciprop": ["item"]}
    linear = run_design_tables(frame, plan)
    replicated = run_design_tables(frame, plan, replicates=True)
    # The same estimate, a different variance.
    assert replicated["ciprop"][0]["estimate"] == pytest.approx(linear["ciprop"][0]["estimate"])
    assert replicated["ciprop"][0]["ci_low"] != pytest.approx(linear["ciprop"][0]["ci_low"],
                                                              rel=1e-9)
    assert np.isfinite(replicated["chisq"][0]["statistic"])
    assert isinstance(frame, pd.DataFrame)


def test_record_replicate__replaces_only_its_section_of_the_results(tmp_path):
    from benchmarks.report import REPLICATE_START, record_replicate
    from benchmarks.startup import START

    (tmp_path / "benchmarks").mkdir()
    results = tmp_path / "benchmarks" / "RESULTS.md"
    results.write_text(f"# Benchmark results\n\nkept\n\n{START}\nstart-up\n"
                       "<!-- startup:end -->\n", encoding="utf-8")
    size = {"n": 1000, "design_seconds": 0.2, "r_seconds": 1.0, "ratio_vs_r": 5.0,
            "agreement": 1e-9, "replicate_seconds": 0.5, "r_replicate_seconds": 2.0,
            "ratio_vs_r_replicate": 4.0, "replicate_agreement": 2e-9}
    payload = {"machine": {}, "summary": {"replicate_size": 1000, "ratio_vs_r_replicate": 4.0},
               "sizes": [size]}
    record_replicate(payload, tmp_path)
    record_replicate({**payload, "summary": {"replicate_size": 1000,
                                             "ratio_vs_r_replicate": 6.0}}, tmp_path)
    text = results.read_text(encoding="utf-8")
    assert text.count(REPLICATE_START) == 1 and "ratio_vs_r_replicate=6.00" in text
    assert text.index("kept") < text.index(REPLICATE_START) < text.index(START)
    assert (tmp_path / "benchmarks" / "results" / "replicate.json").exists()
