"""Generated answers: seeded draws, exact counts and the generation kinds that fill a batch of rows.

Answers are held as choice *names* (tuples for select-multiple questions); skip logic is applied
by evaluating the instrument's ``relevant`` expressions with :mod:`pipeline.model.expressions`.
Every draw comes from a generator seeded by the profile's seed and the name of what is drawn.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from pipeline.errors import PulsecheckError
from pipeline.model import expressions
from pipeline.model.instrument import Instrument, Question
from pipeline.synthetic.profile import BY_PHASE, DEFAULT_KEY, SampleProfile

# --------------------------------------------------------------------------------------------
# Random draws and exact counts
# --------------------------------------------------------------------------------------------

def seeded_rng(seed: int, *labels: str) -> np.random.Generator:
    """A generator seeded by the profile seed and stable labels (crc32, never ``hash``)."""
    keys = [seed] + [zlib.crc32(label.encode("utf-8")) for label in labels]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(keys)))


def _round(value: float) -> int:
    """Round half up (Python's ``round`` rounds half to even, which surprises calibrators)."""
    return math.floor(value + 0.5)


def quota(n: int, weights: Sequence[float]) -> np.ndarray:
    """Split ``n`` into counts proportional to ``weights`` (largest remainder, exact sum).

    Ties in the remainders go to the earlier entry, so the split is deterministic.
    """
    w = np.asarray(weights, dtype=float)
    if n <= 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=int)
    raw = w / w.sum() * n
    counts = np.floor(raw).astype(int)
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[: n - counts.sum()]] += 1
    return counts


def reconcile(expected: Mapping[str, float], capacity: Mapping[str, int], total: int
              ) -> dict[str, int]:
    """Round per-group expected counts so that they add up to ``total`` exactly.

    Groups whose rounding lost most gain first; those that gained most lose first.
    """
    counts = {g: min(capacity[g], _round(e)) for g, e in expected.items()}
    ordered = sorted(expected)
    while sum(counts.values()) < total:
        open_groups = [g for g in ordered if counts[g] < capacity[g]]
        if not open_groups:
            break
        best = max(open_groups, key=lambda g: expected[g] - counts[g])
        counts[best] += 1
    while sum(counts.values()) > total:
        open_groups = [g for g in ordered if counts[g] > 0]
        best = min(open_groups, key=lambda g: expected[g] - counts[g])
        counts[best] -= 1
    return counts


def _top_k(rng: np.random.Generator, weights: np.ndarray, k: int) -> np.ndarray:
    """Positions of a weighted sample of ``k`` without replacement (Gumbel top-k)."""
    if k <= 0:
        return np.zeros(0, dtype=int)
    keys = np.log(np.asarray(weights, dtype=float)) + rng.gumbel(size=len(weights))
    return np.argsort(-keys, kind="stable")[:k]


def _lookup(table: Mapping[str, Any], key: str) -> Any:
    return table[key] if key in table else table.get(DEFAULT_KEY)


# --------------------------------------------------------------------------------------------
# A batch of generated rows
# --------------------------------------------------------------------------------------------

@dataclass
class Batch:
    """Rows under construction: answers by question (choice names; tuples for multiples)."""

    instrument: Instrument
    profile: SampleProfile
    label: str
    calibrated: bool
    groups: list[str]
    start: int
    total: int
    answers: dict[str, list[Any]] = field(default_factory=dict)
    #: (first name, last name, email domain) of each row's respondent.
    people: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.groups)

    def rng(self, *labels: str) -> np.random.Generator:
        return seeded_rng(self.profile.seed, self.label, *labels)

    def relevant(self, name: str) -> np.ndarray:
        """Rows where the question is asked, given the answers so far."""
        return relevant_mask(self.instrument, self.instrument.question(name), self.answers,
                             self.n)

    def by_group(self, mask: np.ndarray) -> list[tuple[str, np.ndarray]]:
        """Row positions per phase group (groups in first-seen order), within ``mask``."""
        groups = np.asarray(self.groups, dtype=object)
        order = list(dict.fromkeys(self.groups))
        return [(g, np.flatnonzero(mask & (groups == g))) for g in order]


