"""Trend report content: what the trends summary, workbook and notebook say (pure).

Everything is decided from the files :func:`pipeline.run.waves.run_waves` wrote into the trends
folder (a :class:`TrendsBundle`) and wording kept as data (``reports/trends/wording.toml``,
``[trends]`` of ``reports/report.toml``). Rules that keep the trends honest:

* every number printed is a cell of ``trends.csv``, ``trend_changes.csv`` or
  ``transitions.csv`` (percentages rounded for display only);
* only a change whose adjusted test is significant is called a change;
* every caveat travels with the numbers: all of ``caveats.csv`` is printed;
* transition counts below the disclosure threshold are shown as ``<k``
  (:class:`pipeline.stats.disclosure.DisclosureRule` semantics) and no margin is printed that
  would let a hidden count be worked out;
* ``histories_review.csv`` (partnership names) is never read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import pandas as pd

from pipeline.report.charts import Estimate
from pipeline.report.content import fill
from pipeline.stats.disclosure import DisclosureRule

#: How an interval method is named in the methods text.
_METHOD_NAMES = {"wilson": "Wilson", "wilson_cc": "continuity-corrected Wilson",
                 "clopper_pearson": "Clopper–Pearson"}

#: The phase level of the overall rows of ``trends.csv``.
ALL = "All"
#: The comparability flag of a wave whose numbers carry a caveat.
WITH_CAVEAT = "comparable_with_caveat"


@dataclass(frozen=True)
class TrendsBundle:
    """What a trends folder holds for rendering.

    Read by :func:`pipeline.report.html.load_trends`.
    """

    manifest: Mapping[str, Any]
    trends: pd.DataFrame
    changes: pd.DataFrame
    trend_tests: pd.DataFrame
    caveats: pd.DataFrame
    transitions: pd.DataFrame
    movers: pd.DataFrame


def pct_text(value: float) -> str:
    """A percentage as printed (whole numbers)."""
    return f"{value:.0f}"


def _true(value: Any) -> bool:
    return str(value).strip().lower() in ("true", "1", "1.0")


def waves(bundle: TrendsBundle) -> list[str]:
    """The waves of the trends folder, in order."""
    return sorted(bundle.trends["wave"].astype(str).unique())


def measure_rows(bundle: TrendsBundle, measure: str, phase: str = ALL) -> pd.DataFrame:
    """The rows of one measure and phase, by wave."""
    t = bundle.trends
    rows = t[(t["measure"] == measure) & (t["phase"].astype(str) == phase)]
    return rows.sort_values("wave", kind="stable")


def chart_series(bundle: TrendsBundle, measure: str, threshold: int,
                 phase: str = ALL) -> dict[str, Any]:
    """The points of a trend chart of one measure and phase, grouped by series.

    Returns ``label``, ``series`` (a list of ``(series id, [(wave, Estimate, caveat mark)])``),
    ``caveats`` (the caveat texts the marks point to) and ``alt`` text listing every value.
    A wave whose count or base is below ``threshold`` is left out (too few to show).
    """
    rows = measure_rows(bundle, measure, phase)
    if rows.empty:
        return {"label": "", "series": [], "caveats": [], "alt": ""}
    label = str(rows["label"].iloc[0])
    series: dict[str, list[tuple[str, Estimate, str]]] = {}
    notes: list[str] = []
    alt_parts = []
    for row in rows.itertuples(index=False):
        if not _publishable(row.n, row.base_n, threshold) or _true(
                getattr(row, "suppressed", False)):
            continue
        mark = ""
        if str(row.comparability) == WITH_CAVEAT and isinstance(row.caveat, str) \
                and row.caveat:
            if row.caveat not in notes:
                notes.append(row.caveat)
            mark = "†" * (notes.index(row.caveat) + 1)
        estimate = Estimate(str(row.wave), float(row.pct), _num(row.ci_low), _num(row.ci_high))
        series.setdefault(str(row.series), []).append((str(row.wave), estimate, mark))
        alt_parts.append(f"{row.wave} {pct_text(row.pct)}% ({pct_text(row.ci_low)}–"
                         f"{pct_text(row.ci_high)}){mark}")
    return {"label": label, "series": list(series.items()), "caveats": notes,
            "alt": "; ".join(alt_parts)}


def phase_order(bundle: TrendsBundle) -> list[str]:
    """The phases of the trends folder in the order ``trends.csv`` gives them (no overall)."""
    return [p for p in dict.fromkeys(bundle.trends["phase"].astype(str)) if p != ALL]


def _series_name(points: Sequence[tuple[str, Estimate, str]]) -> str:
    first, last = points[0][0], points[-1][0]
    return first if first == last else f"{first}–{last}"


def trend_chart_spec(bundle: TrendsBundle, measure: str, phases: Sequence[str],
                     wording: Mapping[str, Any], threshold: int,
                     explanation: Sequence[str]) -> dict[str, Any] | None:
    """One chart of the trends summary: the measure overall and in the given phases.

    Every line is named in plain words (all partnerships, a phase, and the waves a series
    covers where the question changed), never by a series number. Returns ``None`` when no
    point may be printed. ``explanation`` is the sentences printed with the chart: a chart
    is never shown without them.

    Returns
    -------
    dict
        ``measure``, ``phases``, ``label``, ``lines`` (``(legend label, group, points)``,
        the group being ``All`` or a phase, for its colour), ``alt``, ``caveats``, ``breaks``
        and ``explanation``.
    """
    names = wording["charts"]
    lines: list[tuple[str, str, list[tuple[str, Estimate, str]]]] = []
    caveats: list[str] = []
    alts: list[str] = []
    breaks = False
    label = ""
    for group in [ALL, *[p for p in phases if p != ALL]]:
        drawn = chart_series(bundle, measure, threshold, group)
        if not drawn["series"]:
            continue
        label = label or drawn["label"]
        who = names["overall"] if group == ALL else fill(names["phase"], phase=group)
        several = len(drawn["series"]) > 1
        breaks = breaks or several
        for note in drawn["caveats"]:
            if note not in caveats:
                caveats.append(note)
        for _, points in drawn["series"]:
            # The caveat marks are renumbered over the whole chart.
            marked = [(w, e, "†" * (caveats.index(c) + 1) if m else "")
                      for (w, e, m), c in zip(points, _mark_texts(points, drawn), strict=True)]
            name = fill(names["series"], who=who, waves=_series_name(points)) if several \
                else who
            lines.append((name, group, marked))
        alts.append(f"{who}: {drawn['alt']}")
    if not lines:
        return None
    return {"measure": measure, "phases": [g for _, g, _ in lines], "label": label,
            "lines": lines, "alt": "; ".join(alts), "caveats": caveats, "breaks": breaks,
            "explanation": list(explanation)}


def _mark_texts(points: Sequence[tuple[str, Estimate, str]],
                drawn: Mapping[str, Any]) -> list[str]:
    """The caveat text each point's mark stands for ("" where it has none)."""
    return [drawn["caveats"][len(m) - 1] if m else "" for _, _, m in points]


