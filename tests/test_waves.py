"""Instrument versions across waves: diff, crosswalks, trends and partnership histories."""

from __future__ import annotations

import csv
import io
import json
import textwrap
import tomllib

import pandas as pd
import pytest
from scipy import stats as sps

from conftest import PROJECT
from pipeline.ingest.readers import read_instrument
from pipeline.model.crosswalk import build_crosswalk
from pipeline.model.instrument import build_instrument, check_instrument
from pipeline.model.instrument_diff import diff_instruments, format_diff
from pipeline.multiwave.histories import WavePartnerships, link_partnerships, phase_transitions
from pipeline.multiwave.trends import WaveData, chain_measures, compute_trends
from pipeline.stages.classify import classify_phase

VERSIONS = PROJECT / "survey_instrument" / "pulse_check"

SURVEY_A = """\
type,name,label,required
text,pid,Partnership id,yes
select_one rely,reliance,Share of funding from grants?,yes
select_multiple bar,barriers,Barriers to progress?,yes
"""
CHOICES_A = """\
list_name,name,label,code
rely,low,Less than half,1
rely,high,More than half,2
bar,money,Lack of money,1
bar,data,Data sharing,2
"""
MANIFEST = """\
id = "t"
version = "{v}"
year = {v}
languages = ["en"]
[keys]
respondent = "pid"
[phase]
order = []
unclassified_group = "no phase asked"
"""


def _instrument(survey: str, choices: str, version: str):
    def read(text: str) -> pd.DataFrame:
        return pd.read_csv(io.StringIO(textwrap.dedent(text)), dtype=str,
                           keep_default_na=False)
    tables = {"survey": read(survey), "choices": read(choices),
              "manifest": tomllib.loads(MANIFEST.format(v=version))}
    assert check_instrument(tables).empty
    return build_instrument(tables)


def _xwalk(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["measure", "label", "family", "from_question",
                                       "from_choice", "to_question", "to_choice",
                                       "comparability", "caveat"])


OLD = _instrument(SURVEY_A, CHOICES_A, "2016")
# 2018: the reliance scale gains a middle option; the barrier question is reworded.
NEW = _instrument(SURVEY_A.replace("Barriers to progress?", "Barriers in the past two years?"),
                  CHOICES_A.replace("rely,high,More than half,2",
                                    "rely,half,About half,3\nrely,high,More than half,2"),
                  "2018")


def test_crosswalk__scale_change_without_caveat__is_refused():
    table = _xwalk([("reliant", "Reliant", "F", "reliance", "high", "reliance", "high",
                     "identical", "")])
    crosswalk, problems = build_crosswalk(table, OLD, NEW)
    assert problems["code"].tolist() == ["XWALK_004"]
    assert crosswalk.links == ()


def test_crosswalk__scale_change_with_caveat__is_accepted():
    table = _xwalk([("reliant", "Reliant", "F", "reliance", "high", "reliance", "high",
                     "comparable_with_caveat", "A middle option was added in 2018.")])
    crosswalk, problems = build_crosswalk(table, OLD, NEW)
    assert problems.empty
    assert crosswalk.get("reliant").new.choices == ("high",)


def test_crosswalk__caveat_flag_without_caveat_text__is_refused():
    table = _xwalk([("reliant", "Reliant", "F", "reliance", "high", "reliance", "high",
                     "comparable_with_caveat", "")])
    assert build_crosswalk(table, OLD, NEW)[1]["code"].tolist() == ["XWALK_006"]


def test_crosswalk__reworded_question_marked_identical__is_refused():
    table = _xwalk([("money", "Money", "B", "barriers", "money", "barriers", "money",
                     "identical", "")])
    assert build_crosswalk(table, OLD, NEW)[1]["code"].tolist() == ["XWALK_005"]


def test_crosswalk__unknown_choice__is_reported_with_its_version():
    table = _xwalk([("money", "Money", "B", "barriers", "cash", "barriers", "money",
                     "not_comparable", "Different list.")])
    problems = build_crosswalk(table, OLD, NEW)[1]
    assert problems["code"].tolist() == ["XWALK_002"]
    assert "barriers/cash" in problems["message"].iloc[0] and "2016" in problems["message"].iloc[0]


