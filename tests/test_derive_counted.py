"""Derived variables agree with the answers they are derived from, row by row.

Bands, counts and indicators are computed on whole columns at once; these tests rebuild them
one partnership at a time from the specification's rules.
"""

from __future__ import annotations

import tomllib

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import tiny_instrument
from pipeline.model.report_spec import build_spec
from pipeline.stages.derive import derive_variables

# Overlapping bands: a value in both belongs to the first.
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
bands = [{ label = "Early", max = 2009 }, { label = "Recent", min = 2000, max = 2012 },
         { label = "Latest", min = 2014 }]

[derived.n_barriers]
kind = "count_selected"
source = "barriers"

[derived.broad]
kind = "indicators"
sources = ["screen", "stage"]
values = ["yes", "third"]

[derived.narrow]
kind = "indicators"
sources = ["screen", "stage"]
values = ["third"]

[derived.n_broad]
kind = "count_matching"
sources = ["screen", "stage"]
values = ["yes", "third"]
"""
BANDS = [("Early", None, 2009), ("Recent", 2000, 2012), ("Latest", 2014, None)]
BARRIERS = ["barriers/money", "barriers/data", "barriers/other", "barriers/none"]


@st.composite
def answers(draw):
    n = draw(st.integers(1, 30))

    def column(values):
        return draw(st.lists(st.sampled_from(values), min_size=n, max_size=n))

    frame = pd.DataFrame({
        "year": pd.array(column([1995, 2000, 2009, 2010, 2013, 2014, None]), dtype="Int64"),
        "screen": pd.array(column(["yes", "no", None]), dtype="str"),
        "stage": pd.array(column(["first", "third", None]), dtype="str"),
    })
    blank = np.array(column([True, False]))
    for name in BARRIERS:
        ticks = np.array(column([0, 1]), dtype=float)
        frame[name] = pd.array(np.where(blank, None, ticks), dtype="Int8")
    return frame


def _band(year) -> str | None:
    if pd.isna(year):
        return None
    for label, low, high in BANDS:
        if (low is None or year >= low) and (high is None or year <= high):
            return label
    return None


@settings(max_examples=50, deadline=None)
@given(answers())
def test_derived_variables__agree_with_each_row_s_answers(frame):
    derived = derive_variables(frame, tiny_instrument(), build_spec(tomllib.loads(SPEC)))
    for i in range(len(frame)):
        answer = frame.iloc[i]
        band = derived["period"].iloc[i]
        assert (None if pd.isna(band) else band) == _band(answer["year"])
        ticks = answer[BARRIERS]
        count = derived["n_barriers"].iloc[i]
        assert (None if pd.isna(count) else count) == \
            (None if ticks.isna().all() else int(ticks.fillna(0).sum()))
        matches = []
        for source in ("screen", "stage"):
            value = answer[source]
            for family, values in (("broad", ("yes", "third")), ("narrow", ("third",))):
                flag = derived[f"{family}/{source}"].iloc[i]
                assert (None if pd.isna(flag) else flag) == \
                    (None if pd.isna(value) else int(value in values))
            matches.append(None if pd.isna(value) else value in ("yes", "third"))
        n_broad = derived["n_broad"].iloc[i]
        assert (None if pd.isna(n_broad) else n_broad) == \
            (None if None in matches else sum(matches))


@settings(max_examples=30, deadline=None)
@given(answers())
def test_count_selected__whole_number_and_decimal_items_give_the_same_counts(frame):
    """Items typed as whole numbers are added column by column; other items row-wise."""
    spec, instrument = build_spec(tomllib.loads(SPEC)), tiny_instrument()
    decimal = frame.astype({name: "float64" for name in BARRIERS})
    pd.testing.assert_series_equal(derive_variables(frame, instrument, spec)["n_barriers"],
                                   derive_variables(decimal, instrument, spec)["n_barriers"],
                                   check_exact=True)


@settings(max_examples=30, deadline=None)
@given(answers())
def test_bands__of_numbers_and_of_the_same_numbers_as_text__agree(frame):
    """Numeric columns are read as floats directly; other columns are parsed first."""
    spec, instrument = build_spec(tomllib.loads(SPEC)), tiny_instrument()
    text = frame.assign(year=frame["year"].astype("str").where(frame["year"].notna(), None))
    pd.testing.assert_series_equal(derive_variables(frame, instrument, spec)["period"],
                                   derive_variables(text, instrument, spec)["period"],
                                   check_exact=True)
