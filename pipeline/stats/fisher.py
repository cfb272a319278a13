"""Fisher's exact test for r×c tables, exactly or by Monte Carlo (as R ``fisher.test``).

* ``fisher_exact(table, *, max_steps=...)`` — any number of columns with two rows; larger
  tables up to a work limit, then ``STAT_010``.
* ``fisher_monte_carlo(table, *, n_sim, seed)`` — Monte Carlo p-value for larger tables.
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache

import numpy as np
from scipy import special
from scipy import stats as sps

from pipeline.errors import PulsecheckError
from pipeline.stats.methods import TestResult, as_table, drop_empty_margins


def _allocations(caps: tuple[int, ...], total: int):
    """All vectors x with sum(x) == total and 0 <= x_i <= caps_i."""
    if len(caps) == 1:
        if total <= caps[0]:
            yield (total,)
        return
    rest = sum(caps[1:])
    for first in range(max(0, total - rest), min(caps[0], total) + 1):
        for tail in _allocations(caps[1:], total - first):
            yield (first, *tail)


@lru_cache(maxsize=4096)
def _allocation_array(caps: tuple[int, ...], total: int) -> np.ndarray:
    out = np.array(list(_allocations(caps, total)), dtype=np.int64)
    return out.reshape(-1, len(caps))


def _even_fill(caps: np.ndarray, total: int) -> np.ndarray:
    """Most even allocation of ``total`` under ``caps`` (maximises -sum log x!)."""
    x = np.zeros_like(caps)
    order = np.argsort(caps)
    left = total
    k = len(caps)
    for pos, idx in enumerate(order):
        share = left // (k - pos)
        take = min(caps[idx], share)
        x[idx] = take
        left -= take
    # Distribute the remainder one unit at a time to rows with spare capacity.
    for idx in order[::-1]:
        if left == 0:
            break
        spare = min(caps[idx] - x[idx], left)
        x[idx] += spare
        left -= spare
    return x


def _greedy_fill(caps: np.ndarray, total: int) -> np.ndarray:
    """Most concentrated allocation (minimises -sum log x!)."""
    x = np.zeros_like(caps)
    left = total
    for idx in np.argsort(-caps, kind="stable"):
        take = min(caps[idx], left)
        x[idx] = take
        left -= take
    return x


def fisher_exact(table: object, *, max_steps: int = 20_000_000) -> TestResult:
    """Fisher's exact test of independence for an r×c table (two-sided).

    The p-value is the total probability, under the multivariate hypergeometric
    distribution with the observed margins, of all tables no more probable than the
    observed one (with R's relative tolerance of 1e-7).

    Parameters
    ----------
    table : array_like of int, shape (r, c)
    max_steps : int
        Limit on the work (partial tables examined); beyond it ``STAT_010`` is raised
        rather than returning an approximation.

    Returns
    -------
    TestResult
        ``test = "fisher"``; ``statistic`` is the probability of the observed table.

    Notes
    -----
    Columns are filled one at a time (a network algorithm): partial tables with the same
    remaining row totals and the same probability so far are merged, and a node is settled
    as soon as bounds on the remaining probability show that all, or none, of its
    completions count. The last columns are finished from memoised sorted lists of their
    completions. Tables with two rows (or two columns) of any survey size take well under a
    second; 3×4 with 200 respondents about one second; 4×4 with 150 or 3×5 with 240 exceed
    the default work limit, and :func:`fisher_monte_carlo` is the explicit alternative.

    References
    ----------
    .. [1] Mehta, C. R. and Patel, N. R. (1983). A network algorithm for performing Fisher's
       exact test in r×c contingency tables. *JASA* 78, 427–434.
    .. [2] Freeman, G. H. and Halton, J. H. (1951). Note on an exact treatment of contingency,
       goodness of fit and other problems of significance. *Biometrika* 38, 141–149.
    """
    arr = drop_empty_margins(as_table(table))
    if not np.allclose(arr, np.round(arr)):
        raise PulsecheckError("STAT_005", problem="has non-integer counts (Fisher's exact "
                                                  "test needs unweighted counts)")
    arr = np.round(arr).astype(np.int64)
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        return TestResult(test="fisher", method="Fisher's exact test", statistic=1.0,
                          df=float("nan"), ddf=float("nan"), p_value=1.0,
                          warnings=("fewer than two non-empty rows or columns",))
    if arr.shape[0] > arr.shape[1]:
        arr = arr.T
    n = int(arr.sum())
    lf = special.gammaln(np.arange(n + 2) + 1.0)
    rows = arr.sum(axis=1)
    cols = np.sort(arr.sum(axis=0))[::-1]
    const = float(lf[rows].sum() - lf[n])
    obs = const + float(lf[arr.sum(axis=0)].sum() - lf[arr].sum())
    threshold = obs + math.log1p(1e-7)
    n_cols = len(cols)
    col_lf = lf[cols]

    def bounds(state: tuple[int, ...], k: int) -> tuple[float, float]:
        caps = np.asarray(state, dtype=np.int64)
        if k == n_cols - 1:
            exact = float(col_lf[k] - lf[caps].sum())
            return exact, exact
        # Two relaxations of the remaining table (dropping either the row or the column
        # totals); each gives valid bounds, and the tighter one is kept.
        rest_cols = cols[k:]
        col_sum = float(col_lf[k:].sum())
        even_by_col = sum(lf[_even_fill(caps, int(c))].sum() for c in rest_cols)
        conc_by_col = sum(lf[_greedy_fill(caps, int(c))].sum() for c in rest_cols)
        even_by_row = sum(lf[_even_fill(rest_cols, int(r))].sum() for r in caps)
        conc_by_row = sum(lf[_greedy_fill(rest_cols, int(r))].sum() for r in caps)
        hi = col_sum - max(even_by_col, even_by_row)
        lo = col_sum - min(conc_by_col, conc_by_row)
        return float(hi), float(lo)

    n_rows = len(rows)
    radix = n + 1

    def encode(states: np.ndarray) -> np.ndarray:
        return states @ (radix ** np.arange(n_rows, dtype=np.int64))

    # The last columns are finished from memoised, sorted lists of all their completions
    # (meet in the middle), as long as those lists stay small.
    tail_start = n_cols - 1
    size = 1.0
    while tail_start > 0:
        size *= math.comb(int(cols[tail_start - 1]) + n_rows - 1, n_rows - 1)
        if size > 200_000:
            break
        tail_start -= 1
    tail_start = min(tail_start, n_cols - 1)
    memo: dict[tuple[int, tuple[int, ...]], tuple[np.ndarray, np.ndarray, float]] = {}

    def completions(k: int, state: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, float]:
        key = (k, state)
        if key in memo:
            return memo[key]
        if k == n_cols - 1:
            values = np.array([col_lf[k] - lf[list(state)].sum()])
        else:
            alloc = _allocation_array(state, int(cols[k]))
            term = col_lf[k] - lf[alloc].sum(axis=1)
            kids = np.sort(np.asarray(state, dtype=np.int64) - alloc, axis=1)
            parts = [t + completions(k + 1, tuple(int(v) for v in kid))[0]
                     for t, kid in zip(term, kids, strict=True)]
            values = np.sort(np.concatenate(parts))
        top = float(values[-1])
        cum = np.r_[0.0, np.cumsum(np.exp(values - top))]
        memo[key] = (values, cum, top)
        return memo[key]

    p_value = 0.0
    steps = 0
    # Each level maps a state (sorted remaining row totals) to the distinct log-probabilities
    # of the partial tables reaching it and how many partial tables share each value.
    level = {tuple(sorted(int(r) for r in rows)): (np.zeros(1), np.ones(1))}
    for k in range(n_cols):
        child_keys, child_states, values, mults = [], [], [], []
        for state, (past, mult) in level.items():
            hi, lo = bounds(state, k)
            rest_total = float(lf[sum(state)] - lf[list(state)].sum())
            steps += past.size
            settled = const + past + hi <= threshold
            if settled.any():
                p_value += float((mult[settled] * np.exp(const + past[settled]
                                                         + rest_total)).sum())
            active = ~settled & (const + past + lo <= threshold)
            if not active.any():
                continue
            past_a, mult_a = past[active], mult[active]
            if k == tail_start:
                # Finish every table from here at once: the node's completions are sorted,
                # so the tables at or below the threshold are found by binary search.
                values, cum, top = completions(k, state)
                idx = np.searchsorted(values, threshold - const - past_a, side="right")
                p_value += float((mult_a * np.exp(const + past_a + top) * cum[idx]).sum())
                steps += past_a.size
                continue
            alloc = _allocation_array(state, int(cols[k]))
            term = col_lf[k] - lf[alloc].sum(axis=1)
            kids = np.sort(np.asarray(state, dtype=np.int64) - alloc, axis=1)
            steps += alloc.shape[0] * past_a.size
            if steps > max_steps:
                raise PulsecheckError("STAT_010", shape=f"{arr.shape[0]}×{arr.shape[1]}",
                                      n=n, limit=max_steps)
            child_keys.append(np.repeat(encode(kids), past_a.size))
            child_states.append(np.repeat(kids, past_a.size, axis=0))
            values.append((term[:, None] + past_a[None, :]).ravel())
            mults.append(np.tile(mult_a, alloc.shape[0]))
        if not child_keys:
            break
        keys = np.concatenate(child_keys)
        kid_states = np.concatenate(child_states)
        vals = np.concatenate(values)
        mlts = np.concatenate(mults)
        # Partial tables with the same state and (to 1e-9) the same probability merge.
        vkey = np.round(vals * 1e9).astype(np.int64)
        order = np.lexsort((vkey, keys))
        keys, vkey, vals, mlts = keys[order], vkey[order], vals[order], mlts[order]
        kid_states = kid_states[order]
        new_group = np.ones(keys.size, dtype=bool)
        new_group[1:] = (keys[1:] != keys[:-1]) | (vkey[1:] != vkey[:-1])
        starts = np.flatnonzero(new_group)
        merged_m = np.add.reduceat(mlts, starts)
        merged_v = vals[starts]
        merged_k = keys[starts]
        merged_s = kid_states[starts]
        state_start = np.flatnonzero(np.r_[True, merged_k[1:] != merged_k[:-1]])
        bounds_idx = np.r_[state_start, merged_k.size]
        level = {}
        for a, b in itertools.pairwise(bounds_idx):
            level[tuple(int(v) for v in merged_s[a])] = (merged_v[a:b], merged_m[a:b])
    return TestResult(test="fisher", method="Fisher's exact test", statistic=math.exp(obs),
                      df=float("nan"), ddf=float("nan"), p_value=float(min(1.0, p_value)))


def fisher_monte_carlo(table: object, *, n_sim: int, seed: int) -> TestResult:
    """Fisher's test of independence with a Monte Carlo p-value (for tables too large to
    enumerate).

    Random tables with the observed margins are drawn; the p-value is
    :math:`(1 + \\#\\{P(T) \\le P(T_{obs})\\}) / (B + 1)`, as R's
    ``fisher.test(simulate.p.value = TRUE)`` computes it.

    Parameters
    ----------
    table : array_like of int, shape (r, c)
    n_sim : int
        Number of random tables :math:`B`; the p-value's Monte Carlo standard error is about
        :math:`\\sqrt{p(1-p)/B}`.
    seed : int
        Seed of the random generator, so that the result can be reproduced.

    Returns
    -------
    TestResult
        ``test = "fisher_mc"``; the method names ``n_sim`` and ``seed``.

    References
    ----------
    .. [1] Patefield, W. M. (1981). Algorithm AS 159: an efficient method of generating
       random r×c tables with given row and column totals. *Applied Statistics* 30, 91–97.
    .. [2] Hope, A. C. A. (1968). A simplified Monte Carlo significance test procedure.
       *JRSS B* 30, 582–598.
    """
    if int(n_sim) < 1:
        raise PulsecheckError("STAT_008", name="n_sim", value=n_sim,
                              expected="a positive number of simulated tables")
    arr = drop_empty_margins(as_table(table))
    if not np.allclose(arr, np.round(arr)):
        raise PulsecheckError("STAT_005", problem="has non-integer counts (Fisher's test "
                                                  "needs unweighted counts)")
    arr = np.round(arr).astype(np.int64)
    method = f"Fisher's exact test, Monte Carlo p-value ({int(n_sim)} tables, seed {seed})"
    if arr.shape[0] < 2 or arr.shape[1] < 2:
        return TestResult(test="fisher_mc", method=method, statistic=1.0, df=float("nan"),
                          ddf=float("nan"), p_value=1.0,
                          warnings=("fewer than two non-empty rows or columns",))
    sims = sps.random_table(arr.sum(axis=1), arr.sum(axis=0),
                            seed=np.random.default_rng(seed)).rvs(size=int(n_sim))
    observed = -special.gammaln(arr + 1.0).sum()
    simulated = -special.gammaln(sims + 1.0).sum(axis=(1, 2))
    hits = int((simulated <= observed + math.log1p(1e-7)).sum())
    rows, cols, n = arr.sum(axis=1), arr.sum(axis=0), int(arr.sum())
    log_p = float(special.gammaln(rows + 1.0).sum() + special.gammaln(cols + 1.0).sum()
                  - special.gammaln(n + 1.0) + observed)
    return TestResult(test="fisher_mc", method=method, statistic=math.exp(log_p),
                      df=float("nan"), ddf=float("nan"),
                      p_value=(1 + hits) / (int(n_sim) + 1))
