"""Report content: the numbers and sentences of the funder and partnership reports (pure).

Everything a report says is decided here, from what a run wrote (a :class:`RunBundle`) and
wording kept as data (``reports/funder/*.toml``, ``reports/report.toml``). Rendering
(:mod:`pipeline.report.html`) only lays the content out. Rules that make the reports safe to share:

* numbers come from the published view of the protected tables
  (:func:`pipeline.stats.disclosure.published_view`): a suppressed cell has no number to print, so
  a sentence that would need one is dropped or says the cell is hidden;
* no number is written that is not a cell of a table the run wrote (percentages are rounded
  for display only) — ``tests/test_report_funder.py`` checks this on the rendered files;
* partnership pages (:mod:`pipeline.report.partner_content`) read only the partnership's own
  answers to the questions they show, never a personal question or open text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import pandas as pd

from pipeline.errors import PulsecheckError
from pipeline.report.charts import Estimate
from pipeline.stats.disclosure import published_view

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.model.wave import Wave
    from pipeline.stages.results import WaveResult

#: The column level of the overall figures in every table.
ALL = "All"


@dataclass(frozen=True)
class RunBundle:
    """What a run folder holds for rendering (read by :func:`pipeline.report.html.load_run`)."""

    manifest: Mapping[str, Any]
    context: Mapping[str, Any]
    tables: Mapping[str, pd.DataFrame]
    tests: pd.DataFrame
    findings: pd.DataFrame
    flow: pd.DataFrame
    issues: pd.DataFrame
    agreement: pd.DataFrame | None = None
    partnerships: pd.DataFrame | None = None
    published: Mapping[str, pd.DataFrame] = field(
        default_factory=lambda: MappingProxyType({}))

    def has(self, table_id: str | None) -> bool:
        """Whether the run wrote the table ``table_id`` (a wave's instrument may lack it)."""
        return bool(table_id) and table_id in self.tables

    @property
    def has_phases(self) -> bool:
        """Whether the wave's instrument asked partnerships for their phase."""
        return bool(self.context.get("phase_order"))

    def table(self, table_id: str) -> pd.DataFrame:
        """The published view of a table (hidden numbers blanked)."""
        if table_id in self.published:
            return self.published[table_id]
        return published_view(self.tables[table_id])


def with_published(bundle: RunBundle) -> RunBundle:
    """The bundle with the published view of every table computed once."""
    views = {k: published_view(v) for k, v in bundle.tables.items()}
    return RunBundle(**{**bundle.__dict__, "published": MappingProxyType(views)})


def pct_text(value: float) -> str:
    """A percentage as printed in the reports (whole numbers)."""
    return f"{value:.0f}"


def report_context(wave: "Wave", result: "WaveResult") -> dict[str, Any]:
    """``report.json``: what rendering needs from the specification and instrument.

    Written into the run folder so that ``pulsecheck report`` can re-render without reading
    the instrument again (the instrument may have changed since the run).
    """
    report = result.report
    instrument = result.instrument
    spec = report.spec
    items: dict[str, dict[str, str]] = {}
    questions = {q.name: q for q in instrument.questions}
    for table in spec.tables:
        question = questions.get(table.row)
        if table.kind == "multi" and question is not None \
                and question.type == "select_multiple":
            columns = instrument.indicator_columns(question)
            names = [c.name for c in instrument.choices[question.list_name]]
            items[table.id] = dict(zip(names, columns, strict=True))
    rule = spec.distinctive
    stage_labels = {}
    if instrument.phase_question in questions:
        phase_list = questions[instrument.phase_question].list_name
        stage_labels = {c.name: c.label for c in instrument.choices.get(phase_list, ())}
    assumptions = sorted({d.assumption for d in spec.derived if d.assumption}
                         | ({rule.assumption} if rule and rule.assumption else set()))
    return {
        "title": wave.title,
        "survey": wave.survey,
        "wave": wave.wave,
        "synthetic": bool(wave.synthetic),
        "instrument": {"id": instrument.id, "version": instrument.version,
                       "title": instrument.title, "year": instrument.year,
                       "reconstruction": bool(instrument.reconstruction)},
        "respondent_key": instrument.respondent_key,
        "phase_order": list(instrument.phase_order),
        "unclassified": instrument.unclassified,
        "no_phase_group": instrument.unclassified,
        "phase_map": [{"value": r.value, "label": stage_labels.get(r.value, r.value),
                       "phase": r.phase_group, "basis": r.basis} for r in instrument.phase_map],
        "analysed": len(result.partnerships),
        "basis": report.basis,
        "settings": {"ci_method": spec.ci_method, "level": spec.level,
                     "disclosure_threshold": spec.disclosure_threshold,
                     "variance": report.tables.variance},
        "distinctive": None if rule is None else {
            "tables": list(rule.tables), "min_difference": rule.min_difference,
            "test": rule.test, "adjust": rule.adjust, "alpha": rule.alpha,
            "min_base": rule.min_base},
        "tables": [{"id": t.id, "title": t.title, "section": t.section, "kind": t.kind,
                    "row": t.row, "by_phase": t.by_phase, "footnotes": list(t.footnotes)}
                   for t in spec.tables],
        "items": items,
        "assumptions": assumptions,
    }


# --------------------------------------------------------------------------------------------
# Looking up published cells
# --------------------------------------------------------------------------------------------

def _body(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["row_type"].isin(["level", "item"])] if "row_type" in table else table


def cell(table: pd.DataFrame, level: str, column: str = ALL) -> pd.Series | None:
    """The published cell of ``level`` in ``column``, or ``None`` when absent."""
    body = _body(table)
    match = body[(body["row_level"].astype(str) == str(level))
                 & (body["col_level"].astype(str) == column)]
    return None if match.empty else match.iloc[0]


def _shown(row: pd.Series | None) -> bool:
    return row is not None and not bool(row.get("suppressed", False)) \
        and row.get("pct") is not None and not pd.isna(row.get("pct"))


def estimate(row: pd.Series | None, label: str) -> Estimate:
    """A chart estimate from a published cell (NaN when hidden)."""
    if not _shown(row):
        return Estimate(label, math.nan, math.nan, math.nan)
    low, high = row.get("ci_low"), row.get("ci_high")
    return Estimate(label, float(row["pct"]),
                    math.nan if pd.isna(low) else float(low),
                    math.nan if pd.isna(high) else float(high))


def ranked_items(table: pd.DataFrame) -> list[tuple[str, str]]:
    """(item, label) by overall percentage, highest first (hidden cells last)."""
    overall = _body(table)
    overall = overall[overall["col_level"] == ALL].copy()
    overall["_pct"] = pd.to_numeric(overall["pct"], errors="coerce").fillna(-1.0)
    overall = overall.sort_values("_pct", ascending=False, kind="stable")
    return list(zip(overall["row_level"].astype(str), overall["row_label"].astype(str),
                    strict=True))


#: Where wording templates come from (named when one cannot be filled).
WORDING_FILES = ("reports/report.toml, reports/funder/wording.toml or "
                 "reports/trends/wording.toml")


def fill(template: str, **values: Any) -> str:
    """A wording template with its ``{placeholders}`` filled from ``values``.

    A placeholder the code does not supply (a misspelt ``{pcts}``) is a configuration
    problem, reported as RENDER_006 with the template and the values it may use; it is
    never turned into a generic rendering failure.
    """
    try:
        return template.format(**values)
    except KeyError as error:
        problem = f"{{{error.args[0]}}} is not one of its values"
    except IndexError:
        problem = "a placeholder {} has no name"
    except ValueError as error:
        problem = f"its braces do not pair up ({error})"
    shown = template if len(template) <= 80 else template[:77] + "..."
    raise PulsecheckError("RENDER_006", template=shown, problem=problem,
                          known=", ".join(sorted(values)) or "none", files=WORDING_FILES)


# --------------------------------------------------------------------------------------------
# Funder summary
# --------------------------------------------------------------------------------------------

def topic(layout: Mapping[str, Any], table_id: str) -> str:
    """What a table is about, in words (``[topics]`` of ``reports/report.toml``)."""
    return str(layout.get("topics", {}).get(table_id, f"the table “{table_id}”"))


def not_asked(layout: Mapping[str, Any], wording: Mapping[str, Any], table_id: str) -> str:
    """The note printed where a wave's instrument has no table ``table_id`` to show."""
    text = wording.get("missing", {}).get(
        "table", "This wave did not ask about {topic}, so it is not shown.")
    return fill(text, topic=topic(layout, table_id))


def headlines(bundle: RunBundle, layout: Mapping[str, Any]) -> list[dict[str, str]]:
    """The headline tiles: a big number and what it counts.

    A headline whose table the wave does not have is left out (see :func:`missing_notes`).
    """
    tiles = []
    for spec in layout.get("headlines", []):
        if not bundle.has(spec.get("table")):
            continue
        table = bundle.table(spec["table"])
        show = spec["show"]
        if show == "base":
            base = _body(table)
            base = base[base["col_level"] == ALL]["base_n"]
            if base.empty:
                continue
            tiles.append({"value": f"{int(base.iloc[0])}", "label": spec["label"]})
            continue
        if show == "top":
            ranked = ranked_items(table)
            if not ranked:
                continue
            level, label = ranked[0]
        else:
            level, label = spec["level"], ""
        row = cell(table, level)
        if not _shown(row):
            continue
        label = label or str(row["row_label"])
        tiles.append({"value": f"{pct_text(row['pct'])}%",
                      "label": fill(spec["label"], item=label)})
    return tiles


def missing_notes(bundle: RunBundle, layout: Mapping[str, Any],
                  wording: Mapping[str, Any]) -> dict[str, list[str]]:
    """Notes for the parts of the funder summary this wave cannot fill, by section.

    Keys: ``headlines``, ``findings`` and each chart id of ``[charts]``. A headline or chart
    whose table the wave's instrument lacks is skipped with a note saying the wave did not
    ask about it, so a reader sees the gap instead of a number that was never computed.
    """
    notes: dict[str, list[str]] = {"headlines": [], "findings": []}
    for spec in layout.get("headlines", []):
        table_id = spec.get("table")
        if not bundle.has(table_id):
            note = not_asked(layout, wording, str(table_id))
            if note not in notes["headlines"]:
                notes["headlines"].append(note)
    for chart_id, spec in layout.get("charts", {}).items():
        wanted = list(spec.get("tables", [])) or [spec.get("table")]
        notes[chart_id] = [not_asked(layout, wording, str(t)) for t in wanted
                           if not bundle.has(t)]
        if not notes[chart_id] and spec.get("kind") == "dots_by_phase" \
                and not bundle.has_phases:
            notes[chart_id] = [wording.get("missing", {}).get("by_phase", "")]
    if not bundle.has_phases:
        notes["findings"].append(wording.get("missing", {}).get("findings", ""))
    return {k: [n for n in v if n] for k, v in notes.items()}


def phase_rows(bundle: RunBundle, table_id: str | None) -> list[dict[str, str]]:
    """The phase distribution as printed: phase, n, %, interval (empty when not asked)."""
    rows: list[dict[str, str]] = []
    if not bundle.has(table_id):
        return rows
    for level, label in [(lv, lb) for lv, lb in _levels(bundle.table(table_id))]:
        row = cell(bundle.table(table_id), level)
        if row is None:
            continue
        shown = _shown(row)
        rows.append({
            "phase": label,
            "n": f"{int(row['n'])}" if shown else str(row.get("n_display", "")),
            "pct": pct_text(row["pct"]) if shown else "",
            "interval": f"{pct_text(row['ci_low'])}–{pct_text(row['ci_high'])}"
            if shown and not pd.isna(row.get("ci_low")) else "",
        })
    return rows


def _levels(table: pd.DataFrame) -> list[tuple[str, str]]:
    body = _body(table)
    body = body[body["col_level"] == ALL]
    return list(dict.fromkeys(zip(body["row_level"].astype(str), body["row_label"].astype(str),
                                  strict=True)))


def _table_spec(bundle: RunBundle, table_id: str) -> Mapping[str, Any]:
    for table in bundle.context["tables"]:
        if table["id"] == table_id:
            return table
    raise KeyError(table_id)


def finding_sentences(bundle: RunBundle, wording: Mapping[str, Any]
                      ) -> list[dict[str, Any]]:
    """The phase-distinctive findings in plain language, grouped by phase.

    Every number in a sentence is a published cell of the finding's table; a finding whose
    own cell is suppressed is left out. Two findings of one single-choice table in different
    phases (a plan "No" in one phase and "Yes" in another) are one pattern: they are told in
    one sentence (``[findings] mirror``), under the phase with the larger difference.
    """
    findings = bundle.findings
    if findings.empty:
        return []
    chosen = findings[findings["distinctive"].astype(str).str.lower().eq("true")]
    order = list(bundle.context["phase_order"])
    templates = wording["findings"]
    other = wording["finding_other"]
    groups: dict[str, list[tuple[float, str]]] = {phase: [] for phase in order}
    usable = []
    for f in chosen.itertuples(index=False):
        if not bundle.has(f.table_id) or f.phase not in groups:
            continue
        own = cell(bundle.table(f.table_id), f.item, f.phase)
        if _shown(own):
            usable.append((f, own))
    merged: set[int] = set()
    mirror = templates.get("mirror")
    for i, (f, own) in enumerate(usable):
        if i in merged:
            continue
        spec = _table_spec(bundle, f.table_id)
        partner = next((j for j, (g, _) in enumerate(usable) if j > i and j not in merged
                        and g.table_id == f.table_id and g.phase != f.phase
                        and str(g.item) != str(f.item)), None) \
            if mirror and spec["kind"] == "single" else None
        if partner is not None:
            merged.add(partner)
            g, theirs = usable[partner]
            first, second = ((f, own), (g, theirs)) if float(f.difference) >= \
                float(g.difference) else ((g, theirs), (f, own))
            sentence = fill(
                mirror, title=spec["title"], phase=first[0].phase,
                pct=pct_text(first[1]["pct"]), n=int(first[1]["n"]),
                base=int(first[1]["base_n"]), item=first[1]["row_label"],
                other_phase=second[0].phase, other_pct=pct_text(second[1]["pct"]),
                other_n=int(second[1]["n"]), other_base=int(second[1]["base_n"]),
                other_item=second[1]["row_label"])
            groups[first[0].phase].append((float(first[0].difference), sentence))
            continue
        table = bundle.table(f.table_id)
        parts = []
        for phase in order:
            if phase == f.phase:
                continue
            peer = cell(table, f.item, phase)
            parts.append(fill(other["one"], pct=pct_text(peer["pct"]), phase=phase)
                         if _shown(peer) else fill(other["suppressed"], phase=phase))
        template = templates.get(f.table_id) or templates[f"default_{spec['kind']}"]
        sentence = fill(
            template,
            phase=f.phase, pct=pct_text(own["pct"]), n=int(own["n"]), base=int(own["base_n"]),
            item=own["row_label"], title=spec["title"], others=other["join"].join(parts))
        groups[f.phase].append((float(f.difference), sentence))
    return [{"phase": phase, "sentences": [s for _, s in sorted(items, key=lambda x: -x[0])]}
            for phase, items in groups.items()]


# --------------------------------------------------------------------------------------------
# The story: key messages, phases defined, the profile, published figures, common items
# --------------------------------------------------------------------------------------------

def _join(words: Sequence[str]) -> str:
    quoted = [f"“{w}”" for w in words]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _ranked_shown(table: pd.DataFrame, column: str, exclude: Sequence[str]
                  ) -> list[tuple[str, str, pd.Series]]:
    """(level, label, cell) of a column's shown cells, highest share first."""
    rows = []
    for level, label in _levels(table):
        if level in exclude:
            continue
        found = cell(table, level, column)
        if _shown(found):
            rows.append((level, label, found))
    return sorted(rows, key=lambda r: -float(r[2]["pct"]))


def common_items(bundle: RunBundle, table_id: str, top: int,
                 exclude: Sequence[str] = ()) -> list[str]:
    """Labels of the items among the ``top`` most common in every phase (shown cells only)."""
    order = list(bundle.context["phase_order"])
    if not order or not bundle.has(table_id):
        return []
    table = bundle.table(table_id)
    sets = [{level for level, _, _ in _ranked_shown(table, phase, exclude)[:top]}
            for phase in order]
    shared = set.intersection(*sets)
    return [label for level, label, _ in _ranked_shown(table, ALL, exclude)
            if level in shared]


def _cell_values(found: pd.Series) -> dict[str, Any]:
    return {"pct": pct_text(found["pct"]), "n": int(found["n"]),
            "base": int(found["base_n"]), "item": str(found["row_label"])}


def _phase_gap(bundle: RunBundle, spec: Mapping[str, Any]) -> dict[str, Any] | None:
    """The distinctive finding (of ``spec["tables"]``) with the largest gap between phases."""
    findings = bundle.findings
    if findings.empty or not bundle.has_phases:
        return None
    chosen = findings[findings["distinctive"].astype(str).str.lower().eq("true")
                      & findings["table_id"].isin(spec.get("tables") or [])]
    best = None
    for f in chosen.itertuples(index=False):
        if not bundle.has(f.table_id):
            continue
        table = bundle.table(f.table_id)
        own = cell(table, f.item, f.phase)
        peers = [(p, cell(table, f.item, p)) for p in bundle.context["phase_order"]
                 if p != f.phase]
        peers = [(p, c) for p, c in peers if _shown(c)]
        if not _shown(own) or not peers:
            continue
        low_phase, low = min(peers, key=lambda pc: float(pc[1]["pct"]))
        gap = float(own["pct"]) - float(low["pct"])
        if best is None or gap > best[0]:
            best = (gap, {**_cell_values(own), "phase": f.phase, "low_phase": low_phase,
                          "low_pct": pct_text(low["pct"]),
                          "title": _table_spec(bundle, f.table_id)["title"]})
    return None if best is None else best[1]


def key_messages(bundle: RunBundle, layout: Mapping[str, Any]) -> list[str]:
    """The executive summary: the messages of ``[[key_messages]]`` whose cells are shown."""
    messages: list[str] = []
    for spec in layout.get("key_messages", []):
        if len(messages) >= int(layout.get("max_messages", 6)):
            break
        kind, table_id = spec["kind"], spec.get("table")
        exclude = list(spec.get("exclude", []))
        values: dict[str, Any] | None = None
        if kind == "phase_gap":
            values = _phase_gap(bundle, spec)
        elif kind == "analysed":
            values = {"n": analysed_n(bundle)}
        elif not bundle.has(table_id):
            values = None
        elif kind in ("largest", "top"):
            ranked = _ranked_shown(bundle.table(table_id), ALL, exclude)
            values = _cell_values(ranked[0][2]) if ranked else None
        elif kind == "level":
            found = cell(bundle.table(table_id), str(spec.get("level")))
            values = _cell_values(found) if _shown(found) else None
        elif kind == "common":
            items = common_items(bundle, table_id, int(spec.get("top") or 5), exclude)
            values = {"items": _join(items)} if items else None
        else:
            raise ValueError(f"unknown key message kind {kind!r}")
        if values is not None:
            values.setdefault("title", _table_spec(bundle, table_id)["title"]
                              if bundle.has(table_id) else "")
            messages.append(fill(spec["text"], **values))
    return messages


def analysed_n(bundle: RunBundle) -> int:
    """The number of partnerships analysed (``report.json``; else the largest base)."""
    if bundle.context.get("analysed") is not None:
        return int(bundle.context["analysed"])
    bases = [pd.to_numeric(_body(t)["base_n"], errors="coerce").max()
             for t in bundle.tables.values() if "base_n" in t]
    return int(max(b for b in bases if not pd.isna(b)))


def phase_definitions(bundle: RunBundle, layout: Mapping[str, Any],
                      wording: Mapping[str, Any]) -> dict[str, Any] | None:
    """The phases defined from the instrument's phase map: stages and meaning of each phase,
    and who is in none (``[phases]`` and ``[phase_meaning]`` of the wording)."""
    if not bundle.has_phases:
        return None
    text = wording.get("phases", {})
    meaning = wording.get("phase_meaning", {})
    stage_map = bundle.context.get("phase_map", [])
    rows = []
    for phase in bundle.context["phase_order"]:
        stages = [r["label"] for r in stage_map if r["phase"] == phase]
        rows.append({"phase": phase, "meaning": meaning.get(phase, ""),
                     "stages": fill(text.get("stages", "{stages}"),
                                    stages=", ".join(stages)) if stages else ""})
    no_phase = ""
    table_id = layout.get("charts", {}).get("phases", {}).get("table")
    none_group = bundle.context.get("no_phase_group", "")
    template = text.get("no_phase", "")
    if bundle.has(table_id) and template:
        found = cell(bundle.table(table_id), none_group)
        stages = [r["label"] for r in stage_map if r["phase"] == none_group]
        if _shown(found) and stages:
            no_phase = fill(template, n=int(found["n"]), pct=pct_text(found["pct"]),
                            stages=", ".join(stages))
    return {"intro": text.get("intro", ""), "rows": rows, "no_phase": no_phase,
            "common_intro": text.get("common_intro", "")}


def profile_tables(bundle: RunBundle, layout: Mapping[str, Any],
                   wording: Mapping[str, Any], mark: str) -> list[dict[str, Any]]:
    """The partnerships' profile: one small table per ``[[profile]]`` entry the wave asked.

    A checklist shows its ``top`` items and names the ones it leaves out; a hidden cell shows
    ``mark`` (the published mark) and no number.
    """
    text = wording.get("profile", {})
    sections = []
    for spec in layout.get("profile", []):
        if not bundle.has(spec["table"]):
            continue
        table = bundle.table(spec["table"])
        kind = _table_spec(bundle, spec["table"])["kind"]
        if kind == "numeric":
            continue
        levels = ranked_items(table) if kind == "multi" else _levels(table)
        top = spec.get("top")
        kept, dropped = (levels[:top], levels[top:]) if top else (levels, [])
        rows = []
        for level, label in kept:
            found = cell(table, level)
            if found is None:
                continue
            shown = _shown(found)
            rows.append({"label": label, "pct": f"{pct_text(found['pct'])}%" if shown
                         else mark, "n": f"{int(found['n'])}" if shown else mark})
        base = _body(table)
        base = base[base["col_level"] == ALL]["base_n"]
        sections.append({
            "heading": spec["heading"], "rows": rows,
            "base": f"{int(base.iloc[0])}" if not base.empty else "",
            "dropped": fill(text.get("dropped", "{items}"),
                            items=", ".join(label for _, label in dropped)) if dropped else ""})
    return sections


def state_map(bundle: RunBundle, layout: Mapping[str, Any], wording: Mapping[str, Any],
              tiles: Sequence[Mapping[str, Any]], mark: str) -> dict[str, Any] | None:
    """The map of states served: per tile its share (or hidden / none) and an accessible
    table of the states with partnerships, most often served first."""
    spec = layout.get("map")
    if not spec or not bundle.has(spec["table"]) or not tiles:
        return None
    table = bundle.table(spec["table"])
    text = wording.get("profile", {})
    cells = {}
    for level, label in _levels(table):
        found = cell(table, level)
        if found is None:
            continue
        cells[level] = (label, found)
    shaded, rows = [], []
    for tile in tiles:
        label, found = cells.get(tile["code"], (tile["code"], None))
        if _shown(found):
            value = float(found["pct"])
            state = "none" if int(found["n"]) == 0 else "shown"
        else:
            value, state = math.nan, "hidden" if found is not None else "none"
        shaded.append({**tile, "value": value, "status": state})
        if state == "shown":
            rows.append((value, label, f"{int(found['n'])}", f"{pct_text(value)}%"))
        elif state == "hidden":
            rows.append((-1.0, label, mark, mark))
    rows.sort(key=lambda r: (-r[0], r[1]))
    base = _body(table)
    base = base[base["col_level"] == ALL]["base_n"]
    top = [f"{label} {pct}" for _, label, _, pct in rows[:3]]
    return {"tiles": shaded, "bins": list(spec["bins"]), "title": spec["title"],
            "heading": spec["heading"], "alt": fill(spec["alt"], values="; ".join(top)),
            "rows": [{"state": label, "n": n, "pct": pct} for _, label, n, pct in rows],
            "caption": text.get("map_table", ""),
            "labels": {"hidden": text.get("hidden", "hidden"),
                       "none": text.get("none", "none")},
            "base": f"{int(base.iloc[0])}" if not base.empty else ""}


def published_comparison(bundle: RunBundle, published: Mapping[str, Any],
                         wording: Mapping[str, Any], mark: str) -> dict[str, Any] | None:
    """ "Published in <year> / this run" for each figure of ``reports/funder/published.toml``,
    only in the summary of the instrument version the published report analysed."""
    version = str(bundle.context["instrument"]["version"])
    if not published or not applies_to(published, version):
        return None
    sources = published.get("sources", {})
    rows = []
    for figure in published.get("figures", []):
        if not bundle.has(figure["table"]):
            continue
        table = bundle.table(figure["table"])
        if figure["show"] == "base":
            body = _body(table)
            run = f"{int(body[body['col_level'] == ALL]['base_n'].iloc[0])}"
        else:
            found = cell(table, str(figure.get("level")))
            run = f"{pct_text(found['pct'])}% ({int(found['n'])} of {int(found['base_n'])})" \
                if _shown(found) else mark
        rows.append({"label": figure["label"], "published": figure["published"], "run": run,
                     "source": f"{sources.get(figure['source'], figure['source'])}, "
                               f"{figure['page']}"})
    text = wording.get("profile", {})
    intro = text.get("comparison_intro") if bundle.context.get("synthetic") \
        else text.get("comparison_intro_real")
    return {"rows": rows, "year": published.get("report_year", ""),
            "intro": fill(intro or "", report_year=published.get("report_year", ""))}


def common_findings(bundle: RunBundle, layout: Mapping[str, Any]) -> list[str]:
    """What is common to all phases, from ``[[common]]`` (items top in every phase)."""
    sentences = []
    for spec in layout.get("common", []):
        items = common_items(bundle, spec["table"], int(spec["top"]),
                             list(spec.get("exclude", [])))
        if items:
            sentences.append(fill(spec["text"], items=_join(items)))
    return sentences


def not_asked_line(bundle: RunBundle, layout: Mapping[str, Any],
                   wording: Mapping[str, Any]) -> str:
    """One line for the methods naming every part of the summary the wave did not ask.

    A table of a ``[[sections]]`` entry is named by its section's ``topic``, once.
    """
    charts = layout.get("charts", {})

    def chart_tables(spec: Mapping[str, Any]) -> list[str]:
        return list(spec.get("tables", []) or [spec.get("table")])

    section_topic: dict[str, str] = {}
    for section in layout.get("sections", []):
        tables = [h.get("table") for h in section.get("headlines", [])]
        for chart_id in section.get("charts", []):
            tables += chart_tables(charts.get(chart_id, {}))
        section_topic.update({t: section["topic"] for t in tables if t})
    wanted = [h.get("table") for h in layout.get("headlines", [])]
    wanted += list(section_topic)
    for spec in charts.values():
        wanted += chart_tables(spec)
    wanted += [p["table"] for p in layout.get("profile", [])]
    wanted += [layout["map"]["table"]] if layout.get("map") else []
    missing = [t for t in dict.fromkeys(wanted) if t and not bundle.has(t)]
    template = wording.get("profile", {}).get("not_asked")
    if not missing or not template:
        return ""
    topics = list(dict.fromkeys(section_topic.get(t) or topic(layout, t) for t in missing))
    joined = topics[0] if len(topics) == 1 else ", ".join(topics[:-1]) + " and " + topics[-1]
    return fill(template, topics=joined)


def chart_drawable(bundle: RunBundle, chart: Mapping[str, Any]) -> bool:
    """Whether every table a chart of ``reports/report.toml`` draws is in the run."""
    wanted = list(chart.get("tables", [])) or [chart.get("table")]
    return all(bundle.has(t) for t in wanted)


def chart_alt_values(estimates: Sequence[Estimate]) -> str:
    """Alt-text list of the estimates a chart shows (those with a value)."""
    return "; ".join(f"{e.label} {pct_text(e.value)}%" for e in estimates
                     if not math.isnan(e.value))


def chart_series(bundle: RunBundle, chart: Mapping[str, Any]) -> dict[str, Any]:
    """The estimates a chart of ``reports/report.toml`` draws, and its alt text.

    In a wave without phases a chart by phase draws the overall column only (one group).
    The caller checks :func:`chart_drawable` first; a missing table is a ``KeyError``.
    """
    # Without phases there is only the overall column to draw.
    order = list(bundle.context["phase_order"]) or [ALL]
    kind = chart["kind"]
    if kind == "bars":
        table = bundle.table(chart["table"])
        estimates = [estimate(cell(table, level), label) for level, label in _levels(table)]
        values = chart_alt_values(estimates)
        return {"kind": kind, "estimates": estimates, "alt": fill(chart["alt"], values=values)}
    if kind == "paired_bars":
        tables = [bundle.table(t) for t in chart["tables"]]
        ranked = ranked_items(tables[0])
        series = [[estimate(cell(t, level), label) for level, label in ranked] for t in tables]
        values = chart_alt_values(series[0][:3])
        return {"kind": kind, "labels": [label for _, label in ranked], "series": series,
                "names": list(chart["series"]), "alt": fill(chart["alt"], values=values)}
    if kind == "dots_by_phase":
        table = bundle.table(chart["table"])
        every = ranked_items(table)
        ranked = every[: int(chart.get("top", 12))]
        dropped = [label for _, label in every[len(ranked):]]
        estimates = [[estimate(cell(table, level, phase), label) for level, label in ranked]
                     for phase in order]
        overall = [estimate(cell(table, level), label) for level, label in ranked[:3]]
        values = chart_alt_values(overall)
        return {"kind": kind, "labels": [label for _, label in ranked], "groups": order,
                "estimates": estimates, "alt": fill(chart["alt"], values=values),
                "dropped": dropped}
    raise ValueError(f"unknown chart kind {kind!r}")


def report_sections(bundle: RunBundle, layout: Mapping[str, Any],
                    wording: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The sections of ``[[sections]]`` in ``reports/report.toml``, as the wave can fill them.

    A section is data: a heading, an introduction, headline tiles (as in ``[[headlines]]``)
    and charts of ``[charts]``, so that a new topic of the questionnaire gets its part of
    the funder summary and of the analyst notebook without code. Tiles and charts whose
    tables the wave lacks are left out; a section left with nothing to show is left out,
    and the methods name it in their one line of what the wave did not ask
    (:func:`not_asked_line`).

    Returns
    -------
    list of dict
        Per section: ``id``, ``heading``, ``intro``, ``tiles``, ``charts`` (``id`` and
        ``caption`` of each chart the wave can draw) and ``notes``.
    """
    sections = []
    charts = layout.get("charts", {})
    for section in layout.get("sections", []):
        tiles = headlines(bundle, {"headlines": section.get("headlines", [])})
        drawn = [{"id": chart_id, "caption": charts[chart_id].get("caption", "")}
                 for chart_id in section.get("charts", [])
                 if chart_id in charts and chart_drawable(bundle, charts[chart_id])]
        if not tiles and not drawn:
            continue
        sections.append({"id": section["id"], "heading": section["heading"],
                         "intro": section.get("intro", ""), "tiles": tiles, "charts": drawn,
                         "notes": []})
    return sections


def methods_text(bundle: RunBundle, wording: Mapping[str, Any]) -> list[str]:
    """The methods paragraphs, with the run's settings filled in."""
    settings = bundle.context["settings"]
    rule = bundle.context.get("distinctive") or {}
    text = wording["methods"]
    # Weighted estimates need their own sentence; the unweighted one would be untrue.
    intervals = text["intervals_weighted"] if _weighted(bundle) else text["intervals"]
    paragraphs = [
        text["sample"],
        fill(intervals, level=f"{100 * settings['level']:g}",
                                 ci_method=_method_name(settings["ci_method"])),
        text["phases"] if bundle.has_phases else text.get("no_phases", ""),
        fill(text["suppression"], threshold=settings["disclosure_threshold"]),
    ]
    if rule:
        paragraphs.insert(3, fill(
            text["distinctive"],
            min_difference=f"{rule['min_difference']:.0f}",
            alpha_pct=f"{100 * rule['alpha']:.0f}"))
    # Under a design: which variance the intervals and tests come from.
    paragraphs.insert(2, settings.get("variance", ""))
    return [p for p in paragraphs if p]


def level_text(level: float) -> str:
    """A confidence level as people write it: 0.95 → ``95%``, 0.995 → ``99.5%``."""
    return f"{100 * level:g}%"


def _weighted(bundle: RunBundle) -> bool:
    """Whether any percentage of the run is weighted (a weighted sum differs from its count)."""
    for table in bundle.tables.values():
        if "n_weighted" in table and "n" in table:
            counts = pd.to_numeric(table["n"], errors="coerce")
            sums = pd.to_numeric(table["n_weighted"], errors="coerce")
            if ((counts - sums).abs() > 1e-9).any():
                return True
    return False


def _method_name(method: str) -> str:
    return {"wilson": "Wilson score intervals", "clopper_pearson": "Clopper–Pearson intervals",
            "jeffreys": "Jeffreys intervals"}.get(method, method)


def provenance(manifest: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The run's provenance as label/value pairs (from ``run.json``)."""
    code = manifest.get("code", {})
    instrument = manifest.get("instrument", {})
    rows = [("pulsecheck version", str(code.get("version", ""))),
            ("code commit", str(code.get("git_commit") or "not under version control")),
            ("instrument", f"{instrument.get('id', '')} {instrument.get('version', '')}"),
            ("wave description", str(manifest.get("wave_description", {}).get("path", "")))]
    rows.extend((f"input {item['path']}", f"sha256 {item['sha256']}")
                for item in manifest.get("inputs", []))
    packages = manifest.get("packages", {})
    rows.append(("software", ", ".join(f"{k} {v}" for k, v in sorted(packages.items()))))
    return rows


def applies_to(entry: Mapping[str, Any], version: str) -> bool:
    """Whether a wording or recommendations entry is shown for this instrument version.

    An entry without ``instruments`` applies to every version; otherwise only to the listed
    ones (a caveat about one questionnaire, or advice a report wrote about one wave).
    """
    listed = entry.get("instruments")
    return listed is None or version in {str(v) for v in listed}


def funder_content(bundle: RunBundle, layout: Mapping[str, Any],
                   wording: Mapping[str, Any], recommendations: Mapping[str, Any],
                   published: Mapping[str, Any] | None = None,
                   tiles: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """Everything the funder summary shows except the chart images.

    Parameters
    ----------
    bundle : RunBundle
    layout, wording, recommendations : mapping
        ``reports/report.toml``, ``reports/funder/wording.toml`` and ``recommendations.toml``.
    published : mapping, optional
        ``reports/funder/published.toml``: the figures a published report printed.
    tiles : sequence of mapping
        The map's tile positions (``code``, ``row``, ``col``).

    A part whose table the wave did not ask is left out; the methods say so in one line.
    """
    context = bundle.context
    mark = str(context.get("settings", {}).get("published_symbol") or "[c]")
    version = str(context["instrument"]["version"])
    quoted = applies_to(recommendations, version)
    sources = recommendations.get("sources", {})

    def cite(entry: Mapping[str, Any]) -> str:
        return sources.get(entry.get("source", ""), entry.get("source", ""))

    phases = [{"phase": p["phase"], "lead": p["preamble"], "actions": list(p["actions"]),
               "source": cite(p)} for p in recommendations.get("phases", [])] if quoted else []
    patterns = {p["phase"]: {"text": p["text"], "source": cite(p)}
                for p in recommendations.get("published_patterns", [])} if quoted else {}
    phase_table = layout.get("charts", {}).get("phases", {}).get("table")
    findings = finding_sentences(bundle, wording)
    for group in findings:
        group["published"] = patterns.get(group["phase"])
    funders = recommendations.get("funders", {})
    methods = methods_text(bundle, wording)
    skipped = not_asked_line(bundle, layout, wording)
    if skipped:
        methods.append(skipped)
    n = analysed_n(bundle)
    return {
        "n": n,
        "n_line": fill(wording.get("headlines", {}).get("n_line", "{n}"), n=n),
        "messages": key_messages(bundle, layout),
        "definitions": phase_definitions(bundle, layout, wording),
        "profile_intro": fill(wording.get("profile", {}).get("intro", ""), n=n),
        "profile": profile_tables(bundle, layout, wording, mark),
        "map": state_map(bundle, layout, wording, tiles, mark),
        "comparison": published_comparison(bundle, published or {}, wording, mark),
        "hidden_note": fill(wording.get("profile", {}).get("hidden_note", ""), mark=mark),
        "common": common_findings(bundle, layout),
        "level": level_text(float(context["settings"]["level"])),
        "title": wording["document"]["funder_title"],
        "subtitle": wording["document"]["funder_subtitle"],
        "survey_title": context["title"],
        "synthetic": wording["synthetic"]["banner"] if context.get("synthetic") else "",
        "headlines": headlines(bundle, layout),
        "phases": phase_rows(bundle, phase_table),
        "notes": {},
        "findings": findings,
        "sections": report_sections(bundle, layout, wording),
        "report_year": recommendations.get("report_year", context["instrument"]["year"]),
        "not_quoted": "" if quoted else fill(
            wording.get("recommendations", {}).get("not_quoted", ""),
            report_year=recommendations.get("report_year", ""),
            year=context["instrument"]["year"]),
        "all_phases": {"text": recommendations.get("all_phases", {}).get("text", ""),
                       "source": cite(recommendations.get("all_phases", {}))} if quoted else None,
        "recommendations": phases,
        "funders": {"lead": funders.get("preamble", ""),
                    "actions": list(funders.get("actions", [])),
                    "source": cite(funders)} if quoted else None,
        "methods": methods,
        "caveats": [{"text": c["text"], "assumptions": ", ".join(c.get("assumptions", []))}
                    for c in wording.get("caveats", []) if applies_to(c, version)],
        "provenance": provenance(bundle.manifest),
    }


def analyst_view(table: pd.DataFrame) -> pd.DataFrame:
    """A wide, readable view of a tidy table for the analyst notebook.

    Frequency tables: one row per level or item, and per column (``All``, phases) the count,
    the percentage, the interval and the significance letters; ``*`` marks a cell the
    disclosure rule hides in published outputs. Numeric tables: one row per statistic.
    """
    if "stat" in table.columns:
        view = table.assign(
            shown=[f"{v:.1f}" + ("" if pd.isna(lo) else f" ({lo:.1f}–{hi:.1f})")
                   if not pd.isna(v) else "" for v, lo, hi in
                   zip(table["value"], table["ci_low"], table["ci_high"], strict=True)])
        return view.pivot_table(index="stat", columns="col_level", values="shown",
                                aggfunc="first", sort=False)
    body = table[table["row_type"].isin(["level", "item", "net", "missing"])]

    def text(row: pd.Series) -> str:
        if pd.isna(row["pct"]):
            return ""
        interval = "" if pd.isna(row.get("ci_low")) else \
            f" ({row['ci_low']:.1f}–{row['ci_high']:.1f})"
        letters = row.get("sig_letters")
        letters = f" {letters}" if isinstance(letters, str) and letters else ""
        flag = " *" if bool(row.get("suppressed", False)) else ""
        return f"{int(row['n'])} · {row['pct']:.1f}%{interval}{letters}{flag}"

    shown = body.assign(shown=body.apply(text, axis=1))
    columns = list(dict.fromkeys(shown["col_level"]))
    view = shown.pivot_table(index="row_label", columns="col_level", values="shown",
                             aggfunc="first", sort=False)
    view = view[[c for c in columns if c in view.columns]]
    bases = shown.drop_duplicates("col_level").set_index("col_level")["base_n"]
    view.loc["Base (partnerships)"] = [f"{int(bases[c])}" for c in view.columns]
    view.columns.name = None
    return view
