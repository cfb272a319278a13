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


def chart_series(bundle: TrendsBundle, measure: str, threshold: int) -> dict[str, Any]:
    """The points of a trend chart of one measure (overall), grouped by series.

    Returns ``label``, ``series`` (a list of ``(series id, [(wave, Estimate, caveat mark)])``),
    ``caveats`` (the caveat texts the marks point to) and ``alt`` text listing every value.
    A wave whose count or base is below ``threshold`` is left out (too few to show).
    """
    rows = measure_rows(bundle, measure)
    if rows.empty:
        return {"label": "", "series": [], "caveats": [], "alt": ""}
    label = str(rows["label"].iloc[0])
    series: dict[str, list[tuple[str, Estimate, str]]] = {}
    notes: list[str] = []
    alt_parts = []
    for row in rows.itertuples(index=False):
        if not _publishable(row.n, row.base_n, threshold):
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
                          "significant": is_change, "text": text, "caveat": caveat})
    return sentences


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
    sentences = change_sentences(bundle, measures, wording, rule.threshold)
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
