"""The crosstab and proportion commands: JSON for scripts, text for people, clean errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from pipeline.cli.main import cli

ORACLE = Path(__file__).parent / "oracles" / "r_survey"
REF = pd.read_csv(ORACLE / "reference.csv").set_index("id")["value"].astype(float).to_dict()
STRAT = str(ORACLE / "apistrat.csv")
CLUS1 = str(ORACLE / "apiclus1.csv")


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_crosstab_json__has_the_documented_fields_and_matches_r():
    result = run("crosstab", STRAT, "--row", "sch.wide", "--col", "stype", "--weight", "pw",
                 "--strata", "stype", "--fpc", "fpc", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["row_levels"] == ["No", "Yes"] and out["col_levels"] == ["E", "H", "M"]
    assert out["unweighted_counts"] == [[9, 24, 15], [91, 26, 35]]
    assert out["weighted_counts"][1][0] == pytest.approx(
        REF["strat_fpc/svytable/sch.wide/stype/Yes/E"], rel=1e-6)
    assert sum(out["col_proportions"][i][2] for i in range(2)) == pytest.approx(1.0)
    assert sum(out["row_proportions"][0]) == pytest.approx(1.0)
    rs = out["tests"]["rao_scott"]
    key = "strat_fpc/svychisq/sch.wide/stype/F"
    assert rs["statistic"] == pytest.approx(REF[f"{key}/statistic"], rel=1e-6)
    assert rs["ndf"] == pytest.approx(REF[f"{key}/parameter[1]"], rel=1e-6)
    assert rs["ddf"] == pytest.approx(REF[f"{key}/parameter[2]"], rel=1e-6)
    assert rs["p_value"] == pytest.approx(REF[f"{key}/p_value"], rel=1e-6)
    assert set(out["tests"]["pearson"]) >= {"statistic", "df", "p_value"}
    assert 0 <= out["tests"]["fisher"]["p_value"] <= 1


def test_crosstab_json_without_design__has_no_rao_scott_and_matches_r_tests():
    result = run("crosstab", STRAT, "--row", "api_band", "--col", "stype", "--json")
    out = json.loads(result.output)
    assert "rao_scott" not in out["tests"]
    assert out["tests"]["fisher"]["p_value"] == pytest.approx(
        REF["srs/band_by_stype/fisher/p_value"], rel=1e-6)
    assert out["tests"]["pearson"]["statistic"] == pytest.approx(
        REF["srs/band_by_stype/chisq/none/statistic"], rel=1e-6)


def test_crosstab_text__is_a_readable_table_with_tests():
    result = run("crosstab", CLUS1, "--row", "sch.wide", "--col", "stype", "--weight", "pw",
                 "--cluster", "dnum", "--fpc", "fpc")
    assert result.exit_code == 0
    assert "Rao-Scott F" in result.output and "Fisher" in result.output
    assert "svydesign(id=~dnum" in result.output


@pytest.mark.parametrize("method", ["logit", "likelihood", "asin", "beta", "mean", "xlogit"])
def test_proportion_json__matches_r_svyciprop_on_the_cluster_sample(method):
    result = run("proportion", CLUS1, "--var", "sch.wide", "--level", "Yes", "--weight", "pw",
                 "--cluster", "dnum", "--fpc", "fpc", "--ci", method, "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    key = f"clus1_fpc/svyciprop/sch.wide/Yes/All/{method}"
    assert out["method"] == method and out["design_df"] == 14
    assert out["ci"][0] == pytest.approx(REF[f"{key}/ci[1]"], rel=1e-6)
    assert out["ci"][1] == pytest.approx(REF[f"{key}/ci[2]"], rel=1e-6)
    assert out["estimate"] == pytest.approx(REF[f"{key}/estimate"], rel=1e-8)
    assert out["se"] == pytest.approx(REF["clus1_fpc/svymean/sch.wide/Yes/All/se"], rel=1e-6)


def test_proportion_by_group__gives_each_domain_with_its_own_df():
    result = run("proportion", STRAT, "--var", "awards", "--level", "Yes", "--by", "stype",
                 "--weight", "pw", "--strata", "stype", "--fpc", "fpc", "--ci", "beta",
                 "--json")
    out = json.loads(result.output)
    groups = {g["group"]: g for g in out["by_groups"]}
    assert groups["E"]["design_df"] == 99 and groups["H"]["design_df"] == 49
    assert groups["H"]["ci"][1] == pytest.approx(
        REF["strat_fpc/svyciprop/awards/Yes/H/beta/ci[2]"], rel=1e-6)


def test_proportion_text__names_the_method():
    result = run("proportion", STRAT, "--var", "sch.wide", "--level", "Yes",
                 "--ci", "clopper_pearson")
    assert result.exit_code == 0
    assert "clopper_pearson" in result.output and "82.79" not in result.output


def test_proportion_with_binomial_method_and_weights__exits_2_with_a_message():
    result = run("proportion", STRAT, "--var", "sch.wide", "--level", "Yes", "--weight", "pw",
                 "--ci", "wilson")
    assert result.exit_code == 2
    assert "STAT_009" in result.output and "Traceback" not in result.output


def test_missing_file__exits_2_with_cli_001():
    result = run("crosstab", "no_such_file.csv", "--row", "a", "--col", "b")
    assert result.exit_code == 2 and "CLI_001" in result.output


def test_unknown_column__exits_2_with_stat_001():
    result = run("crosstab", STRAT, "--row", "nope", "--col", "stype")
    assert result.exit_code == 2 and "STAT_001" in result.output


def test_xlsx_and_sav_files__are_read_like_csv(tmp_path):
    pyreadstat = pytest.importorskip("pyreadstat")
    frame = pd.read_csv(STRAT)[["stype", "sch.wide", "pw"]].rename(columns={"sch.wide": "sw"})
    sav = tmp_path / "api.sav"
    pyreadstat.write_sav(frame, str(sav))
    expected = json.loads(run("crosstab", STRAT, "--row", "sch.wide", "--col", "stype",
                              "--json").output)
    got = json.loads(run("crosstab", str(sav), "--row", "sw", "--col", "stype",
                         "--json").output)
    assert got["unweighted_counts"] == expected["unweighted_counts"]
    xlsx = tmp_path / "api.xlsx"
    try:
        frame.to_excel(xlsx, index=False)
    except ImportError:
        pytest.skip("no Excel writer installed")
    got = json.loads(run("crosstab", str(xlsx), "--row", "sw", "--col", "stype",
                         "--json").output)
    assert got["unweighted_counts"] == expected["unweighted_counts"]


# --------------------------------------------------------------------------------------------
# multistage designs, lonely PSUs, every test, pairwise, design effects, the mean command

REF_DESIGNS = pd.read_csv(ORACLE / "reference_designs.csv").set_index("id")["value"] \
    .astype(float).to_dict()
CLUS2 = str(ORACLE / "apiclus2.csv")
TWO_STAGE = ("--cluster", "dnum,snum", "--fpc", "fpc1,fpc2")


def test_mean_two_stage__equals_r_mean_total_deff_and_quantile():
    result = run("mean", CLUS2, "--var", "api00", "--by", "stype", *TWO_STAGE, "--deff",
                 "--total", "--quantiles", "0.25,0.5,0.9", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    groups = {g["group"]: g for g in out["by_groups"]}
    for name, part in (("All", out), ("E", groups["E"]), ("H", groups["H"])):
        for stat, block in (("mean", part["mean"]), ("total", part["total"])):
            want = [REF_DESIGNS[f"clus2_fpc/{name}/{stat}[{i}]"] for i in (1, 2, 3)]
            assert [block["estimate"], block["se"], block["deff"]] == \
                pytest.approx(want, rel=1e-6)
        median = part["quantiles"]["0.5"]
        want = [REF_DESIGNS[f"clus2_fpc/{name}/quantile[{i}]"] for i in (5, 6, 7, 8)]
        assert [median["estimate"], *median["ci"], median["se"]] == pytest.approx(want,
                                                                                  rel=1e-6)


def test_mean_text__prints_every_group():
    result = run("mean", CLUS2, "--var", "api00", "--by", "stype", *TWO_STAGE)
    assert result.exit_code == 0, result.output
    assert "id=~dnum+snum" in result.output and "fpc=~fpc1+fpc2" in result.output
    assert [line.split()[0] for line in result.output.splitlines()[2:]] == \
        ["All", "E", "H", "M"]


def test_crosstab_tests_option__prints_every_test_by_name():
    result = run("crosstab", CLUS2, "--row", "sch.wide", "--col", "stype", *TWO_STAGE,
                 "--tests", "pearson,yates,g2,fisher,rao-scott,wald,adjwald,trend",
                 "--pairwise", "holm", "--deff", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert list(out["tests"]) == ["pearson", "yates", "g2", "fisher", "rao-scott", "wald",
                                  "adjwald", "trend"]
    rs = out["tests"]["rao-scott"]
    want = [REF_DESIGNS[f"clus2_fpc/svychisq/F[{i}]"] for i in (1, 2, 3, 4)]
    assert [rs["statistic"], rs["df"], rs["ddf"], rs["p_value"]] == pytest.approx(want,
                                                                                rel=1e-6)
    assert out["tests"]["yates"]["method"] == "not tested"  # a 2×3 table
    assert "not tested" in out["tests"]["trend"]["warnings"]  # needs an unweighted sample
    assert {p["row_level"] for p in out["pairwise"]} == {"No", "Yes"}
    assert len(out["deff"]) == 2 and len(out["deff"][0]) == 3


def test_crosstab_unknown_test__is_a_catalogue_error():
    result = run("crosstab", CLUS2, "--row", "sch.wide", "--col", "stype", "--tests", "chi")
    assert result.exit_code == 2 and "STAT_004" in result.output


def test_crosstab_misspelt_column__suggests_the_close_name():
    result = run("crosstab", CLUS2, "--row", "sch.wid", "--col", "stype")
    assert result.exit_code == 2 and "STAT_001" in result.output
    assert "did you mean 'sch.wide'" in result.output


def test_crosstab_misspelt_column__lists_the_columns_then_the_suggestion():
    result = run("crosstab", CLUS2, "--row", "sch.wid", "--col", "stype")
    with open(CLUS2, encoding="utf-8") as handle:
        first = handle.readline().strip().split(",")[0].strip('"')
    # "(they have: <the columns>; did you mean …?)", never the question inside the list.
    assert f"(they have: {first}, " in result.output, result.output
    assert "; did you mean 'sch.wide'?)" in result.output, result.output


def test_proportion_lonely_psu_option__reaches_the_design():
    result = run("proportion", STRAT, "--var", "sch.wide", "--level", "Yes",
                 "--weight", "pw", "--strata", "stype", "--ci", "logit",
                 "--lonely-psu", "adjust", "--json")
    assert result.exit_code == 0, result.output
    assert "lonely PSU: adjust" in json.loads(result.output)["design"]


def test_proportion_fail_rule__error_names_the_option(tmp_path):
    frame = pd.read_csv(STRAT)
    frame.loc[0, "stype"] = "X"
    path = tmp_path / "lonely.csv"
    frame.to_csv(path, index=False)
    result = run("proportion", str(path), "--var", "sch.wide", "--level", "Yes",
                 "--weight", "pw", "--strata", "stype", "--ci", "logit")
    assert result.exit_code == 2 and "STAT_003" in result.output
    assert "--lonely-psu" in result.output
    result = run("proportion", str(path), "--var", "sch.wide", "--level", "Yes",
                 "--weight", "pw", "--strata", "stype", "--ci", "logit",
                 "--lonely-psu", "certainty", "--json")
    assert result.exit_code == 0, result.output


def test_crosstab_order__explicit_order_wins_over_sorting():
    result = run("crosstab", STRAT, "--row", "api_band", "--col", "stype",
                 "--row-order", "lt600,600to699,700to799,800plus", "--json")
    out = json.loads(result.output)
    assert out["row_levels"] == ["lt600", "600to699", "700to799", "800plus"]


def test_crosstab_order__a_run_folder_gives_the_instrument_order(tmp_path):
    instrument = Path(__file__).parents[1] / "survey_instrument" / "pulse_check" / "2016"
    run_dir = tmp_path / "run"
    (run_dir / "internal").mkdir(parents=True)
    (run_dir / "run.json").write_text(json.dumps({"instrument": {"path": str(instrument)}}))
    frame = pd.DataFrame({"geo_level": ["statewide", "city", "county", "neighborhood",
                                        "city", "county"],
                          "phase_group": ["Later", "Earlier", "Middle", "Earlier",
                                          "Later", "Middle"]})
    frame.to_csv(run_dir / "internal" / "partnerships.csv", index=False)
    result = run("crosstab", str(run_dir / "internal" / "partnerships.csv"),
                 "--row", "geo_level", "--col", "phase_group", "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["row_levels"] == ["neighborhood", "city", "county", "statewide"]
    assert out["col_levels"] == ["Earlier", "Middle", "Later"]
    explicit = run("crosstab", str(run_dir / "internal" / "partnerships.csv"),
                   "--row", "geo_level", "--col", "phase_group", "--instrument",
                   str(instrument), "--json")
    assert json.loads(explicit.output)["row_levels"] == out["row_levels"]


def test_proportion_misspelt_level__is_an_error_naming_the_answers_not_a_zero_share():
    result = run("proportion", CLUS2, "--var", "sch.wide", "--level", "Yess", "--ci", "logit",
                 "--json")
    assert result.exit_code == 2, result.output
    error = json.loads(result.output)["error"]
    assert error["code"] == "STAT_011"
    assert "'Yes'" in error["message"] and "'No'" in error["message"], error


def test_proportion_level_of_the_instrument_nobody_chose__is_a_share_of_zero(tmp_path):
    from conftest import make_project, row

    make_project(tmp_path, [row()])
    data = tmp_path / "d.csv"
    data.write_text("pid,stage\nP1,first\nP2,second\nP3,first\n", encoding="utf-8")
    def share(level: str):
        return run("proportion", str(data), "--var", "stage", "--level", level, "--ci",
                   "wilson", "--instrument", str(tmp_path / "instrument"), "--json")

    assert json.loads(share("unsure").output)["estimate"] == 0
    # The file holds choice names: a code is not one of its levels (it would count 0).
    assert json.loads(share("1").output)["error"]["code"] == "STAT_011"
