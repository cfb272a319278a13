"""The ``calibrate`` and ``replicate`` commands on the R fixtures (numbers checked against R's
reference values; the computations themselves are tested in test_stats_calibrate.py and
test_stats_replicate.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from pipeline.cli.main import cli

ORACLE = Path(__file__).parent / "oracles" / "r_survey"
HERE = ORACLE / "replicate"
REF = pd.read_csv(HERE / "reference.csv").set_index("id")["value"].astype(float).to_dict()


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_calibrate__rakes_writes_weights_and_gives_r_standard_errors(tmp_path):
    out = tmp_path / "w.csv"
    result = run("calibrate", str(ORACLE / "apiclus1.csv"), "--margins",
                 str(HERE / "margins_clus1.csv"), "--method", "rake", "--weight", "pw",
                 "--cluster", "dnum", "--fpc", "fpc", "--mean", "api00", "--key", "snum",
                 "--out", str(out), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["converged"] and summary["iterations"] >= 1
    mean = summary["means"][0]
    assert abs(mean["se"] / REF["calib/clus1_rake/mean/api00/se"] - 1) < 1e-6
    weights = pd.read_csv(out)
    assert list(weights.columns) == ["snum", "weight"] and len(weights) == 183


def test_calibrate__missing_margin_level_is_calib_002_exit_2(tmp_path):
    margins = tmp_path / "m.csv"
    margins.write_text("variable,level,count\nstype,E,4421\nstype,M,1018\n")
    result = run("calibrate", str(ORACLE / "apiclus1.csv"), "--margins", str(margins),
                 "--method", "poststratify", "--weight", "pw")
    assert result.exit_code == 2
    assert "CALIB_002" in result.output and "'H'" in result.output


def test_replicate__given_columns_match_r_and_test_the_groups():
    result = run("replicate", str(HERE / "clus1_jk1.csv"), "--var", "sch.wide", "--level",
                 "Yes", "--by", "stype", "--type", "JK1", "--replicates", "rw*", "--weight",
                 "pw", "--scale", repr(REF["given/jk1/scale"]), "--ci", "logit", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    groups = {g["group"]: g for g in out["groups"]}
    for group, key in (("All", "All"), ("E", "E"), ("M", "M")):
        low, high = groups[group]["ci"]
        assert abs(low / REF[f"jk1/ciprop/{key}/logit/ci[1]"] - 1) < 1e-6
        assert abs(high / REF[f"jk1/ciprop/{key}/logit/ci[2]"] - 1) < 1e-6
    assert out["test"]["test"] == "rao_scott_f"


def test_replicate__unknown_type_is_rep_001_exit_2():
    result = run("replicate", str(HERE / "clus1_jk1.csv"), "--var", "sch.wide", "--level",
                 "Yes", "--type", "jackknife", "--replicates", "rw*", "--ci", "logit")
    assert result.exit_code == 2
    assert "REP_001" in result.output


def test_replicate__conversion_of_a_design_to_brr():
    result = run("replicate", str(HERE / "clus2_pairs.csv"), "--var", "sch.wide", "--level",
                 "Yes", "--type", "BRR", "--strata", "pair", "--cluster", "dnum", "--weight",
                 "pw", "--ci", "beta", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    low, high = out["groups"][0]["ci"]
    assert abs(low / REF["clus2_brr/ciprop/All/beta/ci[1]"] - 1) < 1e-6
    assert abs(high / REF["clus2_brr/ciprop/All/beta/ci[2]"] - 1) < 1e-6


def test_replicate__misspelt_level__is_an_error_naming_the_answers():
    result = run("replicate", str(HERE / "clus1_jk1.csv"), "--var", "sch.wide", "--level",
                 "yes", "--type", "JK1", "--replicates", "rw*", "--weight", "pw",
                 "--ci", "logit")
    assert result.exit_code == 2, result.output
    assert "STAT_011" in result.output and "'Yes'" in result.output


def test_calibrate__out_naming_the_data_or_the_margins__is_refused_and_both_kept(tmp_path):
    data = tmp_path / "data.csv"
    data.write_bytes((ORACLE / "apiclus1.csv").read_bytes())
    margins = tmp_path / "m.csv"
    margins.write_text("variable,level,count\nstype,E,4421\nstype,H,755\nstype,M,1018\n")
    before = {path: path.read_bytes() for path in (data, margins)}
    for out in (data, margins, tmp_path / "." / "data.csv"):
        result = run("calibrate", str(data), "--margins", str(margins), "--method",
                     "poststratify", "--weight", "pw", "--out", str(out))
        assert result.exit_code == 2, result.output
        assert "RAW_002" in result.output
    assert {path: path.read_bytes() for path in before} == before