def test_committed_crosswalks__pass_their_own_checks():
    versions = {v: read_instrument(VERSIONS / v) for v in ("2014", "2016", "2018", "2020")}
    for old, new in (("2014", "2016"), ("2016", "2018"), ("2018", "2020")):
        table = pd.read_csv(VERSIONS / "crosswalks" / f"{old}__{new}.csv", dtype=str,
                            keep_default_na=False)
        assert build_crosswalk(table, versions[old], versions[new])[1].empty


def test_instrument_diff__same_version__reports_no_changes():
    result = diff_instruments(OLD, OLD)
    assert result.identical
    assert "no changes" in format_diff(result)


def test_instrument_diff__2016_to_2018__lists_every_recorded_change():
    result = diff_instruments(read_instrument(VERSIONS / "2016"),
                              read_instrument(VERSIONS / "2018"))
    found = {(c.kind, c.question or c.list_name, c.choice) for c in result.changes}
    # Every change of survey_instrument/pulse_check/2018/CHANGELOG.md, written out by hand.
    expected = {
        ("question_added", "equity_focus", ""),
        ("question_removed", "respondent_phone", ""),
        ("question_renamed", "sector_payers", ""),
        ("question_reworded", "sector_payers", ""),
        ("question_reworded", "barriers", ""),
        ("question_reworded", "grant_reliance", ""),
        ("question_list_changed", "grant_reliance", ""),
        ("question_type_changed", "paid_staff_fte", ""),
        ("question_property_changed", "paid_staff_fte", ""),
        ("question_property_changed", "year_formed", ""),
        ("scale_changed", "grant_reliance", ""),
        ("scale_changed", "paid_staff_fte", ""),
        ("list_added", "grant_share", ""),
        ("list_added", "fte_band", ""),
        ("list_removed", "grant_reliance", ""),
        ("choice_split", "barrier", "financing"),
        ("choice_relabelled", "barrier", "measuring_progress"),
        ("choice_added", "momentum", "cross_sector_data"),
    }
    assert found == expected


ACTIVITIES = ("convening", "planning", "governance", "implementing", "innovation", "financing",
              "policy", "evaluation")
CONDITIONS = ("common_agenda", "shared_measurement", "reinforcing_activities", "communication",
              "backbone_support")


def test_instrument_diff__2018_to_2020__lists_the_three_modules_and_nothing_else():
    result = diff_instruments(read_instrument(VERSIONS / "2018"),
                              read_instrument(VERSIONS / "2020"))
    found = {(c.kind, c.question or c.list_name, c.choice) for c in result.changes}
    # Every change of survey_instrument/pulse_check/2020/CHANGELOG.md, written out by hand.
    expected = {("question_added", f"ia_{a}_{part}", "") for a in ACTIVITIES
                for part in ("done", "who", "paid")}
    expected |= {("question_added", f"condition_{c}", "") for c in CONDITIONS}
    expected |= {("question_added", "backbone_setup", ""),
                 ("question_added", "backbone_responsibilities", ""),
                 ("question_property_changed", "year_formed", ""),
                 ("question_property_changed", "partnership_id", "")}
    expected |= {("list_added", name, "") for name in (
        "carried_out", "activity_who", "activity_funding", "backbone_setup",
        "backbone_responsibility", "condition_status")}
    assert found == expected


def test_crosswalk_2018_2020__carries_every_2018_measure_over_as_identical():
    table = pd.read_csv(VERSIONS / "crosswalks" / "2018__2020.csv", dtype=str,
                        keep_default_na=False)
    earlier = pd.read_csv(VERSIONS / "crosswalks" / "2016__2018.csv", dtype=str,
                          keep_default_na=False)
    assert set(earlier["measure"]) <= set(table["measure"])
    assert set(table["comparability"]) == {"identical"}
    assert {"equity_focus", "momentum_cross_sector_data"} <= set(table["measure"])


def test_instrument_2014__has_no_phase__every_partnership_in_the_no_phase_group():
    instrument = read_instrument(VERSIONS / "2014")
    assert instrument.phase_question == "" and instrument.phase_order == ()
    frame = pd.DataFrame({"partnership_id": ["P0101", "P0102"]})
    result = classify_phase(frame, instrument)
    assert result.phase.astype(str).tolist() == ["no phase asked", "no phase asked"]
    assert result.issues.empty


