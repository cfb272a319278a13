"""The trends summary leads with what changed: a three-line brief, a chart for every
significant change with the sentence that explains it, the other key measures grouped, and
charts whose legends say what each line is. Tiny trends built inline; the wording is the
shipped wording file."""

from __future__ import annotations

import csv
import tomllib

import pandas as pd
import pytest

from conftest import PROJECT
from pipeline.report.trend_content import TrendsBundle, brief_lines, story

WORDING = tomllib.loads((PROJECT / "reports" / "trends" / "wording.toml")
                        .read_text(encoding="utf-8"))
INSTRUMENTS = PROJECT / "survey_instrument" / "pulse_check"


def _row(measure, wave, phase, n, base, series=1, family="Characteristics"):
    pct = 100 * n / base
    return {"measure": measure, "label": f"Label of {measure}", "family": family,
            "wave": wave, "phase": phase, "n": float(n), "base_n": base, "pct": pct,
            "ci_low": pct - 5, "ci_high": pct + 5, "ci_method": "wilson", "series": str(series),
            "comparability": "identical", "caveat": None, "question": "q", "choices": "c",
            "suppressed": False}


def _change(measure, phase, first, second, pct_from, pct_to, significant,
            family="Characteristics"):
    return {"measure": measure, "label": f"Label of {measure}", "family": family,
            "phase": phase, "from_wave": first, "to_wave": second, "pct_from": pct_from,
            "pct_to": pct_to, "difference": pct_to - pct_from, "test": "chi2",
            "statistic": 1.0, "p_value": 0.01, "q_value": 0.02, "adjust": "bh",
            "significant": significant, "comparability": "identical", "caveat": None}


@pytest.fixture
def bundle() -> TrendsBundle:
    rows = []
    # key_up: a key measure that rose overall; plan: not a key measure, rose in Earlier only;
    # barrier: not a key measure, fell overall; steady: a key measure with no change;
    # changed_q: a key measure whose question changed after 2014 (two series, no test).
    for wave, counts in (("2014", (20, 50, 40, 60, 30)), ("2016", (40, 50, 20, 61, 35)),
                         ("2018", (60, 70, 19, 62, 36))):
        for measure, n in zip(("key_up", "plan", "barrier", "steady", "changed_q"), counts,
                              strict=True):
            family = "Barriers" if measure == "barrier" else "Characteristics"
            series = 2 if measure == "changed_q" and wave != "2014" else 1
            rows.append(_row(measure, wave, "All", n, 100, series, family))
            for phase, share in (("Earlier", 0.4), ("Middle", 0.3)):
                rows.append(_row(measure, wave, phase, max(int(n * share), 5), 40, series,
                                 family))
    changes = [
        _change("key_up", "All", "2014", "2016", 20, 40, True),
        _change("key_up", "All", "2016", "2018", 40, 60, True),
        _change("plan", "All", "2016", "2018", 50, 70, False),
        _change("plan", "Earlier", "2016", "2018", 50, 75, True),
        _change("barrier", "All", "2014", "2016", 40, 20, True, "Barriers"),
        _change("steady", "All", "2014", "2016", 60, 61, False),
        _change("changed_q", "All", "2016", "2018", 35, 36, False),
    ]
    empty = pd.DataFrame()
    return TrendsBundle(manifest={}, trends=pd.DataFrame(rows),
                        changes=pd.DataFrame(changes), trend_tests=empty, caveats=empty,
                        transitions=empty, movers=empty)


KEY = ["key_up", "steady", "changed_q"]


def test_story__every_significant_change_has_a_chart_that_explains_it(bundle):
    told = story(bundle, KEY, WORDING, 5)
    significant = bundle.changes[bundle.changes["significant"]]
    for row in significant.itertuples(index=False):
        charts = [i["chart"] for i in told["changed"] if i["measure"] == row.measure]
        assert len(charts) == 1 and charts[0] is not None, row.measure
        assert row.phase in charts[0]["phases"], (row.measure, row.phase)
        said = " ".join(charts[0]["explanation"])
        assert f"from {row.pct_from:.0f}% in {row.from_wave} to {row.pct_to:.0f}%" in said


