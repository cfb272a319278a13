"""Fisher's exact test for r×c tables against full enumeration and scipy's 2×2 test."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import fisher_exact as scipy_fisher

from pipeline.errors import PulsecheckError
from pipeline.stats.fisher import fisher_exact, fisher_monte_carlo


def tables_with_margins(rows, cols):
    """Every non-negative integer table with the given margins (small tables only)."""
    r = len(rows)
    cells = []

    def fill(i, remaining_cols, acc):
        if i == r - 1:
            if all(v >= 0 for v in remaining_cols) and sum(remaining_cols) == rows[-1]:
                yield [*acc, list(remaining_cols)]
            return
        for row in itertools.product(*(range(min(rows[i], rc) + 1) for rc in remaining_cols)):
            if sum(row) == rows[i]:
                yield from fill(i + 1, [rc - x for rc, x in zip(remaining_cols, row, strict=True)],
                                [*acc, list(row)])

    yield from fill(0, list(cols), cells)


def enumerated_p_value(table):
    table = np.asarray(table)
    rows, cols, n = table.sum(1), table.sum(0), table.sum()

    def log_prob(t):
        return (sum(math.lgamma(v + 1) for v in rows) + sum(math.lgamma(v + 1) for v in cols)
                - math.lgamma(n + 1) - sum(math.lgamma(v + 1) for v in np.ravel(t)))

    observed = log_prob(table)
    return sum(math.exp(lp) for t in tables_with_margins(list(rows), list(cols))
               if (lp := log_prob(t)) <= observed + math.log1p(1e-7))


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 3).flatmap(lambda r: st.integers(2, 3).flatmap(
    lambda c: st.lists(st.lists(st.integers(0, 5), min_size=c, max_size=c),
                       min_size=r, max_size=r))))
def test_fisher_exact__equals_full_enumeration_of_tables_with_the_same_margins(table):
    arr = np.asarray(table)
    arr = arr[arr.sum(1) > 0][:, arr.sum(0) > 0]
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        assert fisher_exact(table).p_value == 1.0
        return
    assert fisher_exact(table).p_value == pytest.approx(enumerated_p_value(arr),
                                                              rel=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=4, max_size=4))
def test_fisher_exact_2x2__equals_scipy(cells):
    table = np.asarray(cells).reshape(2, 2)
    if (table.sum(0) == 0).any() or (table.sum(1) == 0).any():
        return
    assert fisher_exact(table).p_value == pytest.approx(scipy_fisher(table)[1], rel=1e-9)


def test_fisher_exact__does_not_depend_on_row_or_column_order():
    table = np.array([[5, 2, 7, 1], [3, 9, 2, 4], [6, 1, 0, 8]])
    base = fisher_exact(table).p_value
    assert fisher_exact(table[::-1]).p_value == pytest.approx(base, rel=1e-10)
    assert fisher_exact(table[:, [2, 0, 3, 1]]).p_value == pytest.approx(base, rel=1e-10)
    assert fisher_exact(table.T).p_value == pytest.approx(base, rel=1e-10)


def test_fisher_exact__beyond_the_work_limit__raises_instead_of_approximating():
    table = np.array([[20, 15, 18, 12], [14, 22, 9, 17], [11, 13, 21, 16]])
    with pytest.raises(PulsecheckError) as info:
        fisher_exact(table, max_steps=1000)
    assert info.value.code == "STAT_010"


def test_fisher_exact__weighted_counts__are_refused():
    with pytest.raises(PulsecheckError) as info:
        fisher_exact([[1.5, 2], [3, 4]])
    assert info.value.code == "STAT_005"


def test_fisher_monte_carlo__is_close_to_the_exact_p_value_and_reproducible():
    table = np.array([[3, 2, 0], [1, 4, 2], [0, 1, 5]])
    exact = fisher_exact(table).p_value
    first = fisher_monte_carlo(table, n_sim=20000, seed=11)
    again = fisher_monte_carlo(table, n_sim=20000, seed=11)
    assert first.p_value == again.p_value
    # Monte Carlo standard error sqrt(p(1-p)/B) is about 0.0013 here.
    assert first.p_value == pytest.approx(exact, abs=0.006)
    assert "20000 tables, seed 11" in first.method


def test_fisher_exact_of_two_row_table_of_survey_size__agrees_with_monte_carlo():
    table = np.array([[22, 30, 25, 18, 35, 22], [20, 21, 18, 25, 19, 24]])
    exact = fisher_exact(table).p_value
    simulated = fisher_monte_carlo(table, n_sim=20000, seed=5).p_value
    assert 0.05 < exact < 0.95
    assert simulated == pytest.approx(exact, abs=0.015)