def _wave(wave, rows, order=("Earlier", "Later")):
    frame = pd.DataFrame(rows, columns=["id", "name", "location", "phase"])
    return WavePartnerships(wave=wave, frame=frame, phase_order=order)


def test_histories__recurring_partnerships_are_linked_and_look_alikes_sent_to_review():
    first = _wave("2016", [
        ("P1", "Alder Valley Health Partnership", ("CA",), "Earlier"),
        ("P2", "Bramble County Coalition", ("TX",), "Earlier"),
        ("P3", "Cedar Hollow Wellness Network", ("NY",), "Later"),
        ("P4", "Dunmore Bay Health Council", ("OH",), "Earlier"),
    ])
    second = _wave("2018", [
        ("P1", "Alder Valley Health Partnership", ("CA",), "Later"),      # stable id
        ("Q7", "Bramble County Coalition", ("TX",), "Earlier"),           # new id, same name
        ("Q8", "Greater Cedar Hollow Wellness Network", ("NY",), "Later"),  # look-alike
        ("Q9", "Dunmore Bay Health Council", ("WA",), "Earlier"),         # other state
    ])
    result = link_partnerships([first, second], similarity=0.7)
    assert list(result.links[["id_from", "id_to", "method"]].itertuples(index=False,
                                                                         name=None)) \
        == [("P1", "P1", "stable_id")]
    review = {(r.id_from, r.id_to, r.match) for r in result.review.itertuples()}
    assert review == {("P2", "Q7", "same_name_and_location"),
                      ("P3", "Q8", "similar_name_same_location")}


def test_histories__a_partnership_that_skipped_a_wave__is_linked_to_its_next_answer():
    waves = [
        _wave("2014", [("P1", "a", ("CA",), "Earlier"), ("P2", "b", ("CA",), "Earlier"),
                       ("P3", "c", ("CA",), "Earlier")]),
        _wave("2016", [("P2", "b", ("CA",), "Middle")]),
        _wave("2018", [("P1", "a", ("CA",), "Later"), ("P2", "b", ("CA",), "Later"),
                       ("P3", "c", ("CA",), "Middle")]),
        _wave("2020", [("P3", "c", ("CA",), "Later")]),
    ]
    links = link_partnerships(waves).links
    pairs = {(r.wave_from, r.id_from, r.wave_to, r.id_to, r.method)
             for r in links.itertuples(index=False)}
    assert pairs == {
        ("2014", "P2", "2016", "P2", "stable_id"), ("2016", "P2", "2018", "P2", "stable_id"),
        # P1 and P3 skipped 2016: linked from 2014 to their next answer only.
        ("2014", "P1", "2018", "P1", "stable_id"), ("2014", "P3", "2018", "P3", "stable_id"),
        ("2018", "P3", "2020", "P3", "stable_id")}
    table = phase_transitions(waves, links)
    gap = table[table["from_wave"].eq("2014") & table["to_wave"].eq("2018")]
    counts = {(r.from_phase, r.to_phase): r.count for r in gap.itertuples() if r.count}
    assert counts == {("Earlier", "Later"): 1, ("Earlier", "Middle"): 1}


def test_histories__research_staff_decisions__confirm_or_drop_candidates():
    first = _wave("2016", [("P2", "Bramble County Coalition", ("TX",), "Earlier"),
                           ("P3", "Cedar Hollow Wellness Network", ("NY",), "Later")])
    second = _wave("2018", [("Q7", "Bramble County Coalition", ("TX",), "Later"),
                            ("Q8", "Greater Cedar Hollow Wellness Network", ("NY",), "Later")])
    decisions = pd.DataFrame([("2016", "P2", "2018", "Q7", "same"),
                              ("2016", "P3", "2018", "Q8", "different")],
                             columns=["wave_from", "id_from", "wave_to", "id_to", "decision"])
    result = link_partnerships([first, second], decisions, similarity=0.7)
    assert result.links["method"].tolist() == ["confirmed"]
    assert result.review.empty


