"""Report sections as data: ``[[sections]]`` of ``reports/report.toml`` give the funder summary
and the analyst notebook a part for a new topic without code (tiny bundles, no run)."""

from __future__ import annotations

import pandas as pd

from pipeline.report.content import RunBundle, report_sections

WORDING = {"missing": {"table": "This wave did not ask about {topic}, so it is not shown."}}


def _table(rows: list[tuple[str, str, str, int, int]]) -> pd.DataFrame:
    """A published table from (item, label, column, n, base) rows."""
    return pd.DataFrame([{"row_type": "item", "row_level": item, "row_label": label,
                          "col_level": col, "n": n, "base_n": base, "pct": 100 * n / base,
                          "ci_low": 0.0, "ci_high": 100.0, "suppressed": False}
                         for item, label, col, n, base in rows])


def _bundle(tables: dict[str, pd.DataFrame]) -> RunBundle:
    empty = pd.DataFrame()
    return RunBundle(manifest={}, context={"phase_order": ["Early", "Late"], "tables": []},
                     tables=tables, tests=empty, findings=empty, flow=empty, issues=empty,
                     published=tables)


LAYOUT = {
    "charts": {"done": {"kind": "dots_by_phase", "table": "done", "title": "Done",
                        "xlabel": "%", "alt": "{values}", "caption": "Dots by phase."},
               "other": {"kind": "bars", "table": "absent", "title": "Absent", "xlabel": "%",
                         "alt": "{values}"}},
    "sections": [{"id": "activities", "heading": "Activities", "topic": "the activities",
                  "intro": "What partnerships do.",
                  "headlines": [{"table": "done", "show": "top",
                                 "label": "carry out “{item}”, the most common"}],
                  "charts": ["done", "other"]}],
}


def test_report_sections__wave_with_the_tables__tiles_and_drawable_charts_only():
    bundle = _bundle({"done": _table([("a", "Convening", "All", 30, 40),
                                      ("b", "Planning", "All", 10, 40),
                                      ("a", "Convening", "Early", 10, 20),
                                      ("a", "Convening", "Late", 20, 20)])})
    [section] = report_sections(bundle, LAYOUT, WORDING)
    assert section["heading"] == "Activities" and section["intro"] == "What partnerships do."
    assert section["tiles"] == [{"value": "75%", "label": "carry out “Convening”, the most common"}]
    assert section["charts"] == [{"id": "done", "caption": "Dots by phase."}]
    assert section["notes"] == []


def test_report_sections__wave_without_the_tables__left_out_and_named_once_in_the_methods():
    from pipeline.report.content import not_asked_line

    assert report_sections(_bundle({}), LAYOUT, WORDING) == []
    wording = {"profile": {"not_asked": "This wave did not ask about {topics}."}}
    assert not_asked_line(_bundle({}), LAYOUT, wording) == (
        "This wave did not ask about the activities.")


def test_report_layout_schema__section_keys__are_checked():
    import pytest

    from pipeline.model.schema_check import ConfigError, validate_config
    from pipeline.model.schemas import ReportLayoutFile

    good = {"sections": [{"id": "s", "heading": "S", "topic": "t", "charts": ["c"]}]}
    validate_config(good, ReportLayoutFile, "report.toml")
    with pytest.raises(ConfigError):
        validate_config({"sections": [{"id": "s", "heading": "S"}]}, ReportLayoutFile,
                        "report.toml")
