"""Partnership histories: the same partnership across waves, its phase moves (pure).

Linking, in order of trust:

1. **stable id** — the same respondent key (the partnership ID of the invitation) in two
   consecutive waves links the two answers; a partnership that skipped one or more waves is
   linked from its last answer to its next one by the same key (the link names both waves);
2. **confirmed** — a pair research staff marked ``same`` in the links file (whether or not
   the two answers share a location);
3. otherwise a pair of unlinked partnerships whose locations overlap and whose names are the
   same after normalising, or similar (:func:`name_similarity`: the share of words the two
   names have in common, at least the threshold), is a **candidate** written to the review
   file.
   Candidates are never merged automatically: a look-alike name may be another partnership.
   A pair marked ``different`` is not proposed again.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise
from typing import Mapping, Sequence

import pandas as pd

from pipeline.model.instrument_diff import normalise_label

LINK_COLUMNS = ("wave_from", "id_from", "wave_to", "id_to", "method")
REVIEW_COLUMNS = ("wave_from", "id_from", "name_from", "location_from", "wave_to", "id_to",
                  "name_to", "location_to", "match", "similarity", "decision", "note")
TRANSITION_COLUMNS = ("from_wave", "to_wave", "from_phase", "to_phase", "count")
CHANGE_COLUMNS = ("from_wave", "to_wave", "direction", "measure", "label", "movers",
                  "before", "after", "gained", "dropped", "net_change")
SAME, DIFFERENT = "same", "different"


def name_similarity(a: str, b: str) -> float:
    """Jaccard index of the two names' word sets after normalising (0–1).

    Words rather than characters: partnership names share long generic endings ("Health
    Partnership"), which make character-based ratios high for different places.
    """
    x, y = set(normalise_label(a).split()), set(normalise_label(b).split())
    return len(x & y) / len(x | y) if x | y else 0.0


@dataclass(frozen=True)
class WavePartnerships:
    """One wave's partnerships for linking: ``frame`` has columns ``id``, ``name``,
    ``location`` (a tuple of choice names) and ``phase``; ``phase_order`` is empty when the
    wave's instrument has no phases."""

    wave: str
    frame: pd.DataFrame
    phase_order: tuple[str, ...]


@dataclass(frozen=True)
class Histories:
    links: pd.DataFrame
    review: pd.DataFrame


def link_partnerships(waves: Sequence[WavePartnerships], decisions: pd.DataFrame | None = None,
                      similarity: float = 0.7) -> Histories:
    """Link partnerships of consecutive waves, and across skipped waves by stable id.

    See the module docstring. Name candidates are proposed between consecutive waves only.

    Parameters
    ----------
    waves : sequence of WavePartnerships
        In wave order.
    decisions : pandas.DataFrame, optional
        Research staff's decisions: ``wave_from, id_from, wave_to, id_to, decision``.
    similarity : float
        Name similarity (0–1) from which a pair in an overlapping location is a candidate.

    Returns
    -------
    Histories
        ``links`` (:data:`LINK_COLUMNS`) and ``review`` (:data:`REVIEW_COLUMNS`, ``decision``
        blank for research staff to fill in).
    """
    decided: dict[tuple[str, str, str, str], str] = {}
    if decisions is not None:
        for row in decisions.itertuples(index=False):
            decided[(str(row.wave_from), str(row.id_from), str(row.wave_to),
                     str(row.id_to))] = str(row.decision).strip().lower()
    links: list[dict] = []
    review: list[dict] = []
    for before, after in pairwise(waves):
        a, b = before.frame, after.frame
        common = sorted(set(a["id"]) & set(b["id"]))
        links.extend({"wave_from": before.wave, "id_from": key, "wave_to": after.wave,
                      "id_to": key, "method": "stable_id"} for key in common)
        rest_a = a[~a["id"].isin(common)]
        rest_b = b[~b["id"].isin(common)]
        for x in rest_a.itertuples(index=False):
            for y in rest_b.itertuples(index=False):
                pair = (before.wave, str(x.id), after.wave, str(y.id))
                if decided.get(pair) == SAME:
                    # Research staff know more than the answers: a partnership may have
                    # moved or redrawn its area, so their decision needs no shared location.
                    links.append({"wave_from": before.wave, "id_from": x.id,
                                  "wave_to": after.wave, "id_to": y.id, "method": "confirmed"})
                    continue
                if not set(x.location) & set(y.location):
                    continue
                same_name = normalise_label(x.name) == normalise_label(y.name)
                score = 1.0 if same_name else name_similarity(x.name, y.name)
                if score < similarity or decided.get(pair) == DIFFERENT:
                    continue
                review.append({"wave_from": before.wave, "id_from": x.id, "name_from": x.name,
                               "location_from": " ".join(x.location), "wave_to": after.wave,
                               "id_to": y.id, "name_to": y.name,
                               "location_to": " ".join(y.location),
                               "match": "same_name_and_location" if same_name
                               else "similar_name_same_location",
                               "similarity": round(score, 3), "decision": "", "note": ""})
    links.extend(_links_across_gaps(waves))
    return Histories(links=pd.DataFrame(links, columns=list(LINK_COLUMNS)),
                     review=pd.DataFrame(review, columns=list(REVIEW_COLUMNS)))


def _links_across_gaps(waves: Sequence[WavePartnerships]) -> list[dict]:
    """Stable-id links from a partnership's answer to its next one after skipped waves."""
    ids = [set(w.frame["id"]) for w in waves]
    links: list[dict] = []
    for first, before in enumerate(waves):
        answered_since: set[str] = set()
        for later in range(first + 2, len(waves)):
            answered_since |= ids[later - 1]
            links.extend({"wave_from": before.wave, "id_from": key,
                          "wave_to": waves[later].wave, "id_to": key, "method": "stable_id"}
                         for key in sorted((ids[first] & ids[later]) - answered_since))
    return links


def _phases(waves: Sequence[WavePartnerships]) -> dict[str, Mapping[str, str]]:
    return {w.wave: dict(zip(w.frame["id"], w.frame["phase"].astype(str), strict=True))
            for w in waves}


def phase_transitions(waves: Sequence[WavePartnerships], links: pd.DataFrame) -> pd.DataFrame:
    """Counts of linked partnerships by phase in one wave and the next.

    Only pairs of waves whose instruments both have phases; every combination of the phases
    (and the unclassified group) appears, zero counts included, in developmental order.
    """
    phases = _phases(waves)
    info = {w.wave: w for w in waves}
    rows: list[dict] = []
    for (wave_from, wave_to), group in links.groupby(["wave_from", "wave_to"], sort=False):
        a, b = info[wave_from], info[wave_to]
        if not a.phase_order or not b.phase_order:
            continue
        pairs = pd.Series([(phases[wave_from][i], phases[wave_to][j])
                           for i, j in zip(group["id_from"], group["id_to"], strict=True)],
                          dtype=object)
        counts = pairs.value_counts()
        levels_a = list(a.phase_order) + sorted(set(phases[wave_from].values())
                                                - set(a.phase_order))
        levels_b = list(b.phase_order) + sorted(set(phases[wave_to].values())
                                                - set(b.phase_order))
        rows.extend({"from_wave": wave_from, "to_wave": wave_to, "from_phase": x,
                     "to_phase": y, "count": int(counts.get((x, y), 0))}
                    for x in levels_a for y in levels_b)
    return pd.DataFrame(rows, columns=list(TRANSITION_COLUMNS))


def changes_for_movers(waves: Sequence[WavePartnerships], links: pd.DataFrame,
                       indicators: Mapping[str, pd.DataFrame],
                       labels: Mapping[str, str]) -> pd.DataFrame:
    """Which measures changed for partnerships that moved phase between two waves.

    Parameters
    ----------
    waves, links
        As for :func:`phase_transitions`.
    indicators : mapping
        Wave → frame indexed by partnership id, one 0/1 column per measure (missing when
        unanswered); only measures comparable between the two waves should be given for both.
    labels : mapping
        Measure → label.

    Returns
    -------
    pandas.DataFrame
        Per wave pair, direction (``forward`` to a later phase, ``backward``) and measure:
        movers with an answer in both waves, how many had it before and after, gained,
        dropped and the net change.
    """
    phases = _phases(waves)
    info = {w.wave: w for w in waves}
    rows: list[dict] = []
    for (wave_from, wave_to), group in links.groupby(["wave_from", "wave_to"], sort=False):
        a, b = info[wave_from], info[wave_to]
        if not a.phase_order or not b.phase_order or wave_from not in indicators \
                or wave_to not in indicators:
            continue
        rank_a = {p: i for i, p in enumerate(a.phase_order)}
        rank_b = {p: i for i, p in enumerate(b.phase_order)}
        movers: dict[str, list[tuple[str, str]]] = {"forward": [], "backward": []}
        for i, j in zip(group["id_from"], group["id_to"], strict=True):
            x, y = phases[wave_from][i], phases[wave_to][j]
            if x in rank_a and y in rank_b and rank_a[x] != rank_b[y]:
                movers["forward" if rank_b[y] > rank_a[x] else "backward"].append((i, j))
        before_all, after_all = indicators[wave_from], indicators[wave_to]
        for measure in [m for m in before_all.columns if m in after_all.columns]:
            for direction, pairs in movers.items():
                if not pairs:
                    continue
                x = before_all[measure].reindex([i for i, _ in pairs]).to_numpy(dtype=float)
                y = after_all[measure].reindex([j for _, j in pairs]).to_numpy(dtype=float)
                both = ~(pd.isna(x) | pd.isna(y))
                x, y = x[both], y[both]
                rows.append({"from_wave": wave_from, "to_wave": wave_to,
                             "direction": direction, "measure": measure,
                             "label": labels.get(measure, measure), "movers": int(both.sum()),
                             "before": int(x.sum()), "after": int(y.sum()),
                             "gained": int(((x == 0) & (y == 1)).sum()),
                             "dropped": int(((x == 1) & (y == 0)).sum()),
                             "net_change": int(y.sum() - x.sum())})
    return pd.DataFrame(rows, columns=list(CHANGE_COLUMNS))