def test_histories__staff_same_decision__links_answers_that_share_no_location():
    # The partnership moved its work from one state to another and changed its ID.
    phases = ("Earlier", "Middle", "Later")
    first = _wave("2016", [("P2", "Bramble County Coalition", ("TX",), "Earlier")], phases)
    second = _wave("2018", [("Q7", "Bramble Regional Coalition", ("OK",), "Middle")], phases)
    decisions = pd.DataFrame([("2016", "P2", "2018", "Q7", "same")],
                             columns=["wave_from", "id_from", "wave_to", "id_to", "decision"])
    result = link_partnerships([first, second], decisions, similarity=0.7)
    assert list(result.links.itertuples(index=False, name=None)) == [
        ("2016", "P2", "2018", "Q7", "confirmed")]
    transitions = phase_transitions([first, second], result.links)
    assert transitions.loc[transitions["count"].gt(0), ["from_phase", "to_phase"]] \
        .values.tolist() == [["Earlier", "Middle"]]


def test_phase_transitions__count_linked_partnerships_by_phase_pair():
    first = _wave("2016", [("P1", "a", ("CA",), "Earlier"), ("P2", "b", ("CA",), "Earlier"),
                           ("P3", "c", ("CA",), "Later")])
    second = _wave("2018", [("P1", "a", ("CA",), "Later"), ("P2", "b", ("CA",), "Earlier"),
                            ("P3", "c", ("CA",), "Later")])
    links = link_partnerships([first, second]).links
    table = phase_transitions([first, second], links)
    counts = {(r.from_phase, r.to_phase): r.count for r in table.itertuples()}
    assert counts == {("Earlier", "Earlier"): 1, ("Earlier", "Later"): 1,
                      ("Later", "Earlier"): 0, ("Later", "Later"): 1}


def _answers(instrument, reliance):
    return pd.DataFrame({"pid": [f"P{i}" for i in range(len(reliance))],
                         "reliance": reliance})


def test_trends__comparable_measure__percentages_and_chisq_match_an_independent_calculation():
    xw = _xwalk([("reliant", "Reliant", "F", "reliance", "high", "reliance", "high",
                  "comparable_with_caveat", "Scale changed.")])
    crosswalk = build_crosswalk(xw, OLD, NEW)[0]
    chains = chain_measures([crosswalk])[0]
    a = _answers(OLD, ["high"] * 12 + ["low"] * 18)            # 12/30
    b = _answers(NEW, ["high"] * 24 + ["half"] * 6 + ["low"] * 10)  # 24/40
    waves = [WaveData("2016", OLD, a, pd.Series(["x"] * 30)),
             WaveData("2018", NEW, b, pd.Series(["x"] * 40))]
    result = compute_trends(waves, chains)
    assert result.table["wave"].tolist() == ["2016", "2018"]
    assert result.table["pct"].tolist() == pytest.approx([40.0, 60.0])
    oracle = sps.chi2_contingency([[12, 18], [24, 16]], correction=False)
    change = result.changes.iloc[0]
    assert change["p_value"] == pytest.approx(oracle.pvalue, rel=1e-9)
    assert change["caveat"] == "Scale changed."
    assert result.caveats["caveat"].tolist() == ["Scale changed."]


def test_trends__not_comparable_measure__is_never_tested_across_waves():
    xw = _xwalk([("reliant", "Reliant", "F", "reliance", "high", "reliance", "high",
                  "not_comparable", "Different scale.")])
    chains = chain_measures([build_crosswalk(xw, OLD, NEW)[0]])[0]
    waves = [WaveData("2016", OLD, _answers(OLD, ["high", "low"] * 10), pd.Series(["x"] * 20)),
             WaveData("2018", NEW, _answers(NEW, ["high"] * 20), pd.Series(["x"] * 20))]
    result = compute_trends(waves, chains)
    assert result.table["series"].tolist() == [1, 2]
    assert result.changes.empty


