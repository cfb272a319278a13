"""Report specification checks, derived variables, criteria placement and agreement."""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pandas as pd
import pytest

from conftest import canonical, row, tiny_instrument
from pipeline.model.report_spec import build_spec, check_spec
from pipeline.stages.classify import classify_by_criteria, phase_agreement
from pipeline.stages.derive import derive_variables, multi_items, single_levels
from pipeline.stages.validate import ValidationConfig, validate_responses

SPEC = """
[settings]
phase_basis = "self"
ci_method = "wilson"
level = 0.95
disclosure_threshold = 5
test = "chisq"
trend = true
pairwise = "holm"
pairwise_alpha = 0.05

[derived.period]
kind = "bands"
source = "year"
bands = [{ label = "Old", max = 2009 }, { label = "New", min = 2010 }]

[derived.n_barriers]
kind = "count_selected"
source = "barriers"

[derived.many_barriers]
kind = "bands"
source = "n_barriers"
bands = [{ label = "One", max = 1 }, { label = "Two or more", min = 2 }]

[derived.staff_group]
kind = "recode"
source = "screen"
map = { yes = "Multi", no = "Single" }

[derived.age]
kind = "difference"
constant = 2016
source = "year"

[derived.core_answered]
kind = "indicators"
sources = ["screen", "stage"]
values = ["yes", "third"]

[derived.n_hits]
kind = "count_matching"
sources = ["screen", "stage"]
values = ["yes", "third"]

[[tables]]
id = "period"
title = "Period"
kind = "single"
row = "period"

[[tables]]
id = "barriers"
title = "Barriers"
kind = "multi"
row = "barriers"
"""
CRITERIA = """
[[criteria]]
id = "new"
variable = "period"
values = ["New"]

[[criteria]]
id = "staffed"
variable = "staff"
min = 2

[[placement]]
label = "Early"
max = 1

[[placement]]
label = "Late"
min = 2
"""


def spec_from(text: str = SPEC, criteria: str | None = CRITERIA):
    return build_spec(tomllib.loads(text), tomllib.loads(criteria) if criteria else None)


def typed(rows):
    instrument = tiny_instrument()
    exported = canonical(rows, instrument)
    return validate_responses(exported.frame, instrument,
                              ValidationConfig(multiple_separator=" ")).frame


def test_check_spec__sound_spec__reports_nothing():
    assert check_spec(spec_from(), tiny_instrument()).empty


@pytest.mark.parametrize("change, code", [
    (('kind = "bands"\nsource = "year"', 'kind = "bends"\nsource = "year"'), "SPEC_001"),
    (('source = "barriers"', 'source = "barrier"'), "SPEC_002"),
    (('row = "period"', 'row = "periods"'), "SPEC_002"),
    (('kind = "multi"', 'kind = "single"'), "SPEC_003"),
    (('id = "barriers"', 'id = "period"'), "SPEC_004"),
])
def test_check_spec__broken_entry__is_reported_with_its_code(change, code):
    problems = check_spec(spec_from(SPEC.replace(*change)), tiny_instrument())
    assert code in set(problems["code"]), problems["message"].tolist()


def test_check_spec__criteria_placing_an_unknown_phase__is_reported():
    problems = check_spec(spec_from(criteria=CRITERIA.replace('"Late"', '"Latest"')),
                          tiny_instrument())
    assert problems["code"].tolist() == ["SPEC_003"]


