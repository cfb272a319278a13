"""Partnership pages: what one partnership's "where you stand" page says (pure).

A page is sent to one partnership. It shows that partnership's own answers beside the
published shares of its phase peers, and the advice the Pulse Check report gave for its phase.
Rules that make a page safe to send:

* every share on the page is a cell of a *published* table (:meth:`RunBundle.table`): a cell
  hidden there — a count below the disclosure threshold, or a cell hidden so that such a count
  cannot be worked out from the published totals — stays hidden, shown by the one published
  mark. A page adds no totals of its own, so it needs no further hiding; showing a cell the
  tables hide would undo their protection for anyone holding both;
* the only answers on a page are the partnership's own; nothing on it describes any other
  partnership;
* a partnership that is not placed in a phase (unclassified, or a wave that did not ask) is
  compared with all partnerships, and the page claims no phase for it.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import pandas as pd

from pipeline.report.content import (
    ALL,
    RunBundle,
    applies_to,
    cell,
    fill,
    not_asked,
    pct_text,
    ranked_items,
    topic,
)


def partner_ids(bundle: RunBundle) -> list[str]:
    """The partnerships that get a page (every analysed partnership, in key order)."""
    if bundle.partnerships is None:
        return []
    key = bundle.context["respondent_key"]
    return sorted(bundle.partnerships[key].astype(str).unique())


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) \
        or bool(pd.isna(value))


def _ticked(value: Any) -> bool:
    return not _missing(value) and str(value).strip().lower() in ("1", "1.0", "true")


def _level_key(value: Any) -> str | None:
    """An answer as the tables name its level (``3.0`` read from a CSV is level ``3``)."""
    if _missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _published(row: pd.Series | None) -> bool:
    """Whether a published cell has a share to print (a hidden cell has none)."""
    return row is not None and not bool(row.get("suppressed", False)) \
        and not _missing(row.get("pct"))


def _share(row: pd.Series | None, symbol: str) -> dict[str, Any]:
    """A peer share as a page prints it: the text and the bar width (none when hidden)."""
    if not _published(row):
        return {"pct": None, "text": symbol}
    value = float(row["pct"])
    return {"pct": round(min(max(value, 0.0), 100.0), 1), "text": f"{pct_text(value)}%"}


def _levels(table: pd.DataFrame) -> list[tuple[str, str]]:
    """(level, label) of a single-choice table in the instrument's order."""
    body = table[table["row_type"].eq("level") & table["col_level"].eq(ALL)]
    return list(dict.fromkeys(zip(body["row_level"].astype(str),
                                  body["row_label"].astype(str), strict=True)))


def _base(table: pd.DataFrame, column: str) -> int | None:
    """The published base of ``column`` (partnerships answering), when printed."""
    body = table[table["row_type"].isin(["level", "item"]) & table["col_level"].eq(column)]
    bases = pd.to_numeric(body["base_n"], errors="coerce").dropna()
    return int(bases.iloc[0]) if len(bases) else None


def _spec(bundle: RunBundle, table_id: str) -> Mapping[str, Any]:
    return next(t for t in bundle.context["tables"] if t["id"] == table_id)


def placement(bundle: RunBundle, phase: str, layout: Mapping[str, Any],
              text: Mapping[str, str]) -> tuple[str, str]:
    """The page's opening sentence and the column of the tables it compares with.

    The column is the partnership's phase when the wave asked for phases, the partnership is
    placed in one and the number of partnerships in that phase is published; otherwise it is
    ``All``. The sentence never calls an unplaced partnership part of a phase.
    """
    order = list(bundle.context["phase_order"])
    basis = str(bundle.context.get("basis") or "self")
    phase_table = layout.get("charts", {}).get("phases", {}).get("table")
    if not bundle.has_phases or not bundle.has(phase_table):
        # The wave did not ask for a phase: there is no count of phase peers to print.
        return text["phase_not_asked"], ALL
    distribution = bundle.table(phase_table)
    total = _base(distribution, ALL)
    if phase not in order:
        return fill(text[f"unclassified_{basis}"], base=total), ALL
    own = cell(distribution, phase)
    if not _published(own):
        return fill(text[f"phase_hidden_{basis}"], phase=phase, base=total), ALL
    return fill(text[f"phase_{basis}"], phase=phase, n=int(own["n"]),
                base=int(own["base_n"])), phase


def characteristics(bundle: RunBundle, own: pd.Series, column: str,
                    layout: Mapping[str, Any], wording: Mapping[str, Any],
                    symbol: str) -> list[dict[str, Any]]:
    """The partnership's answer to each characteristic of ``[partner] characteristics`` and
    the published shares of every answer among its peers (``column``)."""
    text = wording["partner"]
    blocks = []
    for table_id in layout.get("partner", {}).get("characteristics", []):
        if not bundle.has(table_id):
            continue  # named once in the note of :func:`characteristics_not_asked`
        spec = _spec(bundle, table_id)
        table = bundle.table(table_id)
        answer = _level_key(own.get(spec["row"]))
        rows = []
        for level, label in _levels(table):
            rows.append({"label": label, "yours": level == answer,
                         **_share(cell(table, level, column), symbol)})
        yours = next((r["label"] for r in rows if r["yours"]), text["not_answered"])
        blocks.append({"title": spec["title"], "answer": yours, "rows": rows,
                       "base": _base(table, column), "note": ""})
    return blocks