class _Answers:
    """The :class:`pipeline.model.expressions.Context` over answers held as choice names."""

    def __init__(self, instrument: Instrument, answers: Mapping[str, list[Any]], n: int):
        self.instrument = instrument
        self.answers = answers
        self.index = pd.RangeIndex(n)

    def _column(self, name: str | None) -> list[Any]:
        if name is None or name not in self.answers:
            return [None] * len(self.index)
        return self.answers[name]

    def value(self, name: str | None) -> pd.Series:
        column = self._column(name)
        kind = self.instrument.question(name).type if name in self.answers else "text"
        if kind in ("integer", "decimal"):
            return pd.Series([np.nan if v is None else float(v) for v in column],
                             index=self.index, dtype=float)
        if kind == "select_multiple":
            return pd.Series([" ".join(v) if v else "" for v in column], index=self.index,
                             dtype=object)
        return pd.Series(["" if v is None else str(v) for v in column], index=self.index,
                         dtype=object)

    def selected(self, name: str | None, choice: str) -> pd.Series:
        column = self._column(name)
        return pd.Series([bool(v) and (choice in v if isinstance(v, tuple) else v == choice)
                          for v in column], index=self.index, dtype=bool)

    def count_selected(self, name: str | None) -> pd.Series:
        column = self._column(name)
        return pd.Series([len(v) if isinstance(v, tuple) else (0 if v is None else 1)
                          for v in column], index=self.index, dtype=float)


def evaluate_where(instrument: Instrument, text: str, answers: Mapping[str, list[Any]],
                   n: int) -> np.ndarray:
    """Evaluate an XLSForm expression on generated answers; a boolean array per row."""
    context = _Answers(instrument, answers, n)
    result = expressions.evaluate_bool(expressions.parse(text), context, context.index)
    return result.to_numpy(dtype=bool, copy=True)


def relevant_mask(instrument: Instrument, question: Question,
                  answers: Mapping[str, list[Any]], n: int) -> np.ndarray:
    """Rows where every skip-logic condition of the question (and its groups) holds."""
    mask = np.ones(n, dtype=bool)
    for condition in question.conditions:
        mask &= evaluate_where(instrument, condition, answers, n)
    return mask


def apply_skip_logic(instrument: Instrument, answers: dict[str, list[Any]], n: int) -> None:
    """Blank every answer that skip logic hides, in instrument order (in place)."""
    for question in instrument.answerable:
        mask = relevant_mask(instrument, question, answers, n)
        column = answers[question.name]
        answers[question.name] = [v if keep else None for v, keep in zip(column, mask, strict=True)]


# --------------------------------------------------------------------------------------------
# Kinds: each fills one or more questions of a batch
# --------------------------------------------------------------------------------------------