def test_derive_variables__each_kind__computes_from_the_answers():
    frame = typed([row(year="2005", barriers="1 2", stage="3"),
                   row(response_id="R2", pid="P2", year="2012", barriers="1", stage="1"),
                   row(response_id="R3", pid="P3", year="", barriers="", stage="")])
    derived = derive_variables(frame, tiny_instrument(), spec_from())
    assert derived["period"].tolist()[:2] == ["Old", "New"]
    assert pd.isna(derived["period"].iloc[2])
    assert derived["n_barriers"].tolist()[:2] == [2, 1] and pd.isna(derived["n_barriers"].iloc[2])
    assert derived["many_barriers"].tolist()[:2] == ["Two or more", "One"]
    assert derived["staff_group"].tolist() == ["Multi", "Multi", "Multi"]
    assert derived["age"].tolist()[:2] == [11, 4]
    assert derived["core_answered/stage"].tolist()[:2] == [1, 0]
    assert pd.isna(derived["core_answered/stage"].iloc[2])
    assert derived["n_hits"].tolist()[:2] == [2, 1] and pd.isna(derived["n_hits"].iloc[2])


def test_derive_variables__input__is_not_modified():
    frame = typed([row()])
    before = frame.copy(deep=True)
    derive_variables(frame, tiny_instrument(), spec_from())
    pd.testing.assert_frame_equal(frame, before)


def test_multi_items_and_single_levels__follow_instrument_and_spec_order():
    instrument, spec = tiny_instrument(), spec_from()
    assert [i.name for i in multi_items("barriers", instrument, spec)] == [
        "money", "data", "other", "none"]
    assert [i.column for i in multi_items("core_answered", instrument, spec)] == [
        "core_answered/screen", "core_answered/stage"]
    assert single_levels("period", instrument, spec) == [("Old", "Old"), ("New", "New")]
    assert single_levels("stage", instrument, spec)[0] == ("first", "First stage")


def test_classify_by_criteria__points_place_phases_and_missing_earns_nothing():
    frame = typed([row(year="2012", staff="3"), row(response_id="R2", pid="P2", year="2012",
                                                     staff="1"),
                   row(response_id="R3", pid="P3", year="", staff="")])
    frame = derive_variables(frame, tiny_instrument(), spec_from())
    placed = classify_by_criteria(frame, spec_from().criteria, tiny_instrument())
    assert placed.points.tolist() == [2, 1, 0]
    assert placed.phase.astype(str).tolist() == ["Late", "Early", "Early"]
    assert placed.explanation.to_dict("list") == {"new": [1, 1, 0], "staffed": [1, 0, 0]}


def test_phase_agreement__textbook_table__matches_hand_calculation():
    # Self "Early" 25 (20 agree), "Late" 25 (15 agree): po = 0.70, pe = 0.50, kappa = 0.40.
    first = pd.Series(["Early"] * 25 + ["Late"] * 25)
    second = pd.Series(["Early"] * 20 + ["Late"] * 5 + ["Early"] * 10 + ["Late"] * 15)
    agreement = phase_agreement(first, second, ("Early", "Late"))
    assert agreement.confusion.values.tolist() == [[20, 5], [10, 15]]
    assert agreement.n == 50
    assert agreement.observed == pytest.approx(0.70) and agreement.expected == pytest.approx(0.5)
    assert agreement.kappa == pytest.approx(0.40)
    # Fleiss, Cohen and Everitt (1969) large-sample standard error, by hand:
    p = np.array([[20, 5], [10, 15]]) / 50
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    po, pe = 0.7, 0.5
    a = sum(p[i, i] * ((1 - pe) - (cols[i] + rows[i]) * (1 - po)) ** 2 for i in range(2))
    b = (1 - po) ** 2 * sum(p[i, j] * (cols[i] + rows[j]) ** 2
                            for i in range(2) for j in range(2) if i != j)
    c = (po * pe - 2 * pe + po) ** 2
    se = math.sqrt((a + b - c) / (50 * (1 - pe) ** 4))
    assert agreement.se == pytest.approx(se, rel=1e-9)
    assert agreement.ci_low == pytest.approx(0.40 - 1.959964 * se, rel=1e-5)


def test_phase_agreement__unclassified_on_either_side__is_left_out():
    first = pd.Series(["Early", "unclassified", "Late", "Late"])
    second = pd.Series(["Early", "Early", "unclassified", "Late"])
    agreement = phase_agreement(first, second, ("Early", "Late"))
    assert agreement.n == 2


