"""Synthetic sample waves: a seeded, deterministic generator of a platform export.

The generator knows only generation *kinds* (a categorical answer, a check-all answer realised
as exact counts, an integer from weighted bands, shares that add up to a total, a role matrix,
identifiers and invented personal data). Which question uses which kind, and every
calibration number, live in a *sample profile* (TOML) next to the instrument, so the code
holds no question name, label, code or published figure.

A sample is built in batches of rows:

* the **analysed** batch, whose phase answers come in the exact counts of the profile and
  whose check-all totals are reconciled to the profile's published totals;
* an **extra** batch for submissions the wave's exclusion steps remove (previews, partial
  responses, groups screened out), plus copies of analysed rows as duplicate submissions.

Answers are generated as choice *names*; skip logic is applied by evaluating the instrument's
``relevant`` expressions (question and enclosing groups) with :mod:`pipeline.model.expressions`, and
only the export step turns names into the platform's codes. Every random draw comes from
``numpy.random.Generator(PCG64(...))`` seeded from the profile's seed and the name of what is
drawn, so output is byte-identical on every run and changing one question's settings leaves
the others' draws alone. Nothing reads the clock.
"""

from __future__ import annotations

import csv
import io
import json
import math
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from pipeline.model import expressions
from pipeline.errors import PulsecheckError
from pipeline.ingest.config import parse_toml
from pipeline.ingest.readers import Platform, read_checksums, write_checksums
from pipeline.model.instrument import Instrument, Question

#: The profile's default file name inside an instrument folder.
PROFILE_FILE = "sample_profile.toml"
#: Key of the fall-back entry in tables keyed by phase group or by answer.
DEFAULT_KEY = "default"
#: ``by`` value that keys a categorical table by phase group.
BY_PHASE = "phase"
_ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
#: Column of the linked wave's partnerships holding their phase answer (see ``linked_overrides``).
LINKED_PHASE = "_linked_phase"
_REQUIRED_SECTIONS = ("seed", "platform", "file", "phase", "screener", "partial", "previews",
                      "duplicates", "timing", "people", "metadata", "questions")


# --------------------------------------------------------------------------------------------
# Profile
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SampleProfile:
    """A sample profile as read from TOML (see ``sample_profile.toml``).

    Attributes
    ----------
    seed : int
        Root seed of every random draw.
    platform : str
        Name of the platform profile whose export layout is written.
    file : str
        File name of the export inside the output folder.
    sections : mapping
        The profile's remaining tables (``phase``, ``screener``, ``partial``, ``previews``,
        ``duplicates``, ``timing``, ``people``, ``metadata``), as read.
    questions : tuple of mapping
        The ``[[questions]]`` entries, in generation order.
    injections : tuple of mapping
        The ``[[injections]]`` entries: bad cells planted among the analysed rows.
    path : str
        Where the profile was read from (for messages).
    """

    seed: int
    platform: str
    file: str
    sections: Mapping[str, Any]
    questions: tuple[Mapping[str, Any], ...]
    injections: tuple[Mapping[str, Any], ...] = ()
    path: str = ""

    def section(self, name: str) -> Mapping[str, Any]:
        """One of the profile's tables (empty when absent)."""
        return self.sections.get(name, MappingProxyType({}))


def parse_profile(data: Mapping[str, Any], path: str = "") -> SampleProfile:
    """Build a :class:`SampleProfile` from parsed TOML (pure).

    Raises
    ------
    PulsecheckError
        ``SAMPLE_002`` when a required table or field is missing.
    """
    missing = [key for key in _REQUIRED_SECTIONS if key not in data]
    if missing:
        raise PulsecheckError("SAMPLE_002", file=path,
                              problem=f"missing {', '.join(missing)}")
    if not isinstance(data["file"], str) or Path(data["file"]).name != data["file"]:
        raise PulsecheckError("SAMPLE_002", file=path,
                              problem="'file' must be a plain file name")
    sections = {key: value for key, value in data.items()
                if key not in ("seed", "platform", "file", "questions", "injections")}
    return SampleProfile(
        seed=int(data["seed"]),
        platform=str(data["platform"]),
        file=str(data["file"]),
        sections=MappingProxyType(sections),
        questions=tuple(MappingProxyType(dict(entry)) for entry in data["questions"]),
        injections=tuple(MappingProxyType(dict(entry)) for entry in data.get("injections", [])),
        path=path,
    )