def _num(value: Any) -> float:
    return math.nan if value is None or pd.isna(value) else float(value)


def _publishable(n: Any, base: Any, threshold: int) -> bool:
    """Whether a percentage may be printed: its count and base reach the threshold.

    Notes
    -----
    Trend rows are not run through complementary suppression (they are shares of whole
    waves or phases); a percentage of a group smaller than the threshold is simply not
    printed (A-TREND-2).
    """
    return not (pd.isna(n) or pd.isna(base)) and int(base) >= threshold \
        and (int(n) == 0 or int(n) >= threshold) and int(base) - int(n) >= 0


def change_sentences(bundle: TrendsBundle, measures: Sequence[str],
                     wording: Mapping[str, Any], threshold: int) -> list[dict[str, Any]]:
    """Plain-language sentences from ``trend_changes.csv``.

    One sentence per consecutive pair of waves for each key measure (overall), then every
    other significant change (any measure, any phase). A significant change is called a rise
    or a fall; any other difference is reported as "no significant change". Numbers are the
    rounded ``pct_from``, ``pct_to`` and ``difference`` of the row.
    """
    changes = bundle.changes
    if changes.empty:
        return []
    significant = changes["significant"].map(_true)
    keyed = changes["measure"].isin(list(measures)) & (changes["phase"].astype(str) == ALL)
    chosen = changes[keyed | significant].copy()
    chosen["_key"] = chosen["measure"].map({m: i for i, m in enumerate(measures)}) \
        .fillna(len(measures))
    chosen = chosen.sort_values(["_key", "measure", "phase", "from_wave"], kind="stable")
    templates = wording["changes"]
    sentences = []
    for row in chosen.itertuples(index=False):
        phase_rows = bundle.trends[(bundle.trends["measure"] == row.measure)
                                   & (bundle.trends["phase"].astype(str) == str(row.phase))]
        cells = phase_rows.set_index(phase_rows["wave"].astype(str))
        ok = all(_publishable(cells.loc[w, "n"], cells.loc[w, "base_n"], threshold)
                 for w in (str(row.from_wave), str(row.to_wave)) if w in cells.index)
        if not ok:
            continue
        is_change = _true(row.significant)
        key = ("rise" if row.difference > 0 else "fall") if is_change else "no_change"
        who = "" if str(row.phase) == ALL else \
            fill(templates["phase"], phase=row.phase)
        text = fill(
            templates[key],
            label=row.label, who=who, from_wave=row.from_wave, to_wave=row.to_wave,
            pct_from=pct_text(row.pct_from), pct_to=pct_text(row.pct_to),
            difference=pct_text(abs(row.difference)))
        caveat = row.caveat if isinstance(row.caveat, str) and row.caveat else ""
        sentences.append({"measure": row.measure, "phase": str(row.phase),
                          "significant": is_change, "text": text, "caveat": caveat,
                          "label": str(row.label), "family": str(row.family),
                          "from_wave": str(row.from_wave), "to_wave": str(row.to_wave),
                          "pct_from": pct_text(row.pct_from), "pct_to": pct_text(row.pct_to),
                          "difference": float(row.difference)})
    return sentences


