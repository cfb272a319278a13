"""The trend reports of an all-waves run: the trends workbook, the summary for funders
(HTML and PDF) and the executed trends notebook, checked on the files as a person gets them.
The all-waves run is made once for the module."""

from __future__ import annotations

import csv
import re
import shutil
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from conftest import PROJECT, pages_ending_in_a_heading
from pipeline.cli.main import cli

WAVES = PROJECT / "raw" / "pulse_check"
REPORT_FILES = ("published/trends.xlsx", "published/trends_summary.html",
                "published/trends_summary.pdf", "internal/trends.ipynb", "internal/trends.html")


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("allwaves")
    result = CliRunner().invoke(cli, ["run", str(WAVES), "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    return out


@pytest.fixture(scope="module")
def trends_dir(out) -> Path:
    return out / "pulse_check-trends"


@pytest.fixture(scope="module")
def summary_text(trends_dir) -> str:
    html = (trends_dir / "published" / "trends_summary.html").read_text(encoding="utf-8")
    body = html.split("<main>", 1)[1]
    text = re.sub(r'src="[^"]*"', "", body)  # the chart images are checked by their alt text
    text = re.sub(r"<[^>]+>|&[a-z#0-9]+;", " ", text)
    pdf = " ".join(page.extract_text() for page in
                   PdfReader(trends_dir / "published" / "trends_summary.pdf").pages)
    pdf = re.sub(r"Page \d+ of \d+", " ", pdf)
    return re.sub(r"\s+", " ", text + " " + pdf)


def _sheets(path: Path) -> dict[str, list[list[object]]]:
    """Every sheet of a workbook as rows of values (read with calamine)."""
    frames = pd.read_excel(path, sheet_name=None, header=None, engine="calamine")
    return {name: frame.astype(object).where(frame.notna(), None).values.tolist()
            for name, frame in frames.items()}


def _numbers(text: str) -> list[str]:
    return re.findall(r"(?<![\w.])\d+(?:\.\d+)?", text)


@pytest.mark.slow
def test_all_waves_run__writes_every_wave_and_the_trend_reports(out, trends_dir):
    for wave in ("2014", "2016", "2018", "2020"):
        assert (out / f"pulse_check-{wave}" / "published" / "funder_summary.pdf").exists()
    for name in REPORT_FILES:
        assert (trends_dir / name).stat().st_size > 1000, name


#: Most pages each wave's funder summary may take, its provenance appendix included: about
#: six, and the 2020 one with its two sections beyond the 2016 report.
FUNDER_PAGES = {"2014": 7, "2016": 7, "2018": 7, "2020": 8}


@pytest.mark.slow
def test_funder_summaries__of_every_wave_take_about_six_pages(out):
    pages = {wave: len(PdfReader(out / f"pulse_check-{wave}" / "published"
                                 / "funder_summary.pdf").pages) for wave in FUNDER_PAGES}
    assert all(pages[wave] <= most for wave, most in FUNDER_PAGES.items()), pages


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler's pdftotext")
def test_summaries__no_page_ends_with_a_heading(out, trends_dir):
    pdfs = [out / f"pulse_check-{wave}" / "published" / "funder_summary.pdf"
            for wave in FUNDER_PAGES]
    pdfs.append(trends_dir / "published" / "trends_summary.pdf")
    found = {pdf.parent.parent.name: pages_ending_in_a_heading(pdf) for pdf in pdfs}
    assert not any(found.values()), found


@pytest.mark.slow
def test_trends_summary_pdf__first_page_holds_the_first_charts(trends_dir):
    # The first page is the brief and the charts of what changed, not a half-empty page.
    ylabel = tomllib.loads((PROJECT / "reports" / "report.toml").read_text(
        encoding="utf-8"))["trends"]["ylabel"]
    first = PdfReader(trends_dir / "published" / "trends_summary.pdf").pages[0].extract_text()
    assert ylabel in first


@pytest.mark.slow
def test_trends_summary_pdf__is_a_short_document_with_the_sections_in_order(trends_dir):
    pages = PdfReader(trends_dir / "published" / "trends_summary.pdf").pages
    assert 2 <= len(pages) <= 6
    text = re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pages))
    headings = ["What changed between waves", "Key measures by wave",
                "How partnerships moved between phases", "Methods", "Caveats"]
    positions = [text.index(h) for h in headings]
    assert positions == sorted(positions)


@pytest.mark.slow
def test_trends_summary__every_number_traces_to_the_trend_tables(trends_dir, summary_text):
    allowed: set[str] = set()
    for name in ("published/trends.csv", "published/trend_changes.csv",
                 "internal/transitions.csv"):
        frame = pd.read_csv(trends_dir / name)
        for column in frame.columns:
            for value in pd.to_numeric(frame[column], errors="coerce").dropna():
                allowed |= {f"{value:.0f}", f"{abs(value):.0f}"}
    # Numbers inside words (labels and caveat texts, e.g. "51–75%" or an assumption id) are
    # quoted text, not results; the analysed counts per wave are the runs' own (run.json).
    words = pd.read_csv(trends_dir / "published" / "caveats.csv", dtype=str, keep_default_na=False)
    labels = pd.read_csv(trends_dir / "published" / "trends.csv", dtype=str)["label"]
    allowed |= {n for text in [*words["caveat"], *labels] for n in _numbers(text)}
    manifest = pd.read_json(trends_dir / "run.json", typ="series")
    allowed |= {str(w["counts"]["analysed"]) for w in manifest["waves"]}
    # Stated settings: the 95% interval, the 5% false discovery rate, the threshold.
    allowed |= {"95", "5", str(manifest["disclosure_threshold"])}
    stray = sorted({n for n in _numbers(summary_text) if n not in allowed})
    assert stray == []