def _kind_identifier(batch: Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    # Drawn for the whole sample at once (seeded by the question, not the batch) so that
    # identifiers stay unique across batches.
    rng = seeded_rng(batch.profile.seed, "identity", entry["name"])
    low, high = int(entry["low"]), int(entry["high"])
    if high - low + 1 < batch.total:
        raise PulsecheckError("SAMPLE_002", file=batch.profile.path,
                              problem=f"'{entry['name']}' has too few identifiers for "
                                      f"{batch.total} partnerships")
    numbers = rng.choice(np.arange(low, high + 1), size=batch.total, replace=False)
    chosen = numbers[batch.start: batch.start + batch.n]
    return {entry["name"]: [entry["pattern"].format(int(x)) for x in chosen]}


def _kind_org_name(batch: Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    rng = seeded_rng(batch.profile.seed, "identity", entry["name"])
    combos = [f"{place} {suffix}" for place in entry["places"] for suffix in entry["suffixes"]]
    order = rng.permutation(len(combos))
    names = [combos[i % len(combos)] + ("" if i < len(combos) else f" {i // len(combos) + 1}")
             for i in order.tolist() + list(range(len(combos), batch.total))]
    return {entry["name"]: names[batch.start: batch.start + batch.n]}


def _answered(batch: Batch, entry: Mapping[str, Any], values: list[Any]) -> list[Any]:
    """Blank an optional answer for a share of rows (exact count, seeded positions)."""
    rate = float(entry.get("answer_rate", 1.0))
    keep = set(batch.rng(entry["name"], "answered").permutation(batch.n)[
        : _round(rate * batch.n)].tolist())
    return [v if i in keep else None for i, v in enumerate(values)]


def _kind_person_name(batch: Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    names = [f"{first} {last}" for first, last, _ in batch.people]
    return {entry["name"]: _answered(batch, entry, names)}


def email_for(first: str, last: str, domain: str) -> str:
    local = f"{first}.{last}".lower()
    # Keep the local part to plain ASCII letters, dots and hyphens.
    local = "".join(ch for ch in local.encode("ascii", "ignore").decode() if ch.isalnum()
                    or ch in ".-")
    return f"{local}@{domain}"


def _kind_email(batch: Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    values = [email_for(first, last, domain) for first, last, domain in batch.people]
    return {entry["name"]: _answered(batch, entry, values)}


def _kind_phone(batch: Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    areas = batch.profile.section("people")["phone_area_codes"]
    rng = batch.rng(entry["name"])
    area = rng.integers(0, len(areas), size=batch.n)
    line = rng.integers(0, 100, size=batch.n)
    values = [f"{areas[a]}-555-01{int(x):02d}" for a, x in zip(area, line, strict=True)]
    return {entry["name"]: _answered(batch, entry, values)}


def _kind_constant(batch: Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    mask = batch.relevant(entry["name"])
    return {entry["name"]: [entry["value"] if m else None for m in mask]}


def _keys_for(batch: Batch, entry: Mapping[str, Any]) -> list[Any]:
    """The key each row uses in a table keyed by phase group or by another question."""
    by = entry.get("by", BY_PHASE)
    return list(batch.groups) if by == BY_PHASE else list(batch.answers[by])


def _kind_categorical(batch: Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    name = entry["name"]
    mask = batch.relevant(name)
    keys = _keys_for(batch, entry)
    table = entry["probabilities"]
    rng = batch.rng(name)
    values: list[Any] = [None] * batch.n
    for key in dict.fromkeys(k for k, m in zip(keys, mask, strict=True) if m):
        rows = np.flatnonzero(mask & np.array([k == key for k in keys]))
        probabilities = _lookup(table, str(key))
        if probabilities is None:
            raise PulsecheckError("SAMPLE_002", file=batch.profile.path,
                                  problem=f"'{name}' has no probabilities for '{key}' and "
                                          f"no '{DEFAULT_KEY}'")
        choices = list(probabilities)
        counts = quota(len(rows), [probabilities[c] for c in choices])
        pool = np.repeat(np.arange(len(choices)), counts)
        for row, pick in zip(rows, rng.permutation(pool), strict=True):
            values[row] = choices[pick]
    return {name: values}


def _kind_bands(batch: Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    name = entry["name"]
    mask = batch.relevant(name)
    step = float(entry.get("step", 1))
    bands = [(float(lo), float(hi)) for lo, hi in entry["bands"]]
    rng = batch.rng(name)
    integer = batch.instrument.question(name).type == "integer"
    values: list[Any] = [None] * batch.n
    for group, rows in batch.by_group(mask):
        weights = _lookup(entry["weights"], group)
        counts = quota(len(rows), weights)
        pool = rng.permutation(np.repeat(np.arange(len(bands)), counts))
        for row, band in zip(rows, pool, strict=True):
            lo, hi = bands[band]
            steps = round((hi - lo) / step)
            value = lo + step * int(rng.integers(0, steps + 1))
            values[row] = round(value) if integer else value
    return {name: values}


def _kind_coverage(batch: Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    name = entry["name"]
    mask = batch.relevant(name)
    weights = entry["weights"]
    choices = list(weights)
    w = np.array([float(weights[c]) for c in choices])
    rng = batch.rng(name)
    rule = entry.get("multi_when", {})
    low, high = entry.get("multi_count", [1, 1])
    multi = np.array([bool(rule) and v == rule["value"] for v in batch.answers[rule["question"]]]
                     ) if rule else np.zeros(batch.n, dtype=bool)
    values: list[Any] = [None] * batch.n
    singles = rng.permutation(np.flatnonzero(mask & ~multi))
    # Every listed choice appears at least once (when there are enough rows), so the set of
    # choices seen is exactly the profile's list.
    first = rng.permutation(len(choices))
    for position, row in enumerate(singles):
        pick = first[position] if position < len(choices) else _top_k(rng, w, 1)[0]
        values[row] = (choices[pick],)
    for row in np.flatnonzero(mask & multi):
        k = int(rng.integers(int(low), int(high) + 1))
        values[row] = tuple(choices[i] for i in sorted(_top_k(rng, w, k)))
    return {name: values}


def _kind_shares(batch: Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    names = list(entry["questions"])
    mask = batch.relevant(names[0])
    rng = batch.rng("shares", *names)
    step = int(entry.get("step", 1))
    total_units = int(entry["total"]) // step
    focus_units = math.ceil(float(entry["focus_threshold"]) / step)
    # The largest non-focus share: the biggest multiple of the step below the threshold.
    minor_units = focus_units - 1
    mix = entry["mix"]
    few = {int(k): float(v) for k, v in entry["few_sizes"].items()}
    area_w = np.array([float(entry["area_weights"][n]) for n in names])
    rows = np.flatnonzero(mask)
    counts = quota(len(rows), [mix["single"], mix["few"], mix["all"]])
    few_sizes = np.repeat(list(few), quota(int(counts[1]), list(few.values())))
    sizes = np.concatenate([np.ones(counts[0], dtype=int), few_sizes,
                            np.full(counts[2], len(names), dtype=int)])
    values = {n: [None] * batch.n for n in names}
    for row, k in zip(rows, rng.permutation(sizes), strict=True):
        focus = set(_top_k(rng, area_w, int(k)).tolist())
        units = np.zeros(len(names), dtype=int)
        for i in range(len(names)):
            if i not in focus:
                units[i] = int(rng.integers(0, minor_units + 1))
        remainder = total_units - units.sum()
        members = sorted(focus)
        extra = remainder - focus_units * len(members)
        if extra < 0:  # too much on minor areas: give them nothing rather than break the sum
            units[:] = 0
            extra = total_units - focus_units * len(members)
        if len(members) == 1:
            units[members[0]] = total_units - units.sum()
        else:
            spread = rng.multinomial(extra, [1 / len(members)] * len(members))
            for i, more in zip(members, spread, strict=True):
                units[i] = focus_units + int(more)
        for i, n in enumerate(names):
            values[n][row] = int(units[i]) * step
    return values


def _kind_roles(batch: Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    items = entry["items"]
    names = list(items)
    mask = batch.relevant(names[0])
    rng = batch.rng("roles", *names)
    # A log-normal breadth weight per row: broad partnerships are more likely to have any
    # given item active, while each item's active count stays exact.
    breadth = np.exp(rng.normal(0.0, float(entry.get("breadth_spread", 0.0)), size=batch.n))
    shifts = entry.get("phase_shift", {})
    values = {n: [None] * batch.n for n in names}
    for group, rows in batch.by_group(mask):
        m = len(rows)
        shift = float(shifts.get(group, shifts.get(DEFAULT_KEY, 0.0)))
        for n in names:
            settings = items[n]
            share = min(1.0, max(0.0, float(settings["active_share"]) + shift))
            k = _round(share * m)
            active = rows[_top_k(rng, breadth[rows], k)]
            n_lead = _round(float(settings["lead_share"]) * k)
            lead = set(rng.permutation(active)[:n_lead].tolist())
            rest = np.setdiff1d(rows, active)
            involved = set(rng.permutation(rest)[
                : _round(float(settings["involved_share"]) * len(rest))].tolist())
            active_rows = set(active.tolist())
            for row in rows:
                if row in lead:
                    values[n][row] = entry["role_lead"]
                elif row in active_rows:
                    values[n][row] = entry["role_active"]
                elif row in involved:
                    values[n][row] = entry["role_involved"]
                else:
                    values[n][row] = entry["role_absent"]
    return values


def _kind_check_all(batch: Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    name = entry["name"]
    mask = batch.relevant(name)
    rates = entry["rates"]
    totals = entry.get("totals", {}) if batch.calibrated else {}
    rng = batch.rng(name)
    order = [c.name for c in batch.instrument.choices_for(batch.instrument.question(name))]
    picked: list[set[str]] = [set() for _ in range(batch.n)]
    groups = batch.by_group(mask)
    for choice in rates:
        expected = {g: float(_lookup(rates[choice], g) or 0.0) * len(rows) for g, rows in groups}
        capacity = {g: len(rows) for g, rows in groups}
        if choice in totals:
            counts = reconcile(expected, capacity, int(totals[choice]))
        else:
            counts = {g: _round(e) for g, e in expected.items()}
        for group, rows in groups:
            for row in rng.permutation(rows)[: counts[group]]:
                picked[row].add(choice)
    fallback = entry.get("fallback")
    values: list[Any] = [None] * batch.n
    for row in np.flatnonzero(mask):
        chosen = picked[row]
        if not chosen:
            # A required check-all needs a tick: the exclusive "none" when the list has one,
            # otherwise the choice most common in the row's group.
            top = fallback or max(rates, key=lambda c: float(_lookup(rates[c], batch.groups[row])
                                                             or 0.0))
            chosen = {top}
        values[row] = tuple(c for c in order if c in chosen)
    return {name: values}


def _kind_text_choice(batch: Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    name = entry["name"]
    mask = batch.relevant(name)
    texts = entry["texts"]
    picks = batch.rng(name).integers(0, len(texts), size=batch.n)
    return {name: [texts[p] if m else None for m, p in zip(mask, picks, strict=True)]}


KINDS: Mapping[str, Callable[[Batch, Mapping[str, Any]], dict[str, list[Any]]]] = \
    MappingProxyType({
        "identifier": _kind_identifier,
        "org_name": _kind_org_name,
        "person_name": _kind_person_name,
        "email": _kind_email,
        "phone": _kind_phone,
        "constant": _kind_constant,
        "categorical": _kind_categorical,
        "bands": _kind_bands,
        "coverage": _kind_coverage,
        "shares": _kind_shares,
        "roles": _kind_roles,
        "check_all": _kind_check_all,
        "text_choice": _kind_text_choice,
    })


def generate_batch(instrument: Instrument, profile: SampleProfile, label: str,
                    phase_codes: Sequence[str], calibrated: bool, start: int, total: int,
                    overrides: Mapping[int, Mapping[str, Any]] | None = None) -> Batch:
    """Generate one batch of rows; ``overrides`` pins answers of given rows (by position)."""
    lookup = instrument.phase_lookup
    batch = Batch(instrument=instrument, profile=profile, label=label, calibrated=calibrated,
                   groups=[lookup.get(c, instrument.unclassified) for c in phase_codes],
                   start=start, total=total)
    batch.answers = {q.name: [None] * batch.n for q in instrument.answerable}
    if instrument.phase_question:
        batch.answers[instrument.phase_question] = list(phase_codes)
    people = profile.section("people")
    rng = batch.rng("people")
    firsts = rng.integers(0, len(people["first_names"]), size=batch.n)
    lasts = rng.integers(0, len(people["last_names"]), size=batch.n)
    domains = rng.integers(0, len(people["email_domains"]), size=batch.n)
    batch.people = [(people["first_names"][first], people["last_names"][last],
                     people["email_domains"][domain])
                    for first, last, domain in zip(firsts, lasts, domains, strict=True)]
    for entry in profile.questions:
        produced = KINDS[entry["kind"]](batch, entry)
        for name, column in produced.items():
            for row, pinned in (overrides or {}).items():
                if name in pinned:
                    column[row] = pinned[name]
            batch.answers[name] = column
    apply_skip_logic(instrument, batch.answers, batch.n)
    return batch