def brief_lines(sentences: Sequence[Mapping[str, Any]], wording: Mapping[str, Any]
                ) -> list[str]:
    """The three lines the trends summary opens with: what rose, what fell, the rest.

    Each measure with a significant change is named once, with its overall change and the
    phases that changed with it; the numbers are those of its sentences (rounded cells of
    ``trend_changes.csv``).
    """
    text = wording["brief"]
    lines = []
    for direction, positive in (("rose", True), ("fell", False)):
        # label → (overall changes, changes within a phase): the overall ones first.
        items: dict[str, tuple[list[str], list[str]]] = {}
        for s in sentences:
            if not s["significant"] or (s["difference"] > 0) != positive:
                continue
            values = fill(text["values"], pct_from=s["pct_from"], pct_to=s["pct_to"],
                          from_wave=s["from_wave"], to_wave=s["to_wave"])
            overall, within = items.setdefault(s["label"], ([], []))
            if s["phase"] == ALL:
                overall.append(values)
            else:
                within.append(fill(text["in_phase"], phase=s["phase"], values=values))
        if items:
            named = "; ".join(f"{label} {', '.join([*overall, *within])}"
                              for label, (overall, within) in items.items())
            lines.append(fill(text[direction], items=named))
        else:
            lines.append(text[f"none_{direction}"])
    lines.append(text["rest"])
    return lines


def _not_compared(bundle: TrendsBundle, measure: str, wording: Mapping[str, Any],
                  threshold: int) -> list[str]:
    """The sentence of a charted measure that no test compares (its series never meet)."""
    drawn = chart_series(bundle, measure, threshold)
    if not drawn["series"]:
        return []
    values = "; ".join(f"{e.label} {pct_text(e.value)}%" for _, points in drawn["series"]
                       for _, e, _ in points)
    return [fill(wording["changes"]["not_compared"], label=drawn["label"], values=values)]


