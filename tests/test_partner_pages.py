"""Partnership pages ("where your partnership stands"): what they say, what they never reveal,
and that running a survey's waves keeps them."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import PROJECT
from pipeline.cli.main import cli
from pipeline.ingest.readers import write_checksums

#: Data rows of the committed 2016 sample kept in the small fixture wave.
SMALL_ROWS = 60


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def small_project(root: Path, rows: int = SMALL_ROWS) -> Path:
    """A project with the 2016 instrument and a waves folder holding one small 2016 wave (the
    first ``rows`` submissions of the committed sample). Returns the waves folder."""
    shutil.copytree(PROJECT / "survey_instrument", root / "survey_instrument")
    wave = root / "raw" / "pulse_check" / "2016"
    wave.mkdir(parents=True)
    shutil.copy(PROJECT / "raw" / "pulse_check" / "2016" / "wave.toml", wave)
    name = "pulse_check_2016_qualtrics.csv"
    with open(PROJECT / "raw" / "pulse_check" / "2016" / name, newline="",
              encoding="utf-8-sig") as handle:
        records = list(csv.reader(handle))
    with open(wave / name, "w", newline="", encoding="utf-8-sig") as handle:
        # Three header rows (names, question text, import ids), then the submissions.
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(
            records[:3 + rows])
    write_checksums(wave, [name])
    return wave.parent


@pytest.mark.slow
def test_run_waves__after_a_wave_run_with_partner_pages__keeps_the_pages_current(tmp_path):
    waves = small_project(tmp_path / "project")
    out = tmp_path / "out"
    single = invoke("run", str(waves / "2016"), "--out", str(out / "pulse_check-2016"),
                    "--partner-reports", "--no-pdf", "--no-notebook")
    assert single.exit_code in (0, 1), single.output
    partners = out / "pulse_check-2016" / "published" / "partners"
    before = {p.name: p.read_bytes() for p in partners.glob("*.html")}
    assert len(before) > 10

    result = invoke("run", str(waves), "--out", str(out), "--no-pdf", "--no-notebook")
    assert result.exit_code in (0, 1), result.output
    # The waves run made the pages again, from the same data: the same bytes.
    after = {p.name: p.read_bytes() for p in partners.glob("*.html")} \
        if partners.exists() else {}
    assert after == before
    assert "partnership pages" in result.output
    manifest = json.loads((out / "pulse_check-2016" / "run.json").read_text(encoding="utf-8"))
    assert manifest["settings"]["partner_reports"] is True
    assert "published/partners/" + sorted(before)[0] in manifest["outputs"]
    _assert_pages_print_only_published_shares(out / "pulse_check-2016")
    # And verify rebuilds the folder the waves run wrote.
    verified = invoke("--project", str(tmp_path / "project"), "verify",
                      str(out / "pulse_check-2016"))
    assert verified.exit_code == 0, verified.output


def _assert_pages_print_only_published_shares(folder: Path) -> None:
    """Every share a page prints is a shown cell of a published table (read here with the
    csv module); a hidden cell's true share never appears."""
    import re
    import tomllib

    layout = tomllib.loads((PROJECT / "reports" / "report.toml").read_text(encoding="utf-8"))
    shown, hidden = set(), set()
    for table_id in [*layout["partner"]["characteristics"], *layout["partner"]["tables"]]:
        published = folder / "published" / "tables" / f"{table_id}.csv"
        internal = folder / "internal" / "tables" / f"{table_id}.csv"
        with open(published, encoding="utf-8") as handle:
            for cell in csv.DictReader(handle):
                if cell["suppressed"] == "False" and cell["pct"]:
                    shown.add(f"{float(cell['pct']):.0f}%")
        with open(internal, encoding="utf-8") as handle:
            for cell in csv.DictReader(handle):
                if cell["suppressed"] == "True" and cell["pct"]:  # no share of no one
                    hidden.add(f"{float(cell['pct']):.0f}%")
    assert hidden - shown, "the fixture wave should hide some share no shown cell equals"
    pages = sorted((folder / "published" / "partners").glob("*.html"))
    printed = set()
    for page in pages:
        main = page.read_text(encoding="utf-8").split("<main>")[1]
        cells = re.findall(r'<td class="num pct[^"]*">([^<]*)</td>', main)
        bars = re.findall(r'class="bar" style="width: [0-9.]+%"', main)
        assert cells and len(bars) == len([c for c in cells if c != "[c]"]), page.name
        printed |= {c for c in cells if c != "[c]"}
    assert printed <= shown
    assert not printed & (hidden - shown)


