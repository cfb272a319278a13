"""Replicate-weight designs: variances from re-weighted estimates, as R's ``svrepdesign``.

A :class:`ReplicateDesign` names the full-sample weight column and the replicate-weight
columns of a file, and the replication method (``JK1``, ``JKn``, ``BRR``, ``Fay``,
``bootstrap``) with ``scale``, ``rscales`` and ``mse`` as R's ``svrepdesign`` takes them.
:func:`resolve_replicates` checks the columns against a frame; :func:`replicates_from_design`
converts a linearisation design (strata, clusters, fpc) to jackknife or balanced repeated
replication weights, as R's ``as.svrepdesign`` does. Every estimate is computed once with
the full-sample weights and once with each replicate's weights, and its variance is

.. math:: v = s \\sum_r c_r (\\hat\\theta_r - \\bar\\theta)^2

(:math:`s` the scale, :math:`c_r` the replicate's rscale, :math:`\\bar\\theta` the mean
of the replicates, or the full-sample estimate with ``mse``).

The estimators mirror the linearisation ones: proportions with the interval methods of R's
``svyciprop`` that are defined for replicate designs, means and totals of numbers, column
shares of a two-way table, and the Rao–Scott and Wald tests of association (``svychisq``).
A domain is estimated as R estimates it on a subset of a replicate design: from the domain's
rows alone, with the design degrees of freedom of those rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special
from scipy import stats as sps

from pipeline.errors import PulsecheckError
from pipeline.stats.contingency import (
    expected_count_warnings,
    expected_counts,
    interaction_deltas,
)
from pipeline.stats.design import SurveyDesign, design_from_settings, resolve_design
from pipeline.stats.intervals import design_interval
from pipeline.stats.methods import (
    DESIGN_CHISQ_STATISTICS,
    Interval,
    TestResult,
    check_level,
    check_method,
)

#: Replication methods of :class:`ReplicateDesign` (R ``svrepdesign(type=)``).
REPLICATE_TYPES = ("JK1", "JKn", "BRR", "Fay", "bootstrap")
#: Methods a linearisation design converts to (R ``as.svrepdesign(type=)``); the bootstrap
#: is random in R, so it is not offered.
CONVERSION_TYPES = ("JK1", "JKn", "BRR", "Fay")
#: Interval methods for a proportion under a replicate design (R ``svyciprop``); the
#: profile likelihood needs a model fit per replicate and is not offered.
REPLICATE_CI_METHODS = ("logit", "asin", "beta", "mean", "xlogit")
#: Relative tolerance of the rank that gives the design degrees of freedom (R ``degf``).
RANK_TOLERANCE = 1e-5


@dataclass(frozen=True)
class ReplicateDesign:
    """A design given by replicate-weight columns, as R's ``svrepdesign`` takes it.

    Parameters
    ----------
    weights : str, optional
        Column of full-sample weights; all weights are 1 when omitted.
    replicates : tuple of str
        The replicate-weight columns, one per replicate, in order.
    type : {"JK1", "JKn", "BRR", "Fay", "bootstrap"}
        The replication method.
    rho : float, optional
        Fay's coefficient; required by (and only used with) ``type="Fay"``.
    scale : float, optional
        Overall multiplier of the variance. Defaults as R: ``(R-1)/R`` for JK1 (``R``
        replicates; with replicate factors, one over the first column's largest factor),
        ``1/R`` for BRR, ``1/(R(1-rho)^2)`` for Fay, ``1/(R-1)`` for the bootstrap, 1 for
        JKn. BRR and Fay take no scale.
    rscales : tuple of float, optional
        Multiplier of each replicate's squared deviation. Defaults to 1; JKn needs them
        (``(n_h-1)/n_h`` of each replicate's stratum) unless replicate factors are given.
    mse : bool
        Centre the deviations on the full-sample estimate rather than on the replicates'
        mean (R's ``mse=TRUE``).
    combined_weights : bool
        The replicate columns hold whole weights (default, as R); otherwise they hold
        factors that multiply the full-sample weight.
    """

    replicates: tuple[str, ...]
    type: str
    weights: str | None = None
    rho: float | None = None
    scale: float | None = None
    rscales: tuple[float, ...] | None = None
    mse: bool = False
    combined_weights: bool = True

    def columns(self) -> tuple[str, ...]:
        """Every column the design reads."""
        return ((self.weights,) if self.weights else ()) + tuple(self.replicates)

    def describe(self) -> str:
        """A one-line description in the style of R's ``svrepdesign`` call."""
        parts = [f"type='{self.type}'", f"{len(self.replicates)} replicates"]
        if self.weights:
            parts.insert(0, f"weights=~{self.weights}")
        if self.rho is not None:
            parts.append(f"rho={self.rho:g}")
        if self.mse:
            parts.append("mse=TRUE")
        return "svrepdesign(" + ", ".join(parts) + ")"


@dataclass(frozen=True)
class ResolvedReplicates:
    """A replicate design as arrays aligned with a frame's rows.

    Attributes
    ----------
    weights : ndarray, shape (n,)
        Full-sample weight of each row.
    replicates : ndarray, shape (n, R)
        Each replicate's weight of each row (whole weights, not factors).
    scale : float
    rscales : ndarray, shape (R,)
    mse : bool
    type : str
    psu : ndarray of int, shape (n,), optional
        For replicates made from a design (:func:`replicates_from_design`): each row's PSU,
        whose replicate factors ``factors`` are, so that ``replicates[i] = weights[i] *
        factors[psu[i]]``. The design df of a domain is then found from the PSUs' sums
        rather than from every row. ``None`` for replicate columns.
    factors : ndarray, shape (P, R), optional
    """

    weights: np.ndarray
    replicates: np.ndarray
    scale: float
    rscales: np.ndarray
    mse: bool
    type: str
    notes: tuple[str, ...] = field(default=())
    psu: np.ndarray | None = None
    factors: np.ndarray | None = None

    @property
    def n_rows(self) -> int:
        """Number of rows of the frame."""
        return int(self.weights.shape[0])

    @property
    def n_replicates(self) -> int:
        """Number of replicates."""
        return int(self.replicates.shape[1])

    @property
    def is_simple(self) -> bool:
        """Never an unweighted simple random sample: variances come from the replicates."""
        return False


@dataclass(frozen=True)
class ReplicateConversion:
    """A linearisation design to be converted to replicate weights (R ``as.svrepdesign``).

    Parameters
    ----------
    design : SurveyDesign
        Weights, strata, clusters and fpc.
    type : {"JK1", "JKn", "BRR", "Fay"}
        See :func:`replicates_from_design`.
    rho : float
        Fay's coefficient (``type="Fay"`` only; R's ``fay.rho``).
    """

    design: SurveyDesign
    type: str
    rho: float = 0.0

    def columns(self) -> tuple[str, ...]:
        """Every column the design reads."""
        return self.design.columns()

    def describe(self) -> str:
        """A one-line description in the style of R's ``as.svrepdesign`` call."""
        text = f"as.svrepdesign({self.design.describe()}, type='{self.type}'"
        if self.type == "Fay":
            text += f", fay.rho={self.rho:g}"
        return text + ")"


def replicate_design_from_settings(settings: object
                                   ) -> ReplicateDesign | ReplicateConversion:
    """The replicate design of a configuration's ``[settings.design]`` with its
    ``replicates`` table (:class:`pipeline.model.schemas.ReplicateSettings`): the columns
    given, or the linearisation design converted."""
    replicates = settings.replicates
    columns = tuple(getattr(replicates, "columns", ()) or ())
    if not columns:
        return ReplicateConversion(design_from_settings(settings), replicates.type,
                                   rho=float(replicates.rho or 0.0))
    rscales = tuple(replicates.rscales) or None
    return ReplicateDesign(replicates=columns, type=replicates.type,
                           weights=getattr(settings, "weights", None), rho=replicates.rho,
                           scale=replicates.scale, rscales=rscales, mse=bool(replicates.mse),
                           combined_weights=bool(replicates.combined_weights))


def resolve_replicate_design(frame: pd.DataFrame,
                             design: ReplicateDesign | ReplicateConversion
                             ) -> ResolvedReplicates:
    """Replicate weights of ``frame``: its replicate columns, or those converted from its
    linearisation design (:func:`resolve_replicates`, :func:`replicates_from_design`)."""
    if isinstance(design, ReplicateConversion):
        return replicates_from_design(frame, design.design, design.type, fay_rho=design.rho)
    return resolve_replicates(frame, design)


# --------------------------------------------------------------------------------------------
# designs

def _positive_numbers(frame: pd.DataFrame, name: str, *, allow_zero: bool) -> np.ndarray:
    values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) | (values < 0 if allow_zero else values <= 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise PulsecheckError("REP_002", name=name, row_number=row + 1,
                              value=frame[name].iloc[row],
                              expected="a number of at least 0" if allow_zero
                              else "a positive number")
    return values


def resolve_replicates(frame: pd.DataFrame, design: ReplicateDesign) -> ResolvedReplicates:
    """Check a replicate design against ``frame`` and return it as arrays.

    Parameters
    ----------
    frame : DataFrame
        One row per respondent. Not modified.
    design : ReplicateDesign

    Returns
    -------
    ResolvedReplicates

    Raises
    ------
    PulsecheckError
        ``REP_001`` for an unknown replication method; ``STAT_001`` for a missing column;
        ``REP_002`` for a blank, non-numeric or negative replicate weight (or a full-sample
        weight that is not positive); ``REP_003`` when the replicate columns and the
        parameters do not fit together (no replicate column, the same column twice,
        ``rscales`` of the wrong length, ``rho`` missing for Fay or outside [0, 1), a scale
        given to BRR or Fay, JKn whole weights without ``rscales``).

    References
    ----------
    .. [1] Lumley, T. (2010). *Complex Surveys: A Guide to Analysis Using R*, ch. 2.5.
       Wiley. (R ``survey::svrepdesign``.)
    .. [2] Wolter, K. M. (2007). *Introduction to Variance Estimation*, 2nd ed., ch. 3–5.
       Springer.
    """
    if design.type not in REPLICATE_TYPES:
        raise PulsecheckError("REP_001", value=design.type,
                              supported=", ".join(REPLICATE_TYPES))
    reps = tuple(design.replicates)
    if not reps:
        raise PulsecheckError("REP_003", problem="no replicate-weight column is given")
    if len(set(reps)) != len(reps):
        twice = sorted({c for c in reps if reps.count(c) > 1})
        raise PulsecheckError("REP_003",
                              problem=f"replicate column(s) {', '.join(twice)} are listed twice")
    missing = [c for c in design.columns() if c not in frame.columns]
    if missing:
        present = ", ".join(map(str, frame.columns[:20]))
        raise PulsecheckError("STAT_001", name=missing[0], present=present)
    n_rep = len(reps)
    if design.rscales is not None and len(design.rscales) not in (1, n_rep):
        raise PulsecheckError("REP_003", problem=f"rscales has {len(design.rscales)} values "
                                                 f"for {n_rep} replicate columns")
    if design.type == "Fay" and (design.rho is None or not 0.0 <= design.rho < 1.0):
        raise PulsecheckError("REP_003", problem=f"type Fay needs rho in [0, 1), got "
                                                 f"{design.rho}")
    if design.type in ("BRR", "Fay") and design.scale is not None:
        raise PulsecheckError("REP_003", problem=f"type {design.type} takes no scale (it is "
                                                 "fixed by the number of replicates)")
    if design.scale is not None and not (math.isfinite(design.scale) and design.scale > 0):
        raise PulsecheckError("REP_003", problem=f"scale {design.scale} is not a positive "
                                                 "number")
    n = len(frame)
    weights = (_positive_numbers(frame, design.weights, allow_zero=False) if design.weights
               else np.ones(n))
    factors = np.column_stack([_positive_numbers(frame, c, allow_zero=True) for c in reps]) \
        if n else np.zeros((0, n_rep))
    notes: list[str] = []
    scale = design.scale
    rscales = None if design.rscales is None else np.broadcast_to(
        np.asarray(design.rscales, dtype=float), (n_rep,)).copy()
    if design.type == "BRR":
        scale = 1.0 / n_rep
    elif design.type == "Fay":
        scale = 1.0 / (n_rep * (1.0 - float(design.rho)) ** 2)
    elif design.type == "bootstrap":
        if n_rep < 2:
            raise PulsecheckError("REP_003", problem="a bootstrap needs at least 2 replicates")
        scale = 1.0 / (n_rep - 1) if scale is None else scale
    elif design.type == "JK1" and scale is None:
        if design.combined_weights:
            scale = (n_rep - 1) / n_rep
            notes.append(f"scale (n-1)/n not given: taken as ({n_rep}-1)/{n_rep}, "
                         "from the number of replicates")
        else:
            scale = 1.0 / float(factors[:, 0].max()) if n else 1.0
            notes.append("scale (n-1)/n not given: taken from the replicate factors")
    elif design.type == "JKn" and rscales is None:
        if design.combined_weights:
            raise PulsecheckError("REP_003", problem="type JKn with whole replicate weights "
                                                     "needs rscales, (n_h-1)/n_h per replicate")
        rscales = 1.0 / factors.max(axis=0)
        notes.append("rscales (n-1)/n not given: taken from the replicate factors")
    if scale is None:
        scale = 1.0
    if rscales is None:
        rscales = np.ones(n_rep)
    replicates = factors if design.combined_weights else factors * weights[:, None]
    return ResolvedReplicates(weights=weights, replicates=replicates, scale=float(scale),
                              rscales=rscales, mse=bool(design.mse), type=design.type,
                              notes=tuple(notes))


def _small_primes(limit: int = 7919) -> list[int]:
    """Primes ``p ≡ 3 (mod 4)`` up to ``limit``: those whose Paley matrix is Hadamard."""
    sieve = np.ones(limit + 1, dtype=bool)
    sieve[:2] = False
    for i in range(2, int(limit ** 0.5) + 1):
        if sieve[i]:
            sieve[i * i::i] = False
    return [int(p) for p in np.flatnonzero(sieve) if p % 4 == 3]


def _paley_of_prime(p: int) -> np.ndarray:
    """The (p+1)×(p+1) 0/1 Paley matrix of a prime ``p ≡ 3 (mod 4)``: a first row and
    column of ones, and 0 where ``i + j`` is a quadratic residue (or 0) mod ``p``."""
    m = np.add.outer(np.arange(p), np.arange(p)) % p
    residues = {0, 1} | {(i * i) % p for i in range(2, (p - 1) // 2 + 1)}
    body = np.where(np.isin(m, list(residues)), 0, 1)
    out = np.ones((p + 1, p + 1), dtype=np.int64)
    out[1:, 1:] = body
    return out


def _doubled(h: np.ndarray) -> np.ndarray:
    return np.block([[h, h], [h, 1 - h]])


def _paley(n: int, nmax: int) -> np.ndarray | None:
    primes = _small_primes()
    nceil = nn = n + 4 - (n % 4)
    if (n % 4) + 4 == (n % 8):
        while nn % 8 == 0:
            nn //= 2
        if nn - 1 in primes:
            m = _paley_of_prime(nn - 1)
            while nn < nceil:
                m = _doubled(m)
                nn *= 2
            return m
    if n > primes[-1]:
        return None
    p = min(q for q in primes if q >= n)
    if p + 1 > nceil + 4 and nceil + 4 < nmax:
        return _paley(nceil + 3, 2 * (nceil + 3))
    if p > nmax:
        return None
    return _paley_of_prime(p)


def hadamard(n: int) -> np.ndarray:
    """A 0/1 Hadamard matrix with more than ``n`` rows, chosen as R's ``survey`` chooses it.

    Parameters
    ----------
    n : int
        Number of strata (half-samples need at least ``n + 1`` rows).

    Returns
    -------
    ndarray of int
        The matrix R's ``survey:::hadamard(n)`` returns: the Sylvester matrix of order 4
        (``[[1, 1], [1, 0]]`` doubled) for fewer than 4 strata, else the smallest of a
        Paley construction (for a prime ``p ≡ 3 mod 4``) or a doubling of a base matrix.

    Raises
    ------
    PulsecheckError
        ``REP_004`` for the sizes where R uses a stored matrix of order 28 or 36 (or a
        doubling of one), which this function does not reproduce.

    References
    ----------
    .. [1] Paley, R. E. A. C. (1933). On orthogonal matrices. *Journal of Mathematics and
       Physics* 12, 311–320.
    .. [2] Sylvester, J. J. (1867). Thoughts on inverse orthogonal matrices. *Philosophical
       Magazine* 34, 461–475.
    .. [3] Wolter, K. M. (2007). *Introduction to Variance Estimation*, ch. 3. Springer.
    """
    base_sizes = (4, 16, 28, 36)
    sylvester4 = _doubled(np.array([[1, 1], [1, 0]]))
    m = n - (n % 4)
    precooked = [s for s in base_sizes if m < s <= m + 4]
    if precooked:
        size = min(precooked)
        if size in (28, 36):
            raise PulsecheckError("REP_004", strata=n, order=size)
        return sylvester4 if size == 4 else _doubled(_doubled(sylvester4))
    if all(m < s for s in base_sizes):
        return sylvester4
    sizes = [s * 2 ** max(0, math.ceil(math.log2((n + 1) / s))) for s in base_sizes]
    best = int(np.argmin([s - n for s in sizes]))
    found = None
    if sizes[best] - n > 4:
        found = _paley(n, sizes[best])
    if found is None:
        if base_sizes[best] in (28, 36):
            raise PulsecheckError("REP_004", strata=n, order=sizes[best])
        found = sylvester4 if base_sizes[best] == 4 else _doubled(_doubled(sylvester4))
        for _ in range(math.ceil(math.log2(sizes[best] / base_sizes[best]))):
            found = _doubled(found)
    return found


def replicates_from_design(frame: pd.DataFrame, design: SurveyDesign, type: str, *,
                           fay_rho: float = 0.0) -> ResolvedReplicates:
    """Replicate weights for a linearisation design, as R's ``as.svrepdesign``.

    Parameters
    ----------
    frame : DataFrame
        Not modified.
    design : SurveyDesign
        Weights, strata, clusters (PSUs) and fpc, as :func:`pipeline.stats.design.resolve_design`
        checks them.
    type : {"JK1", "JKn", "BRR", "Fay"}
        ``JK1``: delete-one-PSU jackknife of an unstratified design (scale
        :math:`(1-f)(n-1)/n`); ``JKn``: delete-one-PSU jackknife within strata (rscale
        :math:`(1-f_h)(n_h-1)/n_h` per replicate); ``BRR``: balanced half-samples of a design
        with two PSUs per stratum, from the Hadamard matrix :func:`hadamard` gives; ``Fay``:
        the same with the half-samples' weights :math:`2-\\rho` and :math:`\\rho`.
    fay_rho : float
        Fay's coefficient (``type="Fay"`` only).

    Returns
    -------
    ResolvedReplicates
        With whole (combined) weights, one replicate per column.

    Raises
    ------
    PulsecheckError
        ``REP_001`` for an unknown method; ``REP_005`` when the design does not fit the
        method (JK1 of a stratified design, JKn/BRR of an unstratified one, BRR with a
        stratum that has other than two PSUs, an fpc with BRR); errors of
        :func:`~pipeline.stats.design.resolve_design`.

    Notes
    -----
    Replicates are numbered as R numbers them: JK1 by each PSU's first appearance in the
    data, JKn stratum by stratum in order of first appearance, BRR by the columns of the
    Hadamard matrix with strata taken in sorted order of their codes (as text). R's BRR
    gives a first-listed PSU the weight factor ``2 - rho`` where the matrix has 1.

    References
    ----------
    .. [1] McCarthy, P. J. (1969). Pseudo-replication: half samples. *Review of the ISI*
       37, 239–264.
    .. [2] Judkins, D. R. (1990). Fay's method for variance estimation. *Journal of
       Official Statistics* 6, 223–239.
    .. [3] Lumley, T. (2010). *Complex Surveys*, sec. 2.5; R ``survey::as.svrepdesign``,
       ``jk1weights``, ``jknweights``, ``brrweights``. Wiley.
    """
    if type not in CONVERSION_TYPES:
        raise PulsecheckError("REP_001", value=type, supported=", ".join(CONVERSION_TYPES))
    resolved = resolve_design(frame, design)
    stratified = design.strata is not None
    if type == "JK1" and stratified:
        raise PulsecheckError("REP_005", method=type, problem="the design is stratified; "
                                                              "use JKn")
    if type in ("JKn", "BRR", "Fay") and not stratified:
        raise PulsecheckError("REP_005", method=type, problem="the design has no strata; "
                                                              "use JK1")
    if type == "Fay" and not 0.0 <= fay_rho < 1.0:
        raise PulsecheckError("REP_003", problem=f"type Fay needs rho in [0, 1), got {fay_rho}")
    weights = resolved.weights
    # PSUs in order of first appearance, and the stratum of each.
    first = np.unique(resolved.psu, return_index=True)[1]
    order = np.argsort(first, kind="stable")
    psu_order = np.unique(resolved.psu)[order]
    position = np.empty(resolved.psu_stratum.shape[0], dtype=np.int64)
    position[psu_order] = np.arange(psu_order.size)
    row_psu = position[resolved.psu]  # each row's PSU, numbered by first appearance
    psu_stratum = resolved.psu_stratum[psu_order]
    fraction = resolved.fpc_fraction
    if type in ("JK1", "JKn"):
        columns: list[np.ndarray] = []
        rscales: list[float] = []
        strata_seen = pd.unique(psu_stratum)
        for h in strata_seen:
            members = np.flatnonzero(psu_stratum == h)
            n_h = members.size
            if n_h == 1:
                raise PulsecheckError("STAT_003", stratum=resolved.stratum_labels[h],
                                      stage=1)
            keep = 1.0 - fraction[h]
            if keep <= 0.0:
                # A stratum sampled completely has no variance: R drops its replicates.
                continue
            for p in members:
                # The factor of each PSU: none for the PSU left out, n_h / (n_h - 1) for the
                # others of its stratum, one elsewhere.
                factor = np.where(psu_stratum == h, n_h / (n_h - 1.0), 1.0)
                factor[p] = 0.0
                columns.append(factor)
                rscales.append(keep * (n_h - 1.0) / n_h)
        if not columns:
            raise PulsecheckError("REP_005", method=type, problem="every stratum is sampled "
                                                                  "completely (no variance)")
        factors = np.column_stack(columns)
        reps = weights[:, None] * factors[row_psu]
        if type == "JK1":
            return ResolvedReplicates(weights=weights, replicates=reps,
                                      scale=float(rscales[0]), rscales=np.ones(len(columns)),
                                      mse=False, type="JK1", psu=row_psu, factors=factors)
        return ResolvedReplicates(weights=weights, replicates=reps, scale=1.0,
                                  rscales=np.asarray(rscales), mse=False, type="JKn",
                                  psu=row_psu, factors=factors)
    if design.fpc:
        raise PulsecheckError("REP_005", method=type, problem="half-samples cannot use an "
                                                              "fpc; describe the design "
                                                              "without it")
    per_stratum = np.bincount(psu_stratum, minlength=len(resolved.stratum_labels))
    odd = [h for h in np.flatnonzero(per_stratum) if per_stratum[h] != 2]
    if odd:
        raise PulsecheckError("REP_005", method=type,
                              problem=f"stratum '{resolved.stratum_labels[odd[0]]}' has "
                                      f"{per_stratum[odd[0]]} PSUs; half-samples need "
                                      "exactly two per stratum")
    labels = [resolved.stratum_labels[h] for h in range(len(resolved.stratum_labels))]
    present = [h for h in range(len(labels)) if per_stratum[h] == 2]
    sorted_strata = sorted(present, key=lambda h: labels[h])
    stratum_rank = {h: k for k, h in enumerate(sorted_strata)}
    # Within a stratum, the PSU seen first is the first of the pair.
    first_of_pair = np.zeros(psu_order.size, dtype=bool)
    seen: set[int] = set()
    for p in range(psu_order.size):
        h = int(psu_stratum[p])
        if h not in seen:
            first_of_pair[p] = True
            seen.add(h)
    h_matrix = hadamard(len(sorted_strata))
    rank_of_psu = np.asarray([stratum_rank[int(h)] for h in psu_stratum])
    columns = []
    for i in range(h_matrix.shape[1]):
        signs = h_matrix[1 + rank_of_psu, i]  # 1: the first PSU is in the half-sample
        in_half = np.where(first_of_pair, signs == 1, signs == 0)
        columns.append(np.where(in_half, 2.0 - fay_rho, fay_rho))
    factors = np.column_stack(columns)
    reps = weights[:, None] * factors[row_psu]
    n_rep = reps.shape[1]
    return ResolvedReplicates(weights=weights, replicates=reps,
                              scale=1.0 / (n_rep * (1.0 - fay_rho) ** 2),
                              rscales=np.ones(n_rep), mse=False,
                              type="BRR" if fay_rho == 0 else "Fay", psu=row_psu,
                              factors=factors)


def replicate_variance(thetas: np.ndarray, estimate: np.ndarray,
                       resolved: ResolvedReplicates) -> np.ndarray:
    """Variance (covariance) of an estimate from its replicates, as R's ``svrVar``.

    Parameters
    ----------
    thetas : ndarray, shape (R,) or (R, k)
        The estimate recomputed with each replicate's weights.
    estimate : ndarray, shape () or (k,)
        The full-sample estimate (the centre with ``mse``).
    resolved : ResolvedReplicates

    Returns
    -------
    ndarray, shape (k, k)

    Notes
    -----
    Replicates whose estimate is undefined (NaN: no weight left in the domain) are left
    out, with their rscales, as R's ``na.action`` does.
    """
    t = np.asarray(thetas, dtype=float)
    if t.ndim == 1:
        t = t[:, None]
    est = np.atleast_1d(np.asarray(estimate, dtype=float))
    keep = ~np.isnan(t).any(axis=1)
    t, rscales = t[keep], resolved.rscales[keep]
    if not t.shape[0]:
        return np.full((est.size, est.size), np.nan)
    with np.errstate(invalid="ignore"):
        # No replicate with a positive rscale, or an undefined estimate: NaN, not a warning.
        centre = est if resolved.mse else (t[rscales > 0].mean(axis=0) if (rscales > 0).any()
                                           else np.full(t.shape[1], np.nan))
        dev = (t - centre) * np.sqrt(rscales)[:, None]
        return resolved.scale * dev.T @ dev


def _rank(matrix: np.ndarray, tol: float) -> int:
    """Rank as LINPACK's ``dqrdc2`` (R's ``qr``) finds it: a column whose norm, after the
    earlier columns are projected out, is below ``tol`` times its own norm does not count.

    The residual norms come from an incremental Cholesky factorisation of the columns' Gram
    matrix (one product over the rows, then work on replicates × replicates only); at
    ``tol = 1e-5`` the squared norms compared are far above rounding error.
    """
    a = np.asarray(matrix, dtype=float)
    if a.size == 0:
        return 0
    # numpy's own loop: a multithreaded BLAS product of a few dozen columns can spend more on
    # waking its threads than on the arithmetic.
    return _gram_rank(np.einsum("ni,nj->ij", a, a), tol)


def _gram_rank(gram: np.ndarray, tol: float) -> int:
    """The rank :func:`_rank` finds, from the columns' Gram matrix."""
    factor = np.zeros((0, gram.shape[0]))
    for j in range(gram.shape[0]):
        own = gram[j, j]
        if own <= 0:
            continue
        residual = own - float(factor[:, j] @ factor[:, j])
        if residual > 0 and residual >= tol * tol * own:
            row = (gram[j] - factor[:, j] @ factor) / np.sqrt(residual)
            factor = np.vstack([factor, row])
    return int(factor.shape[0])


def replicate_df(resolved: ResolvedReplicates, domain: np.ndarray | None = None) -> int:
    """Design degrees of freedom of a replicate design, as R's ``degf``.

    Parameters
    ----------
    resolved : ResolvedReplicates
    domain : ndarray of bool, optional
        Rows of a subset (R re-computes the df of a subset of a replicate design).

    Returns
    -------
    int
        The rank of the replicate-weight matrix (rows of the domain) less one.

    References
    ----------
    .. [1] Lumley, T. (2010). *Complex Surveys*, sec. 2.5; R ``survey::degf``. Wiley.
    """
    if resolved.psu is not None and resolved.factors is not None:
        # Rows of a PSU share its factors: the Gram matrix of the domain's replicate
        # weights is the PSUs' factor products weighted by their rows' squared weights.
        rows = np.ones(resolved.n_rows, dtype=bool) if domain is None else \
            np.asarray(domain, dtype=bool)
        squares = np.bincount(resolved.psu[rows], weights=resolved.weights[rows] ** 2,
                              minlength=resolved.factors.shape[0])
        if not squares.any():
            return -1
        gram = np.einsum("pi,p,pj->ij", resolved.factors, squares, resolved.factors)
        return _gram_rank(gram, RANK_TOLERANCE) - 1
    reps = resolved.replicates if domain is None else \
        resolved.replicates[np.asarray(domain, dtype=bool)]
    return _rank(reps, RANK_TOLERANCE) - 1


# --------------------------------------------------------------------------------------------
# estimates

@dataclass(frozen=True)
class ReplicateEstimate:
    """Estimates with their replicate variance.

    Attributes
    ----------
    estimate : ndarray, shape (k,)
    covariance : ndarray, shape (k, k)
    replicates : ndarray, shape (R, k)
        Each replicate's estimates.
    n : int
        Respondents (rows of the domain with a value).
    design, rows
        The design and the domain's rows, from which :attr:`df` is computed when asked.
    """

    estimate: np.ndarray
    covariance: np.ndarray
    replicates: np.ndarray
    n: int
    design: ResolvedReplicates | None = None
    rows: np.ndarray | None = None

    @property
    def df(self) -> int:
        """Design degrees of freedom of the domain (computed when asked: a rank)."""
        if self.design is None or self.n == 0:
            return 0
        return replicate_df(self.design, self.rows)

    @property
    def se(self) -> np.ndarray:
        """Standard errors."""
        return np.sqrt(np.clip(np.diag(self.covariance), 0.0, None))


def _values(y: np.ndarray, n: int) -> np.ndarray:
    values = np.asarray(y, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    if values.shape[0] != n:
        raise PulsecheckError("STAT_008", name="values", value=f"{values.shape[0]} rows",
                              expected=f"one value per row of the design ({n})")
    return values


def _domain_rows(y: np.ndarray, domain: np.ndarray | None, n: int) -> np.ndarray:
    rows = np.ones(n, dtype=bool) if domain is None else np.asarray(domain, dtype=bool)
    if rows.shape != (n,):
        raise PulsecheckError("STAT_008", name="domain", value=f"{rows.shape[0]} rows",
                              expected=f"one flag per row of the design ({n})")
    # Rows with a missing value are left out, as R's na.rm=TRUE does.
    return rows & ~np.isnan(y).any(axis=1)


def replicate_mean(y: np.ndarray, resolved: ResolvedReplicates,
                   domain: np.ndarray | None = None) -> ReplicateEstimate:
    """Weighted means of one or more variables in a domain, with replicate variances.

    Parameters
    ----------
    y : ndarray, shape (n,) or (n, k)
        Values (a 0/1 indicator gives a proportion); rows with a missing value are left out.
    resolved : ResolvedReplicates
    domain : ndarray of bool, optional

    Returns
    -------
    ReplicateEstimate
        As R's ``svymean`` on the subset design (``svyby`` for each domain).

    References
    ----------
    .. [1] Lumley, T. (2010). *Complex Surveys*, sec. 2.5; R ``survey::svymean``. Wiley.
    """
    values = _values(y, resolved.n_rows)
    rows = _domain_rows(values, domain, resolved.n_rows)
    x = values[rows]
    w = resolved.weights[rows]
    n = int(rows.sum())
    if n == 0 or w.sum() <= 0:
        k = x.shape[1]
        return ReplicateEstimate(np.full(k, np.nan), np.full((k, k), np.nan),
                                 np.full((resolved.n_replicates, k), np.nan), n)
    estimate = (w @ x) / w.sum()
    sums = replicate_sums(resolved, np.column_stack([x, np.ones(n)]), rows)
    with np.errstate(invalid="ignore", divide="ignore"):
        thetas = sums[:, :-1] / sums[:, -1:]
    return ReplicateEstimate(estimate, replicate_variance(thetas, estimate, resolved),
                             thetas, n, resolved, rows)


def replicate_sums(resolved: ResolvedReplicates, x: np.ndarray, rows: np.ndarray
                   ) -> np.ndarray:
    """Each replicate's weighted sums of the columns of ``x`` over ``rows``.

    Parameters
    ----------
    resolved : ResolvedReplicates
    x : ndarray, shape (m, k)
        Values of the ``m`` rows selected by ``rows``, in order.
    rows : ndarray of bool, shape (n,)

    Returns
    -------
    ndarray, shape (R, k)
        :math:`\\sum_i w_{ir} x_{ik}`. For replicates made from a design, each PSU's
        weighted sums times its factors (a few thousand numbers rather than a product over
        every row and replicate).
    """
    if resolved.psu is not None and resolved.factors is not None:
        psu = resolved.psu[rows]
        w = resolved.weights[rows]
        size = resolved.factors.shape[0]
        by_psu = np.column_stack([np.bincount(psu, weights=w * x[:, j], minlength=size)
                                  for j in range(x.shape[1])])
        return resolved.factors.T @ by_psu
    return resolved.replicates[rows].T @ x


def replicate_total(y: np.ndarray, resolved: ResolvedReplicates,
                    domain: np.ndarray | None = None) -> ReplicateEstimate:
    """Weighted totals of one or more variables in a domain, with replicate variances.

    Parameters
    ----------
    y : ndarray, shape (n,) or (n, k)
    resolved : ResolvedReplicates
    domain : ndarray of bool, optional

    Returns
    -------
    ReplicateEstimate
        As R's ``svytotal`` on the subset design.

    References
    ----------
    .. [1] Lumley, T. (2010). *Complex Surveys*, sec. 2.5; R ``survey::svytotal``. Wiley.
    """
    values = _values(y, resolved.n_rows)
    rows = _domain_rows(values, domain, resolved.n_rows)
    x = values[rows]
    estimate = resolved.weights[rows] @ x
    thetas = replicate_sums(resolved, x, rows)
    return ReplicateEstimate(estimate, replicate_variance(thetas, estimate, resolved),
                             thetas, int(rows.sum()), resolved, rows)


def replicate_proportion(y: np.ndarray, resolved: ResolvedReplicates, *, method: str,
                         level: float = 0.95, domain: np.ndarray | None = None) -> Interval:
    """A proportion in a domain with a confidence interval, as R's ``svyciprop`` on a
    replicate design.

    Parameters
    ----------
    y : ndarray of 0/1
        The indicator; blank (NaN) rows are left out of the base.
    resolved : ResolvedReplicates
    method : {"logit", "asin", "beta", "mean", "xlogit"}
        As :func:`pipeline.stats.intervals.design_interval`, with the replicate variance of
        the proportion; except ``logit``, whose standard error R takes from the replicates
        of the log-odds (the intercept of a logistic model refitted with each replicate's
        weights), not from the proportion's variance by the delta method as ``xlogit``.
    level : float
    domain : ndarray of bool, optional

    Returns
    -------
    Interval
        A proportion of 0 or 1 (or of zero variance) gets the Korn–Graubard interval with
        the domain's respondents as effective sample size, as the linearisation engine
        gives it, with a warning.

    References
    ----------
    .. [1] Lumley, T. (2010). *Complex Surveys*, sec. 2.3.1 and 2.5; R
       ``survey::svyciprop``. Wiley.
    .. [2] Korn, E. L. and Graubard, B. I. (1998). *Survey Methodology* 24, 193–201.
    """
    check_method(method, REPLICATE_CI_METHODS, "replicate-design interval method")
    check_level(level)
    values = _values(y, resolved.n_rows)[:, 0]
    present = ~np.isnan(values)
    if present.any() and not np.isin(values[present], (0.0, 1.0)).all():
        raise PulsecheckError("STAT_007", name="y", values=", ".join(
            sorted({f"{v:g}" for v in values[present] if v not in (0.0, 1.0)})[:5]))
    result = replicate_mean(values, resolved, domain)
    p = float(result.estimate[0])
    v = float(result.covariance[0, 0])
    if result.n == 0:
        return Interval(estimate=float("nan"), low=float("nan"), high=float("nan"),
                        method=method, level=level, n=0,
                        warnings=("no respondents in this cell",))
    return replicate_interval(p, v, result.replicates[:, 0], resolved, n=result.n,
                              df=result.df, method=method, level=level)


def replicate_interval(estimate: float, variance: float, thetas: np.ndarray,
                       resolved: ResolvedReplicates, *, n: int, df: float, method: str,
                       level: float = 0.95, successes: int | None = None) -> Interval:
    """The ``svyciprop`` interval of a proportion from its replicate estimates.

    Parameters
    ----------
    estimate, variance : float
        The full-sample proportion and its replicate variance.
    thetas : ndarray, shape (R,)
        The proportion under each replicate's weights (``logit`` takes its variance on the
        log-odds scale from them).
    resolved : ResolvedReplicates
    n : int
        Respondents of the domain.
    df : float
        Design degrees of freedom of the domain (:func:`replicate_df`).
    method : {"logit", "asin", "beta", "mean", "xlogit"}
    level : float
    successes : int, optional
        Respondents of the domain with the value 1: a cell of 0% or 100% is then decided
        from the counts (:func:`pipeline.stats.intervals.design_interval`).

    Returns
    -------
    Interval
        As :func:`replicate_proportion`.
    """
    p, v = float(estimate), float(variance)
    interval = design_interval(p, v, n=n, df=df,
                               method="xlogit" if method == "logit" else method, level=level,
                               successes=successes)
    if method != "logit" or interval.method != "xlogit":
        return interval
    with np.errstate(divide="ignore", invalid="ignore"):
        logits = special.logit(np.asarray(thetas, dtype=float))
    var_logit = float(replicate_variance(logits, np.array(special.logit(p)), resolved)[0, 0])
    if not math.isfinite(var_logit):
        return Interval(**{**interval.__dict__, "method": "logit", "low": float("nan"),
                           "high": float("nan"),
                           "warnings": ("a replicate's proportion is 0 or 1, so the "
                                        "log-odds have no replicate variance",)})
    q = abs(float(sps.t.ppf((1.0 - level) / 2, df)))
    half = q * math.sqrt(var_logit)
    centre = float(special.logit(p))
    return Interval(estimate=p, low=float(special.expit(centre - half)),
                    high=float(special.expit(centre + half)), method="logit", level=level,
                    se=math.sqrt(max(v, 0.0)), df=float(df), n=int(n))


def replicate_crosstab(row_codes: np.ndarray, col_codes: np.ndarray, n_row_levels: int,
                       n_col_levels: int, resolved: ResolvedReplicates, *, method: str,
                       level: float = 0.95) -> pd.DataFrame:
    """Column shares of a two-way table with standard errors and intervals.

    Parameters
    ----------
    row_codes, col_codes : ndarray of int
        Level index of each respondent (``-1`` for missing: left out).
    n_row_levels, n_col_levels : int
    resolved : ResolvedReplicates
    method : str
        One of :data:`REPLICATE_CI_METHODS`.
    level : float

    Returns
    -------
    DataFrame
        One row per (column level, row level), the overall column (``col`` = -1) first:
        ``row``, ``col``, ``n``, ``base_n``, ``n_weighted``, ``base_weighted``, ``share``,
        ``se``, ``ci_low``, ``ci_high``, ``ci_method``, ``df``, ``warnings``. Each share is R's
        ``svymean`` of the row level's indicator on the subset of the column level (its base:
        the respondents with both answers) and its interval ``svyciprop`` on that subset.
    """
    rc = np.asarray(row_codes, dtype=np.int64)
    cc = np.asarray(col_codes, dtype=np.int64)
    complete = (rc >= 0) & (cc >= 0)
    out = []
    for j in range(-1, n_col_levels):
        base = complete if j < 0 else complete & (cc == j)
        base_w = float(resolved.weights[base].sum())
        for i in range(n_row_levels):
            y = (rc == i).astype(float)
            interval = replicate_proportion(y, resolved, method=method, level=level,
                                            domain=base)
            out.append({"row": i, "col": j, "n": int((base & (rc == i)).sum()),
                        "base_n": int(base.sum()),
                        "n_weighted": float(resolved.weights[base & (rc == i)].sum()),
                        "base_weighted": base_w, "share": interval.estimate,
                        "se": interval.se, "ci_low": interval.low, "ci_high": interval.high,
                        "ci_method": interval.method, "df": interval.df,
                        "warnings": "; ".join(interval.warnings)})
    return pd.DataFrame(out)


def _untestable(statistic: str, why: str) -> TestResult:
    """A test that cannot be computed, said so rather than raised."""
    test = {"F": "rao_scott_f", "Chisq": "rao_scott_chisq", "Wald": "wald",
            "adjWald": "adj_wald"}[statistic]
    return TestResult(test=test, method="not tested", statistic=float("nan"), df=float("nan"),
                      ddf=float("nan"), p_value=float("nan"), warnings=(f"not tested: {why}",))


def replicate_chisq(row_codes: np.ndarray, col_codes: np.ndarray, n_row_levels: int,
                    n_col_levels: int, resolved: ResolvedReplicates, *,
                    statistic: str) -> TestResult:
    """Test of association in a two-way table under a replicate design (R ``svychisq``).

    Parameters
    ----------
    row_codes, col_codes : ndarray of int
        Level index of each respondent (``-1`` for missing: the row is left out, and the
        test is on the complete cases).
    n_row_levels, n_col_levels : int
        Levels with no respondents are dropped, as R does.
    resolved : ResolvedReplicates
    statistic : {"F", "Chisq", "Wald", "adjWald"}
        As :func:`pipeline.stats.contingency.design_chisq`, with the covariance of the cell
        proportions (F, Chisq) or of the cell, row and column totals (Wald, adjWald) from
        the replicates, and the design df of the replicate design.

    Returns
    -------
    TestResult

    References
    ----------
    .. [1] Rao, J. N. K. and Scott, A. J. (1984). *Annals of Statistics* 12, 46–60.
    .. [2] Lumley, T. (2010). *Complex Surveys*, sec. 6.2; R ``survey::svychisq``. Wiley.
    """
    check_method(statistic, DESIGN_CHISQ_STATISTICS, "design-based test statistic")
    rc = np.asarray(row_codes, dtype=np.int64)
    cc = np.asarray(col_codes, dtype=np.int64)
    complete = (rc >= 0) & (cc >= 0)
    present_r = np.flatnonzero(np.bincount(rc[complete], minlength=n_row_levels))
    present_c = np.flatnonzero(np.bincount(cc[complete], minlength=n_col_levels))
    nr, nc = present_r.size, present_c.size
    if nr < 2 or nc < 2:
        raise PulsecheckError("STAT_005",
                              problem=f"has {nr}×{nc} non-empty rows×columns; at least 2×2 needed")
    sub = ResolvedReplicates(weights=resolved.weights[complete],
                             replicates=resolved.replicates[complete], scale=resolved.scale,
                             rscales=resolved.rscales, mse=resolved.mse, type=resolved.type,
                             psu=None if resolved.psu is None else resolved.psu[complete],
                             factors=resolved.factors)
    r_idx = np.searchsorted(present_r, rc[complete])
    c_idx = np.searchsorted(present_c, cc[complete])
    k = nr * nc
    cell = c_idx * nr + r_idx  # column-major, as R's interaction()
    mm = np.zeros((cell.size, k))
    mm[np.arange(cell.size), cell] = 1.0
    nu = replicate_df(sub)
    if nu < 1:
        return _untestable(statistic, f"the replicate weights give {nu} degrees of freedom")
    n_obs = cell.size
    if statistic in ("F", "Chisq"):
        means = replicate_mean(mm, sub)
        props, v = means.estimate, means.covariance
        table = props.reshape(nc, nr).T * n_obs
        exp = expected_counts(table)
        x2 = float(((table - exp) ** 2 / exp).sum())
        try:
            delta = interaction_deltas(props, v, n_obs, nr, nc)
        except np.linalg.LinAlgError:
            return _untestable(statistic, "the design effects cannot be estimated (singular "
                                          "matrix)")
        tr = float(np.trace(delta))
        tr2 = float(np.trace(delta @ delta))
        if not (tr > 0 and tr2 > 0):
            return _untestable(statistic, "the table has no design variance")
        warnings = expected_count_warnings(exp)
        if statistic == "F":
            d0 = tr * tr / tr2
            f = x2 / tr
            return TestResult(test="rao_scott_f", method="Rao-Scott second-order corrected F "
                              "(replicate weights)", statistic=f, df=d0, ddf=d0 * nu,
                              p_value=float(sps.f.sf(f, d0, d0 * nu)), warnings=warnings)
        mean_delta = tr / delta.shape[0]
        chisq = x2 / mean_delta
        return TestResult(test="rao_scott_chisq", method="Rao-Scott first-order corrected "
                          "chi-square (replicate weights)", statistic=chisq,
                          df=float(delta.shape[0]), ddf=float("nan"),
                          p_value=float(sps.chi2.sf(chisq, delta.shape[0])),
                          warnings=warnings)
    row_ind = np.zeros((n_obs, nr))
    row_ind[np.arange(n_obs), r_idx] = 1.0
    col_ind = np.zeros((n_obs, nc))
    col_ind[np.arange(n_obs), c_idx] = 1.0
    totals = replicate_total(np.column_stack([mm, row_ind, col_ind, np.ones(n_obs)]), sub)
    t = totals.estimate
    n_cell, n_row, n_col, n_all = t[:k], t[k:k + nr], t[k + nr:k + nr + nc], t[-1]
    grid_r = np.tile(np.arange(nr), nc)
    grid_c = np.repeat(np.arange(nc), nr)
    jacobian = np.column_stack([
        np.eye(k),
        -(grid_r[:, None] == np.arange(nr)[None, :]).astype(float)
        * (n_col[grid_c] / n_all)[:, None],
        -(grid_c[:, None] == np.arange(nc)[None, :]).astype(float)
        * (n_row[grid_r] / n_all)[:, None],
        (n_row[grid_r] * n_col[grid_c] / n_all ** 2)[:, None],
    ])
    resid = n_cell - n_row[grid_r] * n_col[grid_c] / n_all
    v = jacobian @ totals.covariance @ jacobian.T
    use = (grid_r > 0) & (grid_c > 0)
    try:
        wald = float(resid[use] @ np.linalg.solve(v[np.ix_(use, use)], resid[use]))
    except np.linalg.LinAlgError:
        return _untestable(statistic, "the covariance of the table is singular")
    ndf = (nr - 1) * (nc - 1)
    if statistic == "Wald":
        stat, ddf = wald / ndf, float(nu)
        test, name = "wald", "design-based Wald test (replicate weights)"
    else:
        ddf = float(nu - ndf + 1)
        stat = wald * ddf / (ndf * nu)
        test, name = "adj_wald", "design-based adjusted Wald test (replicate weights)"
    warnings = () if ddf > 0 else (f"denominator df {ddf} is not positive",)
    p = float(sps.f.sf(stat, ndf, ddf)) if ddf > 0 else float("nan")
    return TestResult(test=test, method=name, statistic=stat, df=float(ndf), ddf=ddf,
                      p_value=p, warnings=warnings)