def read_profile(path: Path) -> SampleProfile:
    """Read a sample profile file.

    Raises
    ------
    PulsecheckError
        ``SAMPLE_001`` when the file is missing, ``CONF_001`` when it is not valid TOML,
        ``SAMPLE_002`` when it lacks a required table.
    """
    path = Path(path)
    if not path.is_file():
        raise PulsecheckError("SAMPLE_001", path=str(path))
    return parse_profile(parse_toml(path), str(path))


def check_profile(profile: SampleProfile, instrument: Instrument) -> list[str]:
    """Problems that make the profile unusable with this instrument (empty when sound).

    Checked: every named question exists and suits its kind, every choice name belongs to
    the question's list, phase counts use the phase question's choices, and injections name
    known questions with a parseable ``where``.
    """
    problems: list[str] = []
    names = {q.name for q in instrument.answerable}

    def choices_of(name: str) -> set[str]:
        return {c.name for c in instrument.choices_for(instrument.question(name))}

    phase_counts = profile.section("phase").get("counts", {})
    if not instrument.phase_question:
        # A version without a phase question gives the number of analysed rows instead.
        if "total" not in profile.section("phase"):
            problems.append("the instrument has no phase question, so [phase] needs 'total'")
    elif instrument.phase_question not in names:
        problems.append("the instrument names no phase question")
    else:
        unknown = set(phase_counts) - choices_of(instrument.phase_question)
        if unknown:
            problems.append(f"phase counts name unknown choices {sorted(unknown)}")
    groups = set(instrument.phase_order) | {instrument.unclassified, DEFAULT_KEY}
    for entry in profile.questions:
        kind = entry.get("kind", "")
        targets = list(entry.get("questions", [])) + ([entry["name"]] if "name" in entry else [])
        targets += list(entry.get("items", {}))
        if kind not in _KINDS:
            problems.append(f"unknown kind '{kind}' (known: {', '.join(sorted(_KINDS))})")
            continue
        if not targets:
            problems.append(f"a '{kind}' entry names no question")
        for target in targets:
            if target not in names:
                problems.append(f"'{target}' is not a question of the instrument")
        if any(t not in names for t in targets):
            continue
        if kind in ("categorical", "constant", "check_all", "coverage"):
            allowed = choices_of(entry["name"])
            used: set[str] = set()
            if kind == "constant":
                used = {entry.get("value", "")}
            elif kind == "categorical":
                for table in entry.get("probabilities", {}).values():
                    used |= set(table)
                by = entry.get("by", BY_PHASE)
                if by != BY_PHASE and by not in names:
                    problems.append(f"'{entry['name']}' is keyed by unknown question '{by}'")
            elif kind == "check_all":
                used = set(entry.get("rates", {})) | set(entry.get("totals", {}))
                if entry.get("fallback"):
                    used.add(entry["fallback"])
                for rates in entry.get("rates", {}).values():
                    if not set(rates) <= groups:
                        problems.append(f"'{entry['name']}' rates use unknown phase groups "
                                        f"{sorted(set(rates) - groups)}")
            else:
                used = set(entry.get("weights", {}))
            if used - allowed:
                problems.append(f"'{entry['name']}' uses unknown choices {sorted(used - allowed)}")
    for entry in profile.injections:
        if entry.get("question") not in names:
            problems.append(f"injection names unknown question '{entry.get('question')}'")
        if ("value" in entry) == ("add_choice" in entry):
            problems.append(f"injection for '{entry.get('question')}' needs exactly one of "
                            "'value' and 'add_choice'")
        try:
            expressions.parse(entry.get("where", "true()"))
        except expressions.ExpressionError as error:
            problems.append(f"injection 'where' does not parse: {error}")
    metadata = profile.section("metadata")
    for column, settings in metadata.items():
        if settings.get("kind") not in _METADATA_KINDS:
            problems.append(f"metadata column '{column}' has unknown kind "
                            f"'{settings.get('kind')}'")
    return problems


# --------------------------------------------------------------------------------------------
# Random draws and exact counts
# --------------------------------------------------------------------------------------------