# --------------------------------------------------------------------------------------------
# What a page says (a small run bundle built here)
# --------------------------------------------------------------------------------------------

def _cells(table_id: str, kind: str, rows: list[tuple]) -> pd.DataFrame:
    """A published table from (level, label, column, n, base, hidden) rows."""
    return pd.DataFrame([{
        "table_id": table_id, "row_type": kind, "row_level": level, "row_label": label,
        "col_level": column, "n": float("nan") if hidden else float(n), "base_n": base,
        "pct": float("nan") if hidden else 100.0 * n / base, "suppressed": hidden,
    } for level, label, column, n, base, hidden in rows])


def _bundle(version: str = "2016", basis: str = "self"):
    from pipeline.report.content import RunBundle

    phases = _cells("phases", "level", [
        ("Early", "Early", "All", 30, 47, False), ("Late", "Late", "All", 14, 47, False),
        ("unclassified", "unclassified", "All", 3, 47, False)])
    # Late: "formal" 3 of 14 is hidden (below 5) and "informal" with it (complementary).
    authority = _cells("authority", "level", [
        ("formal", "Formal authority", "All", 12, 47, False),
        ("informal", "Recognised, no mandate", "All", 35, 47, False),
        ("formal", "Formal authority", "Early", 9, 30, False),
        ("informal", "Recognised, no mandate", "Early", 21, 30, False),
        ("formal", "Formal authority", "Late", 3, 14, True),
        ("informal", "Recognised, no mandate", "Late", 11, 14, True)])
    barriers = _cells("barriers", "item", [
        ("money", "Lack of money", "All", 20, 47, False),
        ("data", "Data sharing", "All", 17, 47, False),
        ("money", "Lack of money", "Early", 13, 30, False),
        ("data", "Data sharing", "Early", 8, 30, False),
        ("money", "Lack of money", "Late", 7, 14, False),
        ("data", "Data sharing", "Late", 9, 14, False)])
    context = {
        "title": "Tiny survey", "respondent_key": "pid", "phase_order": ["Early", "Late"],
        "unclassified": "unclassified", "basis": basis, "synthetic": False,
        "instrument": {"id": "tiny", "version": version, "year": 2016},
        "settings": {"disclosure_threshold": 5, "published_symbol": "[c]"},
        "tables": [{"id": "phases", "title": "Phase", "row": "phase_group", "kind": "single"},
                   {"id": "authority", "title": "Authority to lead", "row": "authority",
                    "kind": "single"},
                   {"id": "barriers", "title": "Barriers", "row": "barriers",
                    "kind": "multi"}],
        "items": {"barriers": {"money": "barriers/money", "data": "barriers/data"}},
    }
    partnerships = pd.DataFrame({
        "pid": ["P1", "P2", "P3"], "phase_group": ["Late", "unclassified", "Early"],
        "authority": ["formal", "informal", None],
        "barriers/money": [1.0, 0.0, 1.0], "barriers/data": [0.0, 1.0, 0.0]})
    empty = pd.DataFrame()
    return RunBundle(manifest={}, context=context,
                     tables={"phases": phases, "authority": authority, "barriers": barriers},
                     tests=empty, findings=empty, flow=empty, issues=empty,
                     partnerships=partnerships)


LAYOUT = {"charts": {"phases": {"table": "phases"}},
          "partner": {"characteristics": ["authority"], "tables": ["barriers"]}}
RECOMMENDATIONS = {
    "report_year": 2016, "instruments": ["2016"], "sources": {"R": "The report"},
    "all_phases": {"source": "R", "text": "Advice for everyone."},
    "phases": [{"phase": "Early", "source": "R", "preamble": "Early ones should:",
                "actions": ["plan early"]},
               {"phase": "Late", "source": "R", "preamble": "Late ones should:",
                "actions": ["plan late"]}]}


def _page(partnership: str, **options) -> tuple[dict, str]:
    from pipeline.report.html import read_report_data, render_partner_html
    from pipeline.report.partner_content import partner_content

    _, wording, _ = read_report_data()
    bundle = _bundle(**options)
    return (partner_content(bundle, partnership, LAYOUT, wording, RECOMMENDATIONS),
            render_partner_html(bundle, partnership, LAYOUT, wording, RECOMMENDATIONS))