def characteristics_not_asked(bundle: RunBundle, layout: Mapping[str, Any],
                              wording: Mapping[str, Any]) -> str:
    """One line naming the characteristics this wave did not ask about (empty when none)."""
    missing = [topic(layout, t) for t in layout.get("partner", {}).get("characteristics", [])
               if not bundle.has(t)]
    if not missing:
        return ""
    listed = missing[0] if len(missing) == 1 else \
        f"{', '.join(missing[:-1])} or {missing[-1]}"
    return fill(wording["partner"]["characteristics_not_asked"], topics=listed)


def checklists(bundle: RunBundle, own: pd.Series, column: str,
               layout: Mapping[str, Any], wording: Mapping[str, Any],
               symbol: str) -> list[dict[str, Any]]:
    """Each checklist of ``[partner] tables``: the items the partnership named, and the
    published share of its peers (``column``) naming each, most common overall first."""
    sections = []
    for table_id in layout.get("partner", {}).get("tables", []):
        if not bundle.has(table_id):
            sections.append({"title": "", "rows": [], "base": None,
                             "note": not_asked(layout, wording, table_id)})
            continue
        table = bundle.table(table_id)
        columns = bundle.context["items"].get(table_id, {})
        rows = [{"item": label, "yours": _ticked(own.get(columns[level])),
                 **_share(cell(table, level, column), symbol)}
                for level, label in ranked_items(table) if level in columns]
        sections.append({"title": _spec(bundle, table_id)["title"], "rows": rows,
                         "base": _base(table, column), "note": ""})
    return sections


def advice(bundle: RunBundle, phase: str, recommendations: Mapping[str, Any] | None,
           wording: Mapping[str, Any]) -> dict[str, Any]:
    """What the quoted report recommends for the partnership's phase (and for all phases).

    Quoted only in a wave whose instrument the report analysed (``instruments`` of the
    recommendations file), and the phase advice only for a partnership placed in that phase.
    """
    text = wording["partner"]
    context = bundle.context
    if not recommendations:
        return {"phase": None, "all_phases": None, "note": ""}
    if not applies_to(recommendations, str(context["instrument"]["version"])):
        return {"phase": None, "all_phases": None,
                "note": fill(text["not_quoted"],
                             report_year=recommendations.get("report_year", ""),
                             year=context["instrument"]["year"])}
    sources = recommendations.get("sources", {})

    def cite(entry: Mapping[str, Any]) -> str:
        return str(sources.get(entry.get("source", ""), entry.get("source", "")))

    general = recommendations.get("all_phases")
    found = next((p for p in recommendations.get("phases", []) if p["phase"] == phase), None)
    placed = bundle.has_phases and phase in context["phase_order"]
    return {
        "phase": {"heading": fill(text["advice_heading"], phase=phase),
                  "lead": found["preamble"], "actions": list(found["actions"]),
                  "source": cite(found)} if placed and found else None,
        "all_phases": {"heading": text["advice_all_heading"], "text": general["text"],
                       "source": cite(general)} if general else None,
        "note": "" if placed else text["advice_unplaced"],
    }


def partner_content(bundle: RunBundle, partnership: str, layout: Mapping[str, Any],
                    wording: Mapping[str, Any],
                    recommendations: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """One partnership's "where you stand" page.

    Parameters
    ----------
    bundle : RunBundle
        The run folder with its partnerships read (``load_run(..., with_partnerships=True,
        view="published")``); shares are taken from the published tables only.
    partnership : str
        The partnership's id.
    layout, wording, recommendations : mapping
        ``reports/report.toml``, ``reports/funder/wording.toml`` and
        ``reports/funder/recommendations.toml`` as read (``recommendations`` may be left out:
        then the page quotes no advice).
    """
    context = bundle.context
    key = context["respondent_key"]
    frame = bundle.partnerships
    own = frame[frame[key].astype(str) == partnership].iloc[0]
    phase = str(own["phase_group"])
    text = wording["partner"]
    symbol = str(context["settings"].get("published_symbol") or "[c]")
    opening, column = placement(bundle, phase, layout, text)
    peers = fill(text["peers_phase"], phase=column) if column != ALL else text["peers_all"]
    return {
        "title": wording["document"]["partner_title"],
        "survey_title": context["title"],
        "partnership": partnership,
        "phase": column if column != ALL else "",
        "peers": peers,
        "intro_phase": opening,
        "intro": text["intro"] if column != ALL else text["intro_all"],
        "headings": {k: fill(text[k], peers=peers) for k in
                     ("characteristics_heading", "characteristics_lead", "checklists_lead")},
        "yours": text["yours"],
        "not_yours": text["not_yours"],
        "yours_marker": text["yours_marker"],
        "characteristics": characteristics(bundle, own, column, layout, wording, symbol),
        "characteristics_note": characteristics_not_asked(bundle, layout, wording),
        "sections": checklists(bundle, own, column, layout, wording, symbol),
        "advice": advice(bundle, phase, recommendations, wording),
        "footnote": fill(text["footnote"], symbol=symbol,
                         threshold=context["settings"]["disclosure_threshold"]),
        "synthetic": wording["synthetic"]["banner"] if context.get("synthetic") else "",
    }