@pytest.mark.slow
def test_trends_summary__sentences_say_the_rounded_percentages_of_trend_changes(
        trends_dir, summary_text):
    changes = pd.read_csv(trends_dir / "published" / "trend_changes.csv", dtype={"from_wave": str,
                                                                   "to_wave": str})
    # The key measures' overall changes that are published (a change computed from a hidden
    # share is withheld, and the summary leaves it out).
    rows = changes[(changes["phase"] == "All") & (changes["from_wave"] == "2016")
                   & changes["pct_from"].notna() & changes["pct_to"].notna()]
    said = [row["label"] for _, row in rows.iterrows()
            if f"{row['label']}: {row['pct_from']:.0f}% in 2016 and {row['pct_to']:.0f}% in "
               f"2018" in summary_text]
    assert len(said) >= 2, said


@pytest.mark.slow
def test_trends_summary__only_significant_differences_are_called_changes(trends_dir,
                                                                           summary_text):
    changes = pd.read_csv(trends_dir / "published" / "trend_changes.csv")
    if not changes["significant"].astype(str).str.lower().eq("true").any():
        assert " rose from " not in summary_text and " fell from " not in summary_text
        assert "No measure shown here changed significantly" in summary_text


@pytest.mark.slow
def test_trends_summary__prints_every_caveat(trends_dir, summary_text):
    caveats = pd.read_csv(trends_dir / "published" / "caveats.csv", dtype=str,
                          keep_default_na=False)
    assert caveats["measure"].iloc[0].startswith("(")
    for text in caveats["caveat"].unique():
        assert re.sub(r"\s+", " ", text) in summary_text


@pytest.mark.slow
def test_trends_summary__transition_counts_below_five_are_shown_as_less_than_five(
        trends_dir):
    html = (trends_dir / "published" / "trends_summary.html").read_text(encoding="utf-8")
    section = html.split('id="transitions"', 1)[1].split("</section>", 1)[0]
    cells = re.findall(r'<td class="num">([^<]*)</td>', section)
    transitions = pd.read_csv(trends_dir / "internal" / "transitions.csv")
    assert len(cells) == len(transitions)
    assert "&lt;5" in cells
    small = transitions[(transitions["count"] > 0) & (transitions["count"] < 5)]
    assert not small.empty
    printed = {c for c in cells if c.isdigit()}
    assert all(int(c) >= 5 or int(c) == 0 for c in printed)


@pytest.mark.slow
def test_trends_summary__is_self_contained_with_alt_text_on_every_chart(trends_dir):
    html = (trends_dir / "published" / "trends_summary.html").read_text(encoding="utf-8")
    images = re.findall(r"<img [^>]*>", html)
    assert len(images) >= 6
    assert all('alt="' in i and 'src="data:image/svg+xml;base64,' in i for i in images)
    assert not re.search(r'(src|href)="(https?:)?//', html)


@pytest.mark.slow
def test_trend_outputs__hold_no_partnership_name_except_the_review_file(trends_dir):
    names = set()
    for export in WAVES.glob("*/*.csv"):
        with open(export, encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))[2:]
        names |= {r["partnership_name"].strip() for r in rows
                  if len(r.get("partnership_name", "").strip()) > 3}
    assert len(names) > 50
    review = (trends_dir / "internal" / "histories_review.csv").read_text(encoding="utf-8")
    assert any(name in review for name in names)  # the sweep can find a name at all
    texts = {p.name: p.read_text(encoding="utf-8") for p in trends_dir.rglob("*")
             if p.is_file() and p.suffix in (".csv", ".html", ".ipynb", ".json")
             and p.name != "histories_review.csv"}
    summary_pdf = PdfReader(trends_dir / "published" / "trends_summary.pdf")
    texts["trends_summary.pdf"] = " ".join(page.extract_text() for page in summary_pdf.pages)
    sheets = _sheets(trends_dir / "published" / "trends.xlsx")
    texts["trends.xlsx"] = " ".join(str(v) for rows in sheets.values()
                                    for row in rows for v in row if v is not None)
    leaks = [(file, name) for file, text in texts.items() for name in names
             if re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text)]
    assert leaks == []