def story(bundle: TrendsBundle, measures: Sequence[str], wording: Mapping[str, Any],
          threshold: int) -> dict[str, Any]:
    """What the trends summary says, in the order it says it.

    ``brief`` (three lines), ``changed`` (one chart per measure with a significant change:
    the measure overall and in every phase that changed significantly, explained by the
    sentences of those changes, largest change first) and ``groups`` (the other key
    measures by family, each chart with its sentences). Every significant change is in a
    chart's explanation, and no chart is without one.
    """
    sentences = change_sentences(bundle, measures, wording, threshold)
    by_measure: dict[str, list[Mapping[str, Any]]] = {}
    for s in sentences:
        by_measure.setdefault(s["measure"], []).append(s)
    changed_measures = sorted(
        (m for m, ss in by_measure.items() if any(s["significant"] for s in ss)),
        key=lambda m: -max(abs(s["difference"]) for s in by_measure[m] if s["significant"]))
    changed = []
    for measure in changed_measures:
        own = [s for s in by_measure[measure] if s["significant"]]
        own += [s for s in by_measure[measure] if not s["significant"] and s["phase"] == ALL]
        phases = [s["phase"] for s in own if s["phase"] != ALL]
        chart = trend_chart_spec(bundle, measure, phases, wording, threshold,
                                 [s["text"] for s in own])
        changed.append({"measure": measure, "chart": chart, "sentences": own})
    groups: dict[str, list[dict[str, Any]]] = {}
    for measure in measures:
        if measure in changed_measures:
            continue
        own = by_measure.get(measure, [])
        explanation = [s["text"] for s in own] or _not_compared(bundle, measure, wording,
                                                                threshold)
        chart = trend_chart_spec(bundle, measure, [], wording, threshold, explanation) \
            if explanation else None
        family = str(measure_rows(bundle, measure)["family"].iloc[0])
        groups.setdefault(family, []).append(
            {"measure": measure, "chart": chart, "sentences": own,
             "explanation": explanation})
    return {"brief": brief_lines(sentences, wording), "changed": changed,
            "groups": [{"family": f, "items": items} for f, items in groups.items()],
            "sentences": sentences}


def summary_lead(sentences: Sequence[Mapping[str, Any]], wording: Mapping[str, Any]) -> str:
    """The sentence before the list: whether any significant change was found."""
    changed = sum(1 for s in sentences if s["significant"])
    return wording["changes"]["lead_some"] if changed else wording["changes"]["lead_none"]


def transition_matrix(bundle: TrendsBundle, rule: DisclosureRule
                      ) -> list[dict[str, Any]]:
    """Phase transitions per pair of waves as printed: counts, small ones as ``<k``.

    Zero counts are printed (a zero discloses nothing about a recognisable partnership
    unless ``rule.suppress_zeros``); no row or column totals are printed, so a hidden count
    cannot be recovered by subtraction.
    """
    frame = bundle.transitions
    if frame.empty:
        return []
    symbol = rule.symbol.format(k=rule.threshold)
    out = []
    for (first, second), group in frame.groupby(["from_wave", "to_wave"], sort=True):
        froms = list(dict.fromkeys(group["from_phase"].astype(str)))
        tos = list(dict.fromkeys(group["to_phase"].astype(str)))
        counts = {(str(a), str(b)): int(c) for a, b, c in
                  zip(group["from_phase"], group["to_phase"], group["count"], strict=True)}

        def shown(count: int) -> str:
            if count == 0:
                return symbol if rule.suppress_zeros else "0"
            return symbol if count < rule.threshold else str(count)

        out.append({"from_wave": str(first), "to_wave": str(second), "columns": tos,
                    "rows": [{"phase": a, "cells": [shown(counts.get((a, b), 0)) for b in tos]}
                             for a in froms]})
    return out


