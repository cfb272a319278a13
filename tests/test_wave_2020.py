"""The 2020 wave: a new questionnaire module (integrative activities, backbone, conditions of
collective impact) added as data alone, its synthetic sample, and what its reports show.

The planted relationships of the sample profile (A-WAVE-25) are checked twice: by the run's
own tests of association with phase, and by recomputing the "distributed or single backbone"
measure here from the analysed answers with plain Python (sharing no code with the pipeline's
derived variables)."""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from scipy import stats as sps

from conftest import PROJECT
from pipeline.cli.main import cli
from test_report_outputs import _numbers, _parse, _traceable_numbers

WAVE = PROJECT / "raw" / "pulse_check" / "2020"
INSTRUMENT = PROJECT / "survey_instrument" / "pulse_check" / "2020"
ACTIVITIES = ("convening", "planning", "governance", "implementing", "innovation", "financing",
              "policy", "evaluation")
PHASES = ("Earlier", "Middle", "Later")
JOINTLY = {"shared_partners", "network_partnership"}
NAMED = JOINTLY | {"single_backbone"}


@pytest.fixture(scope="module")
def run_2020(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wave2020") / "run"
    result = CliRunner().invoke(cli, ["run", str(WAVE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _tests(run: Path) -> pd.DataFrame:
    return pd.read_csv(run / "internal" / "tables" / "tests.csv")


def _rates(run: Path, table_id: str) -> pd.DataFrame:
    table = pd.read_csv(run / "internal" / "tables" / f"{table_id}.csv")
    body = table[table["row_type"].isin(["item", "level"])]
    return body.pivot_table(index="row_level", columns="col_level", values="pct", sort=False)


@pytest.mark.slow
def test_sample_command__regenerates_the_committed_2020_export_byte_for_byte(tmp_path):
    result = CliRunner().invoke(cli, ["sample", str(INSTRUMENT), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    name = "pulse_check_2020_qualtrics.csv"
    assert (tmp_path / name).read_bytes() == (WAVE / name).read_bytes()


@pytest.mark.slow
def test_2020_planted_by_phase__later_phases_carry_out_and_fund_more_activities_jointly(
        run_2020):
    for table_id in ("activity_distributed", "activity_dedicated"):
        rates = _rates(run_2020, table_id)
        assert len(rates) == len(ACTIVITIES)
        for item, row in rates.iterrows():
            assert row["Earlier"] < row["Middle"] < row["Later"], (table_id, item)
    tests = _tests(run_2020)
    mostly = tests[(tests["table_id"] == "distribution") & (tests["test"] == "trend")]
    assert (mostly["p_value"].min()) < 1e-6
    whole = tests[(tests["table_id"] == "distribution") & tests["row_level"].isna()]
    assert whole["p_value"].iloc[0] < 1e-6


@pytest.mark.slow
def test_2020_not_planted_by_phase__carried_out_conditions_and_responsibilities_show_nothing(
        run_2020):
    tests = _tests(run_2020)
    flat = tests[tests["table_id"].isin(["activity_done", "condition_in_place",
                                         "backbone_responsibilities"])]
    assert len(flat) == 8 + 5 + 7
    assert flat["p_value"].min() > 0.5
    findings = pd.read_csv(run_2020 / "internal" / "findings.csv")
    module = findings[findings["table_id"].isin(
        ["activity_done", "activity_distributed", "activity_dedicated", "distribution",
         "condition_in_place", "backbone_responsibilities"])]
    chosen = module[module["distinctive"].astype(str).str.lower() == "true"]
    # Only the planted relationship is called phase-distinctive: jointly carried out and
    # funded activities for the Later phase, and "mostly a single backbone" for the Earlier.
    single = "Mostly a single backbone (a third or less jointly)"
    assert {("Later", "activity_distributed"), ("Earlier", "distribution")} <= \
        set(zip(chosen["phase"], chosen["table_id"], strict=True))
    for finding in chosen.itertuples():
        if finding.phase == "Later":
            assert finding.table_id in ("activity_distributed", "activity_dedicated",
                                        "distribution") and finding.item != single
        else:
            assert (finding.phase, finding.table_id, finding.item) == \
                ("Earlier", "distribution", single)


@pytest.mark.slow
def test_2020_distributed_or_single_backbone__recomputed_by_hand_matches_the_table(run_2020):
    answers = pd.read_csv(run_2020 / "internal" / "partnerships.csv", dtype=str,
                          keep_default_na=False)
    counts: Counter = Counter()
    for _, partnership in answers.iterrows():
        who = [partnership[f"ia_{a}_who"] for a in ACTIVITIES]
        named = sum(1 for w in who if w in NAMED)
        if not named:
            continue
        share = sum(1 for w in who if w in JOINTLY) / named
        band = "single" if share <= 1 / 3 else ("distributed" if share >= 2 / 3 else "mixed")
        counts[(partnership["phase_group"], band)] += 1
        counts[("All", band)] += 1
    table = pd.read_csv(run_2020 / "internal" / "tables" / "distribution.csv")
    table = table[table["row_type"] == "level"]
    names = {"Mostly a single backbone (a third or less jointly)": "single", "Mixed": "mixed",
             "Mostly distributed (two thirds or more jointly)": "distributed"}
    for row in table.itertuples():
        assert row.n == counts[(row.col_level, names[row.row_level])], row
    # The association with phase, by scipy on the hand counts.
    grid = [[counts[(p, b)] for p in PHASES] for b in ("single", "mixed", "distributed")]
    assert sps.chi2_contingency(grid, correction=False).pvalue < 1e-6


@pytest.mark.slow
def test_2020_funder_summary__has_the_module_sections_and_every_number_traces(run_2020):
    page = _parse(run_2020 / "published" / "funder_summary.html")
    text = " ".join(page.text)
    for heading in ("Integrative activities: who carries them out and how they are paid for",
                    "Backbone responsibilities and the conditions of collective impact"):
        assert heading in text
    assert any(i.get("alt", "").startswith("Dot plot of the share of partnerships whose "
                                           "integrative activities") for i in page.images)
    allowed = _traceable_numbers(run_2020)
    # Years in the quoted wording (the caveat about this questionnaire, the note on which
    # wave's report the recommendations come from) are words, not results.
    wording = tomllib.loads((PROJECT / "reports" / "funder" / "wording.toml")
                            .read_text(encoding="utf-8"))
    recommendations = tomllib.loads((PROJECT / "reports" / "funder" / "recommendations.toml")
                                    .read_text(encoding="utf-8"))
    allowed |= {n for caveat in wording["caveats"] if "2020" in caveat.get("instruments", [])
                for n in _numbers(caveat["text"])}
    allowed.add(str(recommendations["report_year"]))
    untraced = sorted({n for n in _numbers(text) if n not in allowed})
    assert not untraced, f"HTML numbers not in any table: {untraced}"
    pages = PdfReader(run_2020 / "published" / "funder_summary.pdf").pages
    # The 2016 report's parts, the profile with its map, and the two module sections.
    assert 3 <= len(pages) <= 8
    pdf = "\n".join(p.extract_text() for p in pages)
    end = pdf.find("Appendix: provenance of this run")
    assert end > 0
    pdf = re.sub(r"Page \d+ of \d+", "", pdf[:end])
    assert "Integrative activities" in pdf
    untraced = sorted({n for n in _numbers(pdf) if n not in allowed})
    assert not untraced, f"PDF numbers not in any table: {untraced}"


@pytest.mark.slow
def test_2020_analyst_notebook__shows_the_module_sections_and_tables(run_2020):
    html = (run_2020 / "internal" / "analyst.html").read_text(encoding="utf-8")
    for text in ("Check-all questions by phase", "Integrative activities carried out jointly",
                 "Conditions of collective impact in place (self-rating)"):
        assert text in html, text


@pytest.mark.slow
def test_2020_run__verify_rebuilds_it_byte_for_byte(run_2020):
    result = CliRunner().invoke(cli, ["verify", str(run_2020)])
    assert result.exit_code == 0, result.output
