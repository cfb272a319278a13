"""The engine against a table worked by hand (tests/oracles/hand/two_by_two.md).

The expected numbers are exact fractions or closed forms, so the tolerance is 1e-12 relative.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from scipy.stats import norm

from pipeline.stats.contingency import likelihood_ratio_chisq, pearson_chisq
from pipeline.stats.fisher import fisher_exact
from pipeline.stats.intervals import binomial_interval

HAND = json.loads((Path(__file__).parent / "oracles" / "hand" / "two_by_two.json").read_text())
REL = 1e-12


def fraction(entry: dict) -> float:
    return entry["numerator"] / entry["denominator"]


def test_pearson_chisq_of_hand_table__is_50_over_63_with_its_upper_tail():
    result = pearson_chisq(HAND["table_a"], continuity=False)
    expected = fraction(HAND["pearson"])
    assert result.statistic == pytest.approx(expected, rel=REL)
    assert result.df == 1
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(expected / 2)), rel=1e-10)


def test_yates_chisq_of_hand_table__is_25_over_56():
    result = pearson_chisq(HAND["table_a"], continuity=True)
    assert result.statistic == pytest.approx(fraction(HAND["yates"]), rel=REL)
    assert result.test == "pearson_yates"


def test_likelihood_ratio_of_hand_table__is_the_sum_of_log_terms():
    expected = sum(coef * math.log(num / den) for coef, num, den in HAND["g2_terms"])
    result = likelihood_ratio_chisq(HAND["table_a"])
    assert result.statistic == pytest.approx(expected, rel=REL)


def test_fisher_exact_of_hand_table__is_17_over_35():
    result = fisher_exact(HAND["table_b"])
    assert result.p_value == pytest.approx(fraction(HAND["fisher_p"]), rel=REL)
    assert result.statistic == pytest.approx(16 / 70, rel=REL)


def test_wilson_interval_of_10_in_30__follows_the_closed_form():
    x, n = HAND["wilson"]["successes"], HAND["wilson"]["trials"]
    p, z = x / n, norm.ppf(0.975)
    centre, half = p + z * z / (2 * n), z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    interval = binomial_interval(x, n, method="wilson")
    assert interval.low == pytest.approx((centre - half) / (1 + z * z / n), rel=REL)
    assert interval.high == pytest.approx((centre + half) / (1 + z * z / n), rel=REL)
