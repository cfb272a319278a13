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

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from pipeline.columns import LINKED_PHASE_COLUMN
from pipeline.errors import PulsecheckError
from pipeline.ingest.readers import Platform
from pipeline.model import expressions
from pipeline.model.instrument import Instrument, Question
from pipeline.synthetic.answers import (
    KINDS,
    Batch,
    email_for,
    evaluate_where,
    generate_batch,
    quota,
    seeded_rng,
)
from pipeline.synthetic.profile import BY_PHASE, DEFAULT_KEY, SampleProfile

_ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
#: The kinds of platform metadata a profile's ``[metadata]`` table may name.
METADATA_KINDS = ("start", "end", "recorded", "status", "ip", "progress", "duration",
                  "finished", "response_id", "recipient_last", "recipient_first",
                  "recipient_email", "blank", "latitude", "longitude", "channel", "language")


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
        if kind not in KINDS:
            problems.append(f"unknown kind '{kind}' (known: {', '.join(sorted(KINDS))})")
            continue
        if not targets:
            problems.append(f"a '{kind}' entry names no question")
        problems.extend(f"'{target}' is not a question of the instrument"
                        for target in targets if target not in names)
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
                problems.extend(f"'{entry['name']}' rates use unknown phase groups "
                                f"{sorted(set(rates) - groups)}"
                                for rates in entry.get("rates", {}).values()
                                if not set(rates) <= groups)
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
        if settings.get("kind") not in METADATA_KINDS:
            problems.append(f"metadata column '{column}' has unknown kind "
                            f"'{settings.get('kind')}'")
    return problems


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
    return [str(c) for c in seeded_rng(profile.seed, seed_label).permutation(pool)]


def _inject(instrument: Instrument, profile: SampleProfile, batch: Batch,
            cells: list[list[str]], columns: Mapping[str, int], separator: str) -> set[int]:
    """Plant the profile's bad cells in the analysed rows (in place); returns rows used."""
    used: set[int] = set()
    rng = seeded_rng(profile.seed, "injections")
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
            ticked = (*batch.answers[name][row], entry["add_choice"])
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
    analysed_codes = [str(c) for c in seeded_rng(profile.seed, "phase").permutation(
        np.array(analysed_codes, dtype=object))]
    n_analysed = len(analysed_codes)
    n_extra = n_previews + n_partial + n_screened
    total = n_analysed + n_extra
    separator = platform.multiple_separator

    pinned = linked_overrides(instrument, profile, analysed_codes, linked) \
        if linked is not None and "linked_wave" in sections else {}
    analysed = generate_batch(instrument, profile, "analysed", analysed_codes, True, 0, total,
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
    extra = generate_batch(instrument, profile, "extra",
                            _phase_codes_for_extras(profile, n_extra, "extra phase"),
                            False, n_analysed, total, overrides)

    questions = list(instrument.answerable)
    columns = {q.name: i for i, q in enumerate(questions)}

    def cells_of(batch: Batch) -> list[list[str]]:
        return [[_format_answer(q, instrument, batch.answers[q.name][row], separator)
                 for q in questions] for row in range(batch.n)]

    analysed_cells = cells_of(analysed)
    extra_cells = cells_of(extra)
    injected = _inject(instrument, profile, analysed, analysed_cells, columns, separator)

    # Partial responses: answers only for the first part of the questionnaire.
    partial = sections["partial"]
    rng_partial = seeded_rng(profile.seed, "partial")
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
    rng_time = seeded_rng(profile.seed, "timing")
    first_day = datetime.strptime(timing["first_day"], "%Y-%m-%d")
    window = int(timing["days"]) * 86400

    def draw_duration() -> int:
        seconds = rng_time.lognormal(math.log(float(timing["duration_median_seconds"])),
                                     float(timing["duration_spread"]))
        return int(min(max(seconds, float(timing["duration_min_seconds"])),
                       float(timing["duration_max_seconds"])))

    earliest_dup = int(dup["days_earlier"][1]) * 86400
    rows: list[dict[str, Any]] = [
        {"kind": "analysed", "cells": analysed_cells[i], "person": analysed.people[i],
         "start": int(rng_time.integers(0, window)), "duration": draw_duration(),
         "progress": 100, "finished": True, "source": i}
        for i in range(n_analysed)]
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
    rng_dup = seeded_rng(profile.seed, "duplicates")
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
        (answers as choice names, tuples for select-multiple) and
        :data:`pipeline.columns.LINKED_PHASE_COLUMN`.

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
    rng = seeded_rng(profile.seed, "linked wave")
    source = linked.sort_values(key, kind="stable").reset_index(drop=True)
    # A partnership whose carried answers were invalid (missing) there does not recur: its
    # answers here could not be generated consistently.
    columns = [source[q] for q in [name, *carry]]
    complete = [all(not (v is None or v == () or (isinstance(v, float) and math.isnan(v)))
                    for v in values) for values in zip(*columns, strict=True)]
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
        table = transitions.get(str(record.get(LINKED_PHASE_COLUMN, "")), {})
        wanted: list[str] = []
        if table:
            codes = list(table)
            first = codes[int(rng.choice(len(codes), p=np.array([table[c] for c in codes],
                                                                dtype=float)
                                         / sum(table.values())))]
            wanted = [first, *sorted(codes, key=lambda c: -float(table[c]))]
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
        email = email_for(first, last, domain)
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