def _rng(seed: int, *labels: str) -> np.random.Generator:
    """A generator seeded by the profile seed and stable labels (crc32, never ``hash``)."""
    keys = [seed] + [zlib.crc32(label.encode("utf-8")) for label in labels]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(keys)))


def _round(value: float) -> int:
    """Round half up (Python's ``round`` rounds half to even, which surprises calibrators)."""
    return int(math.floor(value + 0.5))


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
class _Batch:
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
        return _rng(self.profile.seed, self.label, *labels)

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
        answers[question.name] = [v if keep else None for v, keep in zip(column, mask)]


# --------------------------------------------------------------------------------------------
# Kinds: each fills one or more questions of a batch
# --------------------------------------------------------------------------------------------

def _kind_identifier(batch: _Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    # Drawn for the whole sample at once (seeded by the question, not the batch) so that
    # identifiers stay unique across batches.
    rng = _rng(batch.profile.seed, "identity", entry["name"])
    low, high = int(entry["low"]), int(entry["high"])
    if high - low + 1 < batch.total:
        raise PulsecheckError("SAMPLE_002", file=batch.profile.path,
                              problem=f"'{entry['name']}' has too few identifiers for "
                                      f"{batch.total} partnerships")
    numbers = rng.choice(np.arange(low, high + 1), size=batch.total, replace=False)
    chosen = numbers[batch.start: batch.start + batch.n]
    return {entry["name"]: [entry["pattern"].format(int(x)) for x in chosen]}


def _kind_org_name(batch: _Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    rng = _rng(batch.profile.seed, "identity", entry["name"])
    combos = [f"{place} {suffix}" for place in entry["places"] for suffix in entry["suffixes"]]
    order = rng.permutation(len(combos))
    names = [combos[i % len(combos)] + ("" if i < len(combos) else f" {i // len(combos) + 1}")
             for i in order.tolist() + list(range(len(combos), batch.total))]
    return {entry["name"]: names[batch.start: batch.start + batch.n]}


def _answered(batch: _Batch, entry: Mapping[str, Any], values: list[Any]) -> list[Any]:
    """Blank an optional answer for a share of rows (exact count, seeded positions)."""
    rate = float(entry.get("answer_rate", 1.0))
    keep = set(batch.rng(entry["name"], "answered").permutation(batch.n)[
        : _round(rate * batch.n)].tolist())
    return [v if i in keep else None for i, v in enumerate(values)]


def _kind_person_name(batch: _Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    return {entry["name"]: _answered(batch, entry, [f"{f} {l}" for f, l, _ in batch.people])}


def _email_for(first: str, last: str, domain: str) -> str:
    local = f"{first}.{last}".lower()
    # Keep the local part to plain ASCII letters, dots and hyphens.
    local = "".join(ch for ch in local.encode("ascii", "ignore").decode() if ch.isalnum()
                    or ch in ".-")
    return f"{local}@{domain}"


def _kind_email(batch: _Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    values = [_email_for(first, last, domain) for first, last, domain in batch.people]
    return {entry["name"]: _answered(batch, entry, values)}


def _kind_phone(batch: _Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    areas = batch.profile.section("people")["phone_area_codes"]
    rng = batch.rng(entry["name"])
    area = rng.integers(0, len(areas), size=batch.n)
    line = rng.integers(0, 100, size=batch.n)
    values = [f"{areas[a]}-555-01{int(x):02d}" for a, x in zip(area, line)]
    return {entry["name"]: _answered(batch, entry, values)}


def _kind_constant(batch: _Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    mask = batch.relevant(entry["name"])
    return {entry["name"]: [entry["value"] if m else None for m in mask]}


def _keys_for(batch: _Batch, entry: Mapping[str, Any]) -> list[Any]:
    """The key each row uses in a table keyed by phase group or by another question."""
    by = entry.get("by", BY_PHASE)
    return list(batch.groups) if by == BY_PHASE else list(batch.answers[by])


def _kind_categorical(batch: _Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    name = entry["name"]
    mask = batch.relevant(name)
    keys = _keys_for(batch, entry)
    table = entry["probabilities"]
    rng = batch.rng(name)
    values: list[Any] = [None] * batch.n
    for key in dict.fromkeys(k for k, m in zip(keys, mask) if m):
        rows = np.flatnonzero(mask & np.array([k == key for k in keys]))
        probabilities = _lookup(table, str(key))
        if probabilities is None:
            raise PulsecheckError("SAMPLE_002", file=batch.profile.path,
                                  problem=f"'{name}' has no probabilities for '{key}' and "
                                          f"no '{DEFAULT_KEY}'")
        choices = list(probabilities)
        counts = quota(len(rows), [probabilities[c] for c in choices])
        pool = np.repeat(np.arange(len(choices)), counts)
        for row, pick in zip(rows, rng.permutation(pool)):
            values[row] = choices[pick]
    return {name: values}


def _kind_bands(batch: _Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
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
        for row, band in zip(rows, pool):
            lo, hi = bands[band]
            steps = int(round((hi - lo) / step))
            value = lo + step * int(rng.integers(0, steps + 1))
            values[row] = int(round(value)) if integer else value
    return {name: values}


def _kind_coverage(batch: _Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
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


def _kind_shares(batch: _Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
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
    for row, k in zip(rows, rng.permutation(sizes)):
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
            for i, more in zip(members, spread):
                units[i] = focus_units + int(more)
        for i, n in enumerate(names):
            values[n][row] = int(units[i]) * step
    return values


def _kind_roles(batch: _Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
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
            lead = set(rng.permutation(active)[: _round(float(settings["lead_share"]) * k)].tolist())
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


def _kind_check_all(batch: _Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
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


def _kind_text_choice(batch: _Batch, entry: Mapping[str, Any]) -> dict[str, list[Any]]:
    name = entry["name"]
    mask = batch.relevant(name)
    texts = entry["texts"]
    picks = batch.rng(name).integers(0, len(texts), size=batch.n)
    return {name: [texts[p] if m else None for m, p in zip(mask, picks)]}


_KINDS: Mapping[str, Callable[[_Batch, Mapping[str, Any]], dict[str, list[Any]]]] = \
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


def _generate_batch(instrument: Instrument, profile: SampleProfile, label: str,
                    phase_codes: Sequence[str], calibrated: bool, start: int, total: int,
                    overrides: Mapping[int, Mapping[str, Any]] | None = None) -> _Batch:
    """Generate one batch of rows; ``overrides`` pins answers of given rows (by position)."""
    lookup = instrument.phase_lookup
    batch = _Batch(instrument=instrument, profile=profile, label=label, calibrated=calibrated,
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
    batch.people = [(people["first_names"][f], people["last_names"][l],
                     people["email_domains"][d]) for f, l, d in zip(firsts, lasts, domains)]
    for entry in profile.questions:
        produced = _KINDS[entry["kind"]](batch, entry)
        for name, column in produced.items():
            for row, pinned in (overrides or {}).items():
                if name in pinned:
                    column[row] = pinned[name]
            batch.answers[name] = column
    apply_skip_logic(instrument, batch.answers, batch.n)
    return batch


# --------------------------------------------------------------------------------------------
# The sample: rows, metadata and export layout
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SampleExport:
    """A generated export: header rows and data records, all strings.

    ``kinds`` says what each record is (``analysed``, ``duplicate``, ``preview``,
    ``partial``, ``screened_out``), in record order, for tests and summaries.
    """

    headers: tuple[tuple[str, ...], ...]
    records: tuple[tuple[str, ...], ...]
    kinds: tuple[str, ...]


def _format_answer(question: Question, instrument: Instrument, value: Any,
                   separator: str) -> str:
    """An answer as the platform's numeric export writes it."""
    if value is None:
        return ""
    if question.type == "select_one":
        return next(c.code for c in instrument.choices_for(question) if c.name == value)
    if question.type == "select_multiple":
        return separator.join(c.code for c in instrument.choices_for(question)
                              if c.name in value)
    if question.type in ("integer", "decimal"):
        number = float(value)
        return str(int(number)) if number.is_integer() else f"{number:g}"
    return str(value)


def _phase_codes_for_extras(profile: SampleProfile, n: int, seed_label: str) -> list[str]:
    counts = profile.section("phase").get("counts")
    if not counts:  # no phase question: every row's phase answer is empty
        return [""] * n
    codes = list(counts)
    split = quota(n, [counts[c] for c in codes])
    pool = np.repeat(np.array(codes, dtype=object), split)
    return [str(c) for c in _rng(profile.seed, seed_label).permutation(pool)]


def _inject(instrument: Instrument, profile: SampleProfile, batch: _Batch,
            cells: list[list[str]], columns: Mapping[str, int], separator: str) -> set[int]:
    """Plant the profile's bad cells in the analysed rows (in place); returns rows used."""
    used: set[int] = set()
    rng = _rng(profile.seed, "injections")
    for entry in profile.injections:
        name = entry["question"]
        where = evaluate_where(instrument, entry.get("where", "true()"), batch.answers, batch.n)
        answered = np.array([v is not None for v in batch.answers[name]])
        candidates = [r for r in np.flatnonzero(where & answered).tolist() if r not in used]
        if not candidates:
            raise PulsecheckError("SAMPLE_002", file=profile.path,
                                  problem=f"no analysed row fits the injection for '{name}'")
        row = candidates[int(rng.integers(0, len(candidates)))]
        used.add(row)
        column = columns[name]
        if "value" in entry:
            cells[row][column] = str(entry["value"])
        else:
            question = instrument.question(name)
            ticked = tuple(batch.answers[name][row]) + (entry["add_choice"],)
            cells[row][column] = _format_answer(question, instrument, ticked, separator)
    return used


def _response_ids(rng: np.random.Generator, n: int) -> list[str]:
    seen: set[str] = set()
    ids: list[str] = []
    while len(ids) < n:
        text = "R_" + "".join(_ALPHANUMERIC[i] for i in rng.integers(0, len(_ALPHANUMERIC), 15))
        if text not in seen:
            seen.add(text)
            ids.append(text)
    return ids


def generate_sample(instrument: Instrument, platform: Platform, profile: SampleProfile,
                    linked: pd.DataFrame | None = None) -> SampleExport:
    """Generate the whole synthetic export (pure: same inputs, same output).

    Parameters
    ----------
    instrument : Instrument
        The questionnaire; its phase question drives the phase counts.
    platform : Platform
        The export layout (metadata columns, separator for select-multiple answers).
    profile : SampleProfile
        What to generate (see ``sample_profile.toml``).
    linked : pandas.DataFrame, optional
        The analysed partnerships of another wave named by the profile's ``[linked_wave]``
        (read by :func:`pipeline.run.waves.read_linked_partnerships`): some of them recur in this
        sample (see :func:`linked_overrides`).

    Returns
    -------
    SampleExport
        Three header rows (column names, question text, import ids) and one record per
        submission, sorted by recorded date.

    Raises
    ------
    PulsecheckError
        ``SAMPLE_002`` when the profile does not fit the instrument.
    """
    problems = check_profile(profile, instrument)
    if problems:
        raise PulsecheckError("SAMPLE_002", file=profile.path, problem="; ".join(problems))
    sections = profile.sections
    counts = sections["phase"].get("counts") or {"": int(sections["phase"].get("total", 0))}
    n_previews = int(sections["previews"]["count"])
    n_partial = int(sections["partial"]["count"])
    n_screened = int(sections["screener"]["count"])
    dup = sections["duplicates"]
    n_dup = int(dup["count"])
    analysed_codes = [c for c in counts for _ in range(int(counts[c]))]
    analysed_codes = [str(c) for c in _rng(profile.seed, "phase").permutation(
        np.array(analysed_codes, dtype=object))]
    n_analysed = len(analysed_codes)
    n_extra = n_previews + n_partial + n_screened
    total = n_analysed + n_extra
    separator = platform.multiple_separator

    pinned = linked_overrides(instrument, profile, analysed_codes, linked) \
        if linked is not None and "linked_wave" in sections else {}
    analysed = _generate_batch(instrument, profile, "analysed", analysed_codes, True, 0, total,
                               pinned)
    keys = [k for k in analysed.answers[instrument.respondent_key] if k is not None]
    if len(set(keys)) != len(keys):
        raise PulsecheckError("SAMPLE_002", file=profile.path,
                              problem="a recurring partnership's identifier is also drawn for a "
                                      "new one: give new identifiers a range of their own")
    screener = sections["screener"]
    extra_kinds = ["preview"] * n_previews + ["partial"] * n_partial + \
        ["screened_out"] * n_screened
    overrides = {i: {screener["question"]: screener["fails"]}
                 for i, kind in enumerate(extra_kinds) if kind == "screened_out"}
    extra = _generate_batch(instrument, profile, "extra",
                            _phase_codes_for_extras(profile, n_extra, "extra phase"),
                            False, n_analysed, total, overrides)

    questions = list(instrument.answerable)
    columns = {q.name: i for i, q in enumerate(questions)}

    def cells_of(batch: _Batch) -> list[list[str]]:
        return [[_format_answer(q, instrument, batch.answers[q.name][row], separator)
                 for q in questions] for row in range(batch.n)]

    analysed_cells = cells_of(analysed)
    extra_cells = cells_of(extra)
    injected = _inject(instrument, profile, analysed, analysed_cells, columns, separator)

    # Partial responses: answers only for the first part of the questionnaire.
    partial = sections["partial"]
    rng_partial = _rng(profile.seed, "partial")
    progress: dict[int, int] = {}
    for i, kind in enumerate(extra_kinds):
        if kind == "partial":
            share = int(rng_partial.integers(int(partial["min_progress"]),
                                             int(partial["max_progress"]) + 1))
            cut = max(1, (share * len(questions)) // 100)
            extra_cells[i][cut:] = [""] * (len(questions) - cut)
            progress[i] = (cut * 100) // len(questions)

    # Timing and metadata for every submission.
    timing = sections["timing"]
    rng_time = _rng(profile.seed, "timing")
    first_day = datetime.strptime(timing["first_day"], "%Y-%m-%d")
    window = int(timing["days"]) * 86400

    def draw_duration() -> int:
        seconds = rng_time.lognormal(math.log(float(timing["duration_median_seconds"])),
                                     float(timing["duration_spread"]))
        return int(min(max(seconds, float(timing["duration_min_seconds"])),
                       float(timing["duration_max_seconds"])))

    rows: list[dict[str, Any]] = []
    earliest_dup = int(dup["days_earlier"][1]) * 86400
    for i in range(n_analysed):
        rows.append({"kind": "analysed", "cells": analysed_cells[i], "person": analysed.people[i],
                     "start": int(rng_time.integers(0, window)), "duration": draw_duration(),
                     "progress": 100, "finished": True, "source": i})
    for i, kind in enumerate(extra_kinds):
        duration = draw_duration()
        if kind == "partial":
            duration = max(60, duration * progress[i] // 100)
        rows.append({"kind": kind, "cells": extra_cells[i], "person": extra.people[i],
                     "start": int(rng_time.integers(0, window)), "duration": duration,
                     "progress": progress.get(i, 100), "finished": kind != "partial"})

    # Duplicates: earlier, less complete copies of analysed rows that are fully answered in
    # the questions the copy leaves blank and late enough to have an earlier twin.
    blank = [columns[name] for name in dup["blank"]]
    candidates = [r for r in range(n_analysed) if r not in injected
                  and all(analysed_cells[r][c] for c in blank)
                  and rows[r]["start"] >= earliest_dup]
    rng_dup = _rng(profile.seed, "duplicates")
    if len(candidates) < n_dup:
        raise PulsecheckError("SAMPLE_002", file=profile.path,
                              problem="too few analysed rows can have a duplicate")
    for source in sorted(rng_dup.choice(candidates, size=n_dup, replace=False).tolist()):
        cells = list(analysed_cells[source])
        for c in blank:
            cells[c] = ""
        days = int(rng_dup.integers(int(dup["days_earlier"][0]), int(dup["days_earlier"][1]) + 1))
        start = rows[source]["start"] - days * 86400 - int(rng_dup.integers(0, 3600))
        rows.append({"kind": "duplicate", "cells": cells, "person": analysed.people[source],
                     "start": max(0, start), "duration": draw_duration(), "progress": 100,
                     "finished": True, "source": source})

    records = _metadata_records(profile, platform, rows, first_day, rng_time)
    order = sorted(range(len(rows)), key=lambda i: (records[i]["recorded"], i))
    metadata = sections["metadata"]
    meta_columns = list(platform.metadata)
    header_names = tuple(meta_columns + [q.name for q in questions])
    header_labels = tuple([metadata[c]["label"] for c in meta_columns] +
                          [q.label for q in questions])
    header_ids = tuple([_import_id(metadata[c], timing) for c in meta_columns] +
                       [_question_import_id(q, position)
                        for position, q in enumerate(questions, start=1)])
    data = tuple(tuple([records[i][c] for c in meta_columns] + rows[i]["cells"]) for i in order)
    return SampleExport(headers=(header_names, header_labels, header_ids), records=data,
                        kinds=tuple(rows[i]["kind"] for i in order))


def linked_overrides(instrument: Instrument, profile: SampleProfile,
                     phase_codes: Sequence[str], linked: pd.DataFrame
                     ) -> dict[int, dict[str, Any]]:
    """Which analysed rows are partnerships of the linked wave, and the answers they keep.

    Parameters
    ----------
    instrument : Instrument
        This sample's instrument (its respondent key is the stable identifier).
    profile : SampleProfile
        Its ``[linked_wave]`` table: ``count`` partnerships of the linked wave recur; the first
        ``without_stable_id`` of them answer with a new identifier (same name and carried
        answers, so only a name and place match can link them); ``lookalikes`` new
        partnerships get the name of a non-recurring linked partnership with
        ``lookalike_prefix`` in front and its carried answers (a near match that is *not* the
        same partnership); ``transitions`` gives, per phase answer in the linked wave, the
        probabilities of this wave's phase answer.
    phase_codes : sequence of str
        The phase answer of each analysed row, already drawn (counts stay exact: a recurring
        partnership takes a row whose answer is its drawn next answer, or the nearest free one).
    linked : pandas.DataFrame
        One row per linked partnership: the respondent key, ``name`` and ``carry`` questions
        (answers as choice names, tuples for select-multiple) and :data:`LINKED_PHASE`.

    Returns
    -------
    dict
        Row position → pinned answers (question name → value).
    """
    settings = profile.section("linked_wave")
    key = instrument.respondent_key
    name = settings["name"]
    carry = list(settings.get("carry", ()))
    count = min(int(settings.get("count", 0)), len(linked), len(phase_codes))
    without_id = int(settings.get("without_stable_id", 0))
    transitions = settings.get("transitions", {})
    rng = _rng(profile.seed, "linked wave")
    source = linked.sort_values(key, kind="stable").reset_index(drop=True)
    # A partnership whose carried answers were invalid (missing) there does not recur: its
    # answers here could not be generated consistently.
    complete = [all(not (v is None or v == () or (isinstance(v, float) and math.isnan(v)))
                    for v in values) for values in zip(*(source[q] for q in [name, *carry]))]
    source = source[complete].reset_index(drop=True)
    # Only partnerships whose answers lie within ``restrict`` may recur (e.g. a wave that
    # covered fewer places than the linked one).
    for question, allowed in settings.get("restrict", {}).items():
        inside = [set(v if isinstance(v, tuple) else (v,)) <= set(allowed)
                  for v in source[question]]
        source = source[inside].reset_index(drop=True)
    chosen = rng.permutation(len(source))
    free = [int(i) for i in rng.permutation(len(phase_codes))]
    pinned: dict[int, dict[str, Any]] = {}

    def take(wanted: Sequence[str]) -> int:
        for code in wanted:
            for row in free:
                if phase_codes[row] == code:
                    free.remove(row)
                    return row
        return free.pop(0)

    for position, index in enumerate(chosen[:count]):
        record = source.iloc[int(index)]
        table = transitions.get(str(record.get(LINKED_PHASE, "")), {})
        wanted: list[str] = []
        if table:
            codes = list(table)
            first = codes[int(rng.choice(len(codes), p=np.array([table[c] for c in codes],
                                                                dtype=float)
                                         / sum(table.values())))]
            wanted = [first] + sorted(codes, key=lambda c: -float(table[c]))
        row = take(wanted)
        answers = {name: record[name], **{q: record[q] for q in carry}}
        if position >= without_id:
            answers[key] = record[key]
        pinned[row] = answers
    prefix = str(settings.get("lookalike_prefix", ""))
    for index in chosen[count: count + int(settings.get("lookalikes", 0))]:
        record = source.iloc[int(index)]
        row = free.pop(0)
        pinned[row] = {name: f"{prefix} {record[name]}".strip(),
                       **{q: record[q] for q in carry}}
    return pinned


def _import_id(settings: Mapping[str, Any], timing: Mapping[str, Any]) -> str:
    payload = {"ImportId": settings["import_id"]}
    if settings.get("time_zone"):
        payload["timeZone"] = timing["time_zone"]
    return json.dumps(payload, separators=(",", ":"))


def _question_import_id(question: Question, position: int) -> str:
    suffix = "_TEXT" if question.type == "text" else ""
    return json.dumps({"ImportId": f"QID{position}{suffix}"}, separators=(",", ":"))


_METADATA_KINDS = ("start", "end", "recorded", "status", "ip", "progress", "duration",
                   "finished", "response_id", "recipient_last", "recipient_first",
                   "recipient_email", "blank", "latitude", "longitude", "channel", "language")


def _metadata_records(profile: SampleProfile, platform: Platform, rows: list[dict[str, Any]],
                      first_day: datetime, rng: np.random.Generator) -> list[dict[str, str]]:
    """Platform metadata for every row, keyed by platform column (plus ``recorded`` sort key)."""
    sections = profile.sections
    timing, people, previews = sections["timing"], sections["people"], sections["previews"]
    channels = timing["channels"]
    names = list(channels)
    channel_picks = rng.choice(len(names), size=len(rows),
                               p=np.array([channels[c] for c in names]) / sum(channels.values()))
    ids = _response_ids(rng, len(rows))
    networks = people["ip_networks"]
    by_source: dict[int, str] = {}
    result = []
    for i, row in enumerate(rows):
        start = first_day + timedelta(seconds=row["start"])
        end = start + timedelta(seconds=row["duration"])
        recorded = end if row["finished"] else end + timedelta(
            days=int(timing["partial_recorded_after_days"]))
        if row["kind"] == "preview":
            channel = previews["channel"]
        elif row["kind"] == "duplicate":
            channel = by_source[row["source"]]
        else:
            channel = names[channel_picks[i]]
        if "source" in row and row["kind"] == "analysed":
            by_source[row["source"]] = channel
        first, last, domain = row["person"]
        # Invitations went by email to a named contact; anonymous links and previews carry
        # no recipient.
        invited = channel not in (previews["channel"], timing["anonymous_channel"])
        email = _email_for(first, last, domain)
        ip = f"{networks[int(rng.integers(0, len(networks)))]}.{int(rng.integers(1, 255))}"
        latitude = rng.uniform(*people["latitude"])
        longitude = rng.uniform(*people["longitude"])
        values = {
            "start": start.strftime(_DATE_FORMAT),
            "end": end.strftime(_DATE_FORMAT),
            "recorded": recorded.strftime(_DATE_FORMAT),
            "status": str(previews["status"]) if row["kind"] == "preview"
            else str(timing["finished_status"]),
            "ip": ip,
            "progress": str(row["progress"]),
            "duration": str(row["duration"]),
            "finished": "1" if row["finished"] else "0",
            "response_id": ids[i],
            "recipient_last": last if invited else "",
            "recipient_first": first if invited else "",
            "recipient_email": email if invited else "",
            "blank": "",
            "latitude": f"{latitude:.4f}",
            "longitude": f"{longitude:.4f}",
            "channel": channel,
            "language": str(timing["language"]),
        }
        record = {column: values[settings["kind"]]
                  for column, settings in sections["metadata"].items()}
        missing = [c for c in platform.metadata if c not in record]
        if missing:
            raise PulsecheckError("SAMPLE_002", file=profile.path,
                                  problem=f"no metadata settings for {', '.join(missing)}")
        record["recorded"] = values["recorded"]
        result.append(record)
    return result


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------

def render_csv(sample: SampleExport, encoding: str = "utf-8-sig") -> bytes:
    """The export as bytes: every field quoted, CRLF line ends, with a byte-order mark."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerows(sample.headers)
    writer.writerows(sample.records)
    return buffer.getvalue().encode(encoding)


def write_sample(sample: SampleExport, folder: Path, file_name: str,
                 encoding: str = "utf-8-sig") -> Path:
    """Write the export into ``folder`` and record its sha256 in the folder's SHA256SUMS.

    Entries of other files already in SHA256SUMS are kept (when the files still exist).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / file_name
    target.write_bytes(render_csv(sample, encoding))
    names = {name for name in read_checksums(folder) if (folder / name).exists()}
    write_checksums(folder, sorted(names | {file_name}))
    return target