@pytest.mark.slow
def test_trends_workbook__has_contents_family_sheets_with_waves_as_columns_and_caveats(
        trends_dir):
    book = _sheets(trends_dir / "published" / "trends.xlsx")
    names = list(book)
    assert names[0] == "Contents"
    families = pd.read_csv(trends_dir / "published" / "trends.csv")["family"].unique()
    assert set(families) <= set(names)
    assert {"Transitions", "Caveats", "Trend tests"} <= set(names)
    with zipfile.ZipFile(trends_dir / "published" / "trends.xlsx") as archive:
        sheet_xml = archive.read(f"xl/worksheets/sheet{names.index('Barriers') + 1}.xml")
    assert b'topLeftCell="C6"' in sheet_xml and b'state="frozen"' in sheet_xml
    rows = book["Barriers"]
    assert [w for w in rows[3] if w] == ["Measure", "Phase", "2014", "2016", "2018",
                                        "2020"]
    values = [str(v) for row in rows for v in row if v is not None]
    assert "q (adjusted)" in values
    assert any(v.startswith("[1] The 2016 barrier list") for v in values)
    assert "<5" in [row[-1] for row in book["Transitions"]]


@pytest.mark.slow
def test_trends_notebook__ran_every_cell_without_error(trends_dir):
    notebook = nbformat.read(trends_dir / "internal" / "trends.ipynb", as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.get("execution_count") for c in code)
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") in ("error", "stream")
                and o.get("name", "") != "stdout"]
    html = (trends_dir / "internal" / "trends.html").read_text(encoding="utf-8")
    assert "Tests of change" in html and "data:image/svg+xml" in html


@pytest.mark.slow
def test_report_command__re_renders_a_trends_folder_byte_identically(trends_dir,
                                                                      tmp_path):
    copy = tmp_path / "trends"
    shutil.copytree(trends_dir, copy)
    for name in REPORT_FILES:
        (copy / name).unlink()
    result = CliRunner().invoke(cli, ["report", str(copy)])
    assert result.exit_code == 0, result.output
    for name in REPORT_FILES:
        assert (copy / name).read_bytes() == (trends_dir / name).read_bytes(), name


def _figures(trends_dir: Path) -> list[dict]:
    """Every chart of the trends summary: its measure, phases, caption text and SVG text."""
    import base64

    html = (trends_dir / "published" / "trends_summary.html").read_text(encoding="utf-8")
    out = []
    for match in re.finditer(r'<figure class="trend" data-measure="([^"]+)" '
                             r'data-phases="([^"]*)">(.*?)</figure>', html, re.S):
        svg = re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', match.group(3))
        caption = re.search(r"<figcaption>(.*?)</figcaption>", match.group(3), re.S)
        out.append({"measure": match.group(1), "phases": match.group(2).split(),
                    "caption": re.sub(r"<[^>]+>", " ", caption.group(1)) if caption else "",
                    "svg": base64.b64decode(svg.group(1)).decode() if svg else ""})
    return out


@pytest.mark.slow
def test_trends_summary__every_significant_change_has_a_chart_that_explains_it(trends_dir):
    changes = pd.read_csv(trends_dir / "published" / "trend_changes.csv",
                          dtype={"from_wave": str, "to_wave": str})
    significant = changes[changes["significant"].astype(str).str.lower() == "true"]
    assert len(significant) >= 3
    figures = _figures(trends_dir)
    for row in significant.itertuples():
        charts = [f for f in figures if f["measure"] == row.measure]
        assert len(charts) == 1, row.measure
        assert row.phase in charts[0]["phases"], (row.measure, row.phase)
        verb = "rose" if row.difference > 0 else "fell"
        said = re.sub(r"\s+", " ", charts[0]["caption"])
        assert f"{verb} from {row.pct_from:.0f}% in {row.from_wave} to {row.pct_to:.0f}% in " \
               f"{row.to_wave}" in said, (row.measure, row.phase)


@pytest.mark.slow
def test_trends_summary__no_chart_without_its_sentence_and_no_numbered_series(trends_dir):
    figures = _figures(trends_dir)
    assert len(figures) >= 8
    for figure in figures:
        assert "% in " in figure["caption"] or "% →" in figure["caption"] \
            or "not compared" in figure["caption"], figure["measure"]
        assert not re.search(r">\s*series \d", figure["svg"]), figure["measure"]


@pytest.mark.slow
def test_trends_summary__opens_with_three_lines_on_the_significant_changes(trends_dir,
                                                                             summary_text):
    html = (trends_dir / "published" / "trends_summary.html").read_text(encoding="utf-8")
    lines = re.findall(r'<p class="brief-line">(.*?)</p>', html, re.S)
    assert len(lines) == 3
    assert lines[0].startswith(("Rose significantly:", "No measure rose"))
    assert lines[1].startswith(("Fell significantly:", "No measure fell"))
    assert html.index('class="brief-line"') < html.index("<figure")
    changes = pd.read_csv(trends_dir / "published" / "trend_changes.csv",
                          dtype={"from_wave": str, "to_wave": str})
    significant = changes[changes["significant"].astype(str).str.lower() == "true"]
    for row in significant.itertuples():
        line = lines[0] if row.difference > 0 else lines[1]
        assert row.label in line
        assert f"{row.pct_from:.0f}% → {row.pct_to:.0f}% ({row.from_wave} to " \
               f"{row.to_wave})" in line, (row.measure, row.phase)