def test_partner_page__placed_partnership__gets_its_phase_advice_and_peer_shares():
    content, html = _page("P3")
    assert content["phase"] == "Early"
    assert "placed itself in the Early phase, as did 30 of the 47" in html
    assert "Early ones should:" in html and "plan early" in html
    assert "Late ones should:" not in html and "Advice for everyone." in html
    authority = content["characteristics"][0]
    # 9 of 30 and 21 of 30 Early partnerships; P3 did not answer.
    assert [(r["label"], r["text"]) for r in authority["rows"]] == [
        ("Formal authority", "30%"), ("Recognised, no mandate", "70%")]
    assert authority["answer"] == "Not answered"
    assert not any(r["yours"] for r in authority["rows"])
    money = content["sections"][0]["rows"][0]
    assert (money["item"], money["yours"], money["text"]) == ("Lack of money", True, "43%")


def test_partner_page__peer_share_hidden_in_the_published_table__stays_hidden():
    content, html = _page("P1")
    rows = content["characteristics"][0]["rows"]
    # Both Late cells are hidden in the published table: one below the threshold (3 of 14),
    # one with it so that it cannot be worked out from the total; neither is printed.
    assert [(r["text"], r["pct"]) for r in rows] == [("[c]", None), ("[c]", None)]
    assert rows[0]["yours"]
    for hidden in ("21%", "21.4", "79%", "78.6", "3 of 14", "11 of 14"):
        assert hidden not in html
    assert "placed itself in the Late phase, as did 14 of the 47" in html
    assert "plan late" in html


def test_partner_page__unclassified_partnership__claims_no_phase():
    content, html = _page("P2")
    assert content["phase"] == "" and content["advice"]["phase"] is None
    text = html.split("<main>")[1]
    for phase in ("Early", "Late"):
        assert f"{phase} phase" not in text and f"{phase}-phase" not in text
    assert "did not place itself at a stage of the Pathway" in text
    assert "compares it with all 47 partnerships analysed" in text
    assert "Advice for everyone." in text
    # Compared with all partnerships: 35 of 47 gave its answer.
    assert [(r["yours"], r["text"]) for r in content["characteristics"][0]["rows"]] == [
        (False, "26%"), (True, "74%")]


def test_partner_page__criteria_basis__does_not_say_the_partnership_placed_itself():
    _, html = _page("P3", basis="criteria")
    assert "placed itself" not in html
    assert "By the phase criteria, your partnership’s answers place it in the Early" in html
    _, unplaced = _page("P2", basis="criteria")
    assert "placed itself" not in unplaced and "do not place it in a phase" in unplaced


def test_partner_page__wave_the_report_did_not_analyse__quotes_no_advice():
    content, html = _page("P3", version="2018")
    assert content["advice"]["phase"] is None and content["advice"]["all_phases"] is None
    assert "plan early" not in html and "Advice for everyone." not in html
    assert "quoted only on the pages of that wave" in html


def test_partner_page__characteristics_the_wave_did_not_ask__are_named_in_one_line():
    from pipeline.report.html import read_report_data
    from pipeline.report.partner_content import partner_content

    _, wording, _ = read_report_data()
    layout = {**LAYOUT, "topics": {"plan": "a financial plan", "staff": "paid staff"},
              "partner": {"characteristics": ["plan", "authority", "staff"], "tables": []}}
    content = partner_content(_bundle(), "P3", layout, wording, RECOMMENDATIONS)
    assert [b["title"] for b in content["characteristics"]] == ["Authority to lead"]
    assert content["characteristics_note"] == \
        "This wave did not ask about a financial plan or paid staff, so they are not shown."


@pytest.mark.parametrize("text, expected", [
    (None, False),
    ('{"settings": {"partner_reports": true}}', True),
    ('{"settings": {"partner_reports": false}}', False),
    ('{"settings": {"partner_reports": "yes"}}', False),
    ("not json {", False),
    ("[1, 2]", False),
])
def test_recorded_partner_reports__reads_the_earlier_run_folder_choice(tmp_path, text,
                                                                       expected):
    from pipeline.run.waves import recorded_partner_reports

    if text is not None:
        (tmp_path / "run.json").write_text(text, encoding="utf-8")
    assert recorded_partner_reports(tmp_path) is expected