def caveat_list(bundle: TrendsBundle) -> list[dict[str, str]]:
    """Every caveat of ``caveats.csv``, one entry per distinct text with what it concerns.

    The general caveat (its ``measure`` in parentheses) comes first; the others list the
    measures and waves they concern, so no caveat is lost by grouping.
    """
    frame = bundle.caveats
    out: dict[str, dict[str, list[str]]] = {}
    for row in frame.itertuples(index=False):
        text = str(row.caveat)
        entry = out.setdefault(text, {"measures": [], "waves": []})
        if str(row.measure).startswith("("):
            continue
        label = str(row.label) if str(row.label) not in ("", "nan") else str(row.measure)
        if label not in entry["measures"]:
            entry["measures"].append(label)
        span = f"{row.from_wave}–{row.to_wave}" if str(row.from_wave) not in ("", "nan") \
            else ""
        if span and span not in entry["waves"]:
            entry["waves"].append(span)
    return [{"text": text, "measures": "; ".join(e["measures"]),
             "waves": ", ".join(e["waves"])} for text, e in out.items()]


def trends_content(bundle: TrendsBundle, config: Mapping[str, Any],
                   wording: Mapping[str, Any], rule: DisclosureRule) -> dict[str, Any]:
    """Everything the trends summary shows except the chart images."""
    measures = [m for m in config.get("key_measures", [])
                if m in set(bundle.trends["measure"])]
    missing = [m for m in config.get("key_measures", []) if m not in measures]
    told = story(bundle, measures, wording, rule.threshold)
    sentences = told["sentences"]
    text = wording["document"]
    trend_settings = bundle.manifest.get("settings", {}).get("trends", {})
    level = float(trend_settings.get("level", 0.95))
    method = str(trend_settings.get("ci_method", "wilson"))
    return {
        "level": f"{100 * level:g}%",
        "title": text["title"],
        "subtitle": fill(text["subtitle"], waves=", ".join(waves(bundle))),
        "synthetic": wording["synthetic"]["banner"]
        if bundle.manifest.get("synthetic") else "",
        "intro": text["intro"],
        "lead": summary_lead(sentences, wording),
        "brief": told["brief"],
        "changed": told["changed"],
        "groups": told["groups"],
        "sentences": sentences,
        "measures": measures,
        "missing": [fill(wording["missing"]["measure"], measure=m) for m in missing],
        "transitions": transition_matrix(bundle, rule),
        "transitions_intro": fill(
            wording["transitions"]["intro"],
            threshold=rule.threshold, symbol=rule.symbol.format(k=rule.threshold)),
        "methods": [fill(p, threshold=rule.threshold, level=f"{100 * level:g}",
                         ci_method=_METHOD_NAMES.get(method, method))
                    for p in wording["methods"]["text"]],
        "caveats": caveat_list(bundle),
        "waves": [{"wave": w["wave"], "instrument": w["instrument"],
                   "analysed": w.get("counts", {}).get("analysed", "")}
                  for w in bundle.manifest.get("waves", [])],
    }


def wide_view(rows: pd.DataFrame) -> pd.DataFrame:
    """One measure's rows with waves as columns: n, %, interval per wave and phase.

    Rows: phase (overall first); columns: ``<wave> n``, ``<wave> %``, ``<wave> interval``.
    For the analyst notebook and the workbook; prints every cell (analyst numbers).
    """
    columns: dict[str, dict[str, Any]] = {}
    phases = list(dict.fromkeys([ALL, *rows["phase"].astype(str)]))
    for wave in sorted(rows["wave"].astype(str).unique()):
        part = rows[rows["wave"].astype(str) == wave].set_index(
            rows.loc[rows["wave"].astype(str) == wave, "phase"].astype(str))
        columns[f"{wave} n"] = {p: f"{int(part.loc[p, 'n'])}/{int(part.loc[p, 'base_n'])}"
                                for p in part.index}
        columns[f"{wave} %"] = {p: f"{part.loc[p, 'pct']:.1f}" for p in part.index}
        columns[f"{wave} interval"] = {
            p: f"{part.loc[p, 'ci_low']:.1f}–{part.loc[p, 'ci_high']:.1f}" for p in part.index}
    view = pd.DataFrame(columns).reindex([p for p in phases if p in
                                          set(rows["phase"].astype(str))])
    view.index.name = "phase"
    return view.fillna("")