@pytest.mark.slow
def test_run_waves__committed_sample__trends_over_four_waves_transitions_and_caveats(
        tmp_path, monkeypatch):
    import pipeline.run.analyse
    from pipeline.run.waves import run_waves

    # The per-wave run folders are tested elsewhere; here only the trends folder matters.
    def write_marker(folder, *args, **kwargs):
        (folder / "run.json").write_text("{}", encoding="utf-8")
    monkeypatch.setattr(pipeline.run.analyse, "write_outputs", write_marker)
    summary = run_waves(PROJECT / "raw" / "pulse_check", tmp_path)
    out = tmp_path / "pulse_check-trends"
    assert summary.counts == {"2014": 133, "2016": 237, "2018": 205, "2020": 205}
    barrier = pd.read_csv(out / "internal" / "trends" / "barrier_measuring_progress.csv",
                          dtype={"wave": str})
    assert sorted(barrier.loc[barrier["phase"] == "All", "wave"]) == ["2014", "2016", "2018",
                                                                      "2020"]
    transitions = pd.read_csv(out / "internal" / "transitions.csv")
    assert set(transitions["from_phase"]) >= {"Earlier", "Middle", "Later"}
    # 120 of the 2016 sample recur in 2018, 4 of them without their ID (sample profile).
    assert transitions["count"].sum() == 116
    caveats = pd.read_csv(out / "internal" / "caveats.csv", keep_default_na=False)
    reworded = caveats[caveats["measure"].eq("barrier_measuring_progress")
                       & caveats["to_wave"].astype(str).eq("2018")]
    assert "past two years" in reworded["caveat"].iloc[0]
    review = pd.read_csv(out / "internal" / "histories_review.csv")
    # 3 + 4 recurring without a stable id and 1 + 2 look-alikes (sample profiles).
    assert len(review) == 10
    assert review["name_to"].str.startswith("Greater").sum() + \
        review["name_from"].str.startswith("Greater").sum() == 3
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert manifest["links"] == {"stable_id": 67 + 116, "confirmed": 0, "review": 10}
    # The three changes planted in the 2018 profile (A-WAVE-18) and the two planted in the 2020
    # profile (A-WAVE-26), about 20-25 points each, are found after adjusting for every test
    # of change; nothing else is.
    changes = pd.read_csv(out / "internal" / "trend_changes.csv",
                          dtype={"from_wave": str, "to_wave": str})
    found = changes[changes["significant"]]
    planted = {"2018": {"financial_plan", "backbone_dedicated", "barrier_data_sharing"},
               "2020": {"equity_focus", "momentum_cross_sector_data"}}
    assert {wave: set(found.loc[found["to_wave"].eq(wave), "measure"])
            for wave in set(found["to_wave"])} == planted
    overall = found[found["phase"].eq("All")].set_index(["to_wave", "measure"])["difference"]
    assert overall[("2018", "financial_plan")] > 15
    assert overall[("2018", "backbone_dedicated")] > 15
    assert overall[("2018", "barrier_data_sharing")] < -15
    assert overall[("2020", "equity_focus")] > 15
    assert overall[("2020", "momentum_cross_sector_data")] > 15


@pytest.mark.slow
def test_run_waves__formula_like_partnership_name__is_inert_in_the_trend_csvs(
        tmp_path, monkeypatch):
    import dataclasses

    import pipeline.multiwave.histories
    import pipeline.report.html
    import pipeline.run.analyse
    from pipeline.run.waves import run_waves

    hostile = '=HYPERLINK("http://example.com/x","click")'
    original = pipeline.multiwave.histories.link_partnerships

    def link_with_hostile_name(*args, **kwargs):
        # A partnership that typed a formula as its name, as a look-alike pair for review.
        found = original(*args, **kwargs)
        review = found.review.copy()
        review.loc[review.index[0], "name_from"] = hostile
        return dataclasses.replace(found, review=review)

    def write_marker(folder, *args, **kwargs):
        (folder / "run.json").write_text("{}", encoding="utf-8")
    monkeypatch.setattr(pipeline.multiwave.histories, "link_partnerships", link_with_hostile_name)
    monkeypatch.setattr(pipeline.run.analyse, "write_outputs", write_marker)
    monkeypatch.setattr(pipeline.report.html, "write_trend_reports", lambda *a, **k: None)
    run_waves(PROJECT / "raw" / "pulse_check", tmp_path)
    out = tmp_path / "pulse_check-trends"
    review = pd.read_csv(out / "internal" / "histories_review.csv", dtype=str,
                         keep_default_na=False)
    assert "'" + hostile in set(review["name_from"])
    for path in sorted(out.rglob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            cells = [cell for line in csv.reader(handle) for cell in line]
        assert not [c for c in cells if c.startswith("=")], path.name