def test_story__leads_with_changes_then_groups_the_rest_by_family(bundle):
    told = story(bundle, KEY, WORDING, 5)
    assert [i["measure"] for i in told["changed"]] == ["plan", "key_up", "barrier"]  # largest first
    assert [(g["family"], [i["measure"] for i in g["items"]]) for g in told["groups"]] == \
        [("Characteristics", ["steady", "changed_q"])]


def test_story__no_chart_is_without_its_explanation(bundle):
    told = story(bundle, KEY, WORDING, 5)
    items = [*told["changed"], *[i for g in told["groups"] for i in g["items"]]]
    charts = [i["chart"] for i in items if i["chart"] is not None]
    assert len(charts) == 5
    for chart in charts:
        assert chart["explanation"] and all(t.strip() for t in chart["explanation"])


def test_trend_chart__legend_names_lines_in_plain_words(bundle):
    told = story(bundle, KEY, WORDING, 5)
    chart = {i["measure"]: i["chart"] for g in told["groups"] for i in g["items"]}["changed_q"]
    names = [name for name, _, _ in chart["lines"]]
    assert names == ["All partnerships, as asked in 2014",
                     "All partnerships, as asked in 2016–2018"]
    plan = {i["measure"]: i["chart"] for i in told["changed"]}["plan"]
    assert [name for name, _, _ in plan["lines"]] == ["All partnerships", "Earlier phase"]
    assert not any("series" in name.lower() for c in (chart, plan) for name, _, _ in c["lines"])


def test_brief__three_lines_rises_then_falls_then_the_rest(bundle):
    lines = brief_lines(story(bundle, KEY, WORDING, 5)["sentences"], WORDING)
    assert len(lines) == 3
    assert lines[0] == ("Rose significantly: Label of key_up 20% → 40% (2014 to 2016), "
                        "40% → 60% (2016 to 2018); Label of plan in the Earlier phase 50% → 75% "
                        "(2016 to 2018).")
    assert lines[1] == "Fell significantly: Label of barrier 40% → 20% (2014 to 2016)."
    assert "chance" in lines[2]


def test_brief__says_so_when_nothing_changed(bundle):
    quiet = bundle.changes.assign(significant=False)
    calm = TrendsBundle(**{**bundle.__dict__, "changes": quiet})
    lines = story(calm, KEY, WORDING, 5)["brief"]
    assert lines[:2] == ["No measure rose significantly.", "No measure fell significantly."]


def _questions(version: str) -> dict[str, str]:
    with open(INSTRUMENTS / version / "survey.csv", encoding="utf-8") as handle:
        return {row["name"]: row["type"] for row in csv.DictReader(handle) if row["name"]}


def _choices(version: str) -> set[tuple[str, str]]:
    with open(INSTRUMENTS / version / "choices.csv", encoding="utf-8") as handle:
        return {(row["list_name"], row["name"]) for row in csv.DictReader(handle)}


def test_crosswalk__a_measure_asked_unchanged_in_2018_is_carried_to_2018():
    """A 2016 measure whose question, choice list and choice 2018 still asks has a 2016–2018
    row, so its trend chart has a 2018 point."""
    with open(INSTRUMENTS / "crosswalks" / "2014__2016.csv", encoding="utf-8") as handle:
        earlier = list(csv.DictReader(handle))
    with open(INSTRUMENTS / "crosswalks" / "2016__2018.csv", encoding="utf-8") as handle:
        carried = {row["measure"] for row in csv.DictReader(handle)}
    q2016, q2018 = _questions("2016"), _questions("2018")
    c2018 = _choices("2018")
    missing = []
    for row in earlier:
        question, choice = row["to_question"], row["to_choice"]
        kind = q2016.get(question, "")
        listed = kind.split()[-1] if len(kind.split()) == 2 else ""
        if q2018.get(question) == kind and (listed, choice) in c2018 \
                and row["measure"] not in carried:
            missing.append(row["measure"])
    assert sorted(set(missing)) == []