def test_phase_agreement__nobody_placed_by_both__gives_undefined_kappa_not_an_error():
    agreement = phase_agreement(pd.Series(["unclassified"]), pd.Series(["Early"]),
                                ("Early", "Late"))
    assert agreement.n == 0 and math.isnan(agreement.kappa)


# --- a grid asked only in part, and shares of counts --------------------------------------------

GRID_SPEC = """
[settings]
phase_basis = "self"
ci_method = "wilson"
level = 0.95
disclosure_threshold = 5
test = "chisq"
trend = true
pairwise = "holm"
pairwise_alpha = 0.05

[derived.n_third]
kind = "count_matching"
sources = ["screen", "stage"]
values = ["yes", "third"]
blank = "{blank}"

[derived.third]
kind = "indicators"
sources = ["stage"]
values = ["third"]
blank = "{blank}"

[derived.n_answered]
kind = "count_matching"
sources = ["screen", "stage"]
values = ["yes", "no", "first", "second", "third"]
blank = "{blank}"

[derived.share_third]
kind = "ratio"
numerator = "n_third"
denominator = "n_answered"

[[tables]]
id = "share_third"
kind = "numeric"
row = "share_third"
"""


def _grid_frame() -> pd.DataFrame:
    # The second question is blank for P2 (skip logic hid it) and for P3 (nothing answered).
    return pd.DataFrame({"screen": ["yes", "no", None, "yes"],
                         "stage": ["third", None, None, "first"]})


def test_derive_variables__blank_zero__counts_a_hidden_answer_as_not_matching():
    spec = build_spec(tomllib.loads(GRID_SPEC.format(blank="zero")))
    derived = derive_variables(_grid_frame(), tiny_instrument(), spec)
    assert derived["n_third"].tolist() == [2, 0, 0, 1]
    assert derived["third/stage"].tolist() == [1, 0, 0, 0]
    assert derived["n_answered"].tolist() == [2, 1, 0, 2]


def test_derive_variables__blank_missing__keeps_the_default_of_a_missing_count():
    spec = build_spec(tomllib.loads(GRID_SPEC.format(blank="missing")))
    derived = derive_variables(_grid_frame(), tiny_instrument(), spec)
    assert derived["n_third"].isna().tolist() == [False, True, True, False]
    assert derived["third/stage"].isna().tolist() == [False, True, True, False]


def test_derive_variables__ratio__is_scaled_and_missing_where_the_denominator_is_0():
    spec = build_spec(tomllib.loads(GRID_SPEC.format(blank="zero")))
    derived = derive_variables(_grid_frame(), tiny_instrument(), spec)
    share = derived["share_third"]
    # 2 of 2, 0 of 1, nothing answered (0 of 0: missing), 1 of 2.
    assert share.isna().tolist() == [False, False, True, False]
    assert share.dropna().tolist() == pytest.approx([100.0, 0.0, 50.0])


@pytest.mark.parametrize("change, problem", [
    (('numerator = "n_third"\n', ''), "needs a numerator and a denominator"),
    (('numerator = "n_third"', 'numerator = "n_thirds"'), "n_thirds"),
    (('kind = "ratio"', 'kind = "ratio"\nblank = "zero"'), "only count_matching and indicators"),
])
def test_check_spec__ratio_or_blank_misused__is_reported(change, problem):
    text = GRID_SPEC.format(blank="zero").replace(*change)
    problems = check_spec(build_spec(tomllib.loads(text)), tiny_instrument())
    assert any(problem in m for m in problems["message"]), problems["message"].tolist()


def test_build_spec__blank_other_than_missing_or_zero__is_a_configuration_error():
    from pipeline.model.schema_check import ConfigError

    with pytest.raises(ConfigError):
        build_spec(tomllib.loads(GRID_SPEC.format(blank="skip")))
