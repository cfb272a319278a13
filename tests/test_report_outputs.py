"""The reports as a person receives them: the funder summary (HTML and PDF), the analyst
notebook and the partnership pages, checked on the rendered files of one sample run."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from conftest import INSTRUMENT_2016, PROJECT, sample_personal_values
from pipeline.cli.main import cli

HEADINGS = ("Key messages", "The phases: where partnerships place themselves",
            "Who the partnerships are", "Published in 2016 / this run",
            "Sector participation and leadership", "Barriers and momentum builders by phase",
            "Common to all phases", "What sets each phase apart", "Recommendations",
            "Methods and caveats", "Appendix: provenance of this run")


@pytest.fixture(scope="module")
def run_dir(sample_run_dir) -> Path:
    return sample_run_dir


@pytest.fixture(scope="module")
def pdf_text(run_dir) -> list[str]:
    pdf = PdfReader(run_dir / "published" / "funder_summary.pdf")
    return [page.extract_text() for page in pdf.pages]


class _Page(HTMLParser):
    """Collects references, image alt texts, ids and the visible text outside provenance."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []
        self.images: list[dict] = []
        self.ids: set[str] = set()
        self.text: list[str] = []
        self._skip = 0
        self._depth_stack: list[bool] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        for name in ("src", "href"):
            if attrs.get(name) is not None:
                self.refs.append((tag, name, attrs[name]))
        if tag == "img":
            self.images.append(attrs)
        skip = tag in ("style", "script", "title") or attrs.get("data-provenance") == "true"
        if tag not in ("img", "meta", "br", "link", "input", "hr"):
            self._depth_stack.append(skip)
            self._skip += skip

    def handle_endtag(self, tag):
        if tag not in ("img", "meta", "br", "link", "input", "hr") and self._depth_stack:
            self._skip -= self._depth_stack.pop()

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def _traceable_numbers(run_dir: Path) -> set[str]:
    """Every way a cell of a table this run wrote may be printed (counts, rounded percents)."""
    allowed: set[str] = set()
    frames = [pd.read_csv(p) for p in (run_dir / "internal" / "tables").glob("*.csv")]
    frames += [pd.read_csv(run_dir / name) for name in (
        "internal/flow.csv", "internal/findings.csv", "internal/phase_agreement.csv",
        "published/findings.csv")]
    for frame in frames:
        for column in frame.columns:
            values = pd.to_numeric(frame[column], errors="coerce").dropna()
            for value in values:
                allowed |= {f"{value:.0f}", f"{value:.1f}"}
                if float(value).is_integer():
                    allowed.add(str(int(value)))
    # Numbers inside labels and titles (e.g. a level "2010 and later", the wave's title, a
    # source's year) are words, not results.
    labels = [str(v) for frame in frames for column in ("row_label", "item_label")
              if column in frame for v in frame[column].dropna()]
    context = json.loads((run_dir / "published" / "report.json").read_text(encoding="utf-8"))
    labels += [context["title"], str(context["instrument"]["year"])]
    labels += list(tomllib.loads((PROJECT / "reports" / "funder" / "recommendations.toml")
                                 .read_text(encoding="utf-8"))["sources"].values())
    # The figures a published report printed, quoted beside this run's (with their sources).
    published = tomllib.loads((PROJECT / "reports" / "funder" / "published.toml")
                              .read_text(encoding="utf-8"))
    labels += [f["published"] for f in published["figures"]]
    labels += list(published["sources"].values())
    allowed |= {n for label in labels for n in _numbers(label)}
    # The settings the methods section states (from the specification, not computed).
    spec = tomllib.loads((INSTRUMENT_2016 / "tables.toml").read_text(encoding="utf-8"))
    settings, rule = spec["settings"], spec["distinctive"]
    allowed |= {f"{100 * settings['level']:.0f}", str(settings["disclosure_threshold"]),
                f"{rule['min_difference']:.0f}", f"{100 * rule['alpha']:.0f}"}
    return allowed


def _numbers(text: str) -> list[str]:
    return re.findall(r"(?<![\w.])\d+(?:\.\d+)?", text)




def _leaks(text: str, values: set[str]) -> list[str]:
    return [v for v in values
            if v in text and re.search(rf"(?<!\w){re.escape(v)}(?!\w)", text)]


# --- what the run writes -----------------------------------------------------------------------

@pytest.mark.slow
def test_sample_run__writes_the_reports_for_all_three_audiences(run_dir):
    for name in ("internal/analyst.ipynb", "internal/analyst.html", "published/tables.xlsx",
                 "published/funder_summary.html", "published/funder_summary.pdf",
                 "published/report.json"):
        assert (run_dir / name).stat().st_size > 1000, name
    manifest = json.loads((run_dir / "run.json").read_text())
    assert "published/funder_summary.pdf" in manifest["outputs"]
    assert not (run_dir / "published" / "partners").exists(), "partner reports are opt-in"


@pytest.mark.slow
def test_analyst_notebook__ran_every_cell_without_error_or_stderr(run_dir):
    notebook = nbformat.read(run_dir / "internal" / "analyst.ipynb", as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert len(code) >= 8
    assert all(c.execution_count for c in code)
    outputs = [o for c in code for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert not [o for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert any(c.metadata.get("tags") == ["parameters"] for c in code)
    assert [c.id for c in notebook.cells] == [f"cell-{i:02d}" for i in range(len(notebook.cells))]


@pytest.mark.slow
def test_analyst_notebook__shows_flow_issues_every_table_and_assumptions(run_dir):
    html = (run_dir / "internal" / "analyst.html").read_text(encoding="utf-8")
    context = json.loads((run_dir / "published" / "report.json").read_text())
    for table in context["tables"]:
        assert table["title"] in html, table["id"]
    for text in ("The flow of exclusions", "Data issues", "Cohen", "Assumptions in force",
                 "A-PHASE-1", "data:image/svg+xml;base64,"):
        assert text in html, text


# --- the funder summary as read ----------------------------------------------------------------

@pytest.mark.slow
def test_funder_pdf__has_the_headings_in_order_on_a_few_pages(pdf_text):
    # About six pages, the provenance appendix included.
    assert 3 <= len(pdf_text) <= 7
    text = "\n".join(pdf_text)
    positions = [text.find(h) for h in HEADINGS]
    assert all(p >= 0 for p in positions), dict(zip(HEADINGS, positions, strict=True))
    assert positions == sorted(positions)
    assert f"Page 1 of {len(pdf_text)}" in pdf_text[0]


@pytest.mark.slow
def test_funder_pdf__headline_is_the_most_common_barrier_rate_from_the_table(run_dir,
                                                                             pdf_text):
    barriers = pd.read_csv(run_dir / "internal" / "tables" / "barriers.csv")
    overall = barriers[(barriers["col_level"] == "All") & (barriers["row_type"] == "item")]
    top = overall.sort_values("pct", ascending=False).iloc[0]
    first_page = " ".join(pdf_text[0].split())
    assert f"{top['pct']:.0f}%" in first_page
    assert top["row_label"] in first_page


@pytest.mark.slow
def test_funder_summary__every_number_traces_to_a_table_cell_of_the_same_run(run_dir,
                                                                           pdf_text):
    allowed = _traceable_numbers(run_dir)
    page = _parse(run_dir / "published" / "funder_summary.html")
    html_numbers = _numbers(" ".join(page.text))
    assert len(html_numbers) > 100
    untraced = sorted({n for n in html_numbers if n not in allowed})
    assert not untraced, f"HTML numbers not in any table: {untraced}"
    # In the PDF: everything before the provenance block, without the page footers.
    text = "\n".join(pdf_text)
    text = text[: text.find("Appendix: provenance of this run")]
    text = re.sub(r"Page \d+ of \d+", "", text)
    untraced = sorted({n for n in _numbers(text) if n not in allowed})
    assert not untraced, f"PDF numbers not in any table: {untraced}"


@pytest.mark.slow
def test_funder_summary__map_table_and_published_comparison_are_cells_of_the_run(run_dir):
    html = (run_dir / "published" / "funder_summary.html").read_text(encoding="utf-8")
    states = pd.read_csv(run_dir / "internal" / "tables" / "states.csv")
    states = states[(states["col_level"] == "All") & (states["row_type"] == "item")]
    block = html.split('class="statelist"', 1)[1].split("</div>", 1)[0]
    printed = re.findall(r"<tr><td>([^<]+)</td><td class=\"num\">([^<]+)</td>"
                         r"<td class=\"num\">([^<]+)</td></tr>", block)
    truth = {r.row_label: r for r in states.itertuples()}
    assert len(printed) == int((states["n"] > 0).sum())
    for label, n, pct in printed:
        row = truth[label]
        if row.suppressed:
            assert n == pct == "[c]", label
        else:
            assert (int(n), pct) == (row.n, f"{row.pct:.0f}%"), label
    assert "Published in 2016 / this run" in html
    barriers = pd.read_csv(run_dir / "internal" / "tables" / "barriers.csv")
    top = barriers[(barriers["col_level"] == "All") & (barriers["row_level"]
                                                      == "measuring_progress")].iloc[0]
    assert f"<td>69%</td><td>{top['pct']:.0f}% ({top['n']} of {top['base_n']})</td>" in html


@pytest.mark.slow
def test_funder_summary__no_personal_value_from_the_raw_export_appears(run_dir, pdf_text):
    values = sample_personal_values()
    assert len(values) > 500
    html = (run_dir / "published" / "funder_summary.html").read_text(encoding="utf-8")
    assert not _leaks(html, values)
    assert not _leaks("\n".join(pdf_text), values)


@pytest.mark.slow
def test_funder_html__is_self_contained_with_alt_text_on_every_chart(run_dir):
    page = _parse(run_dir / "published" / "funder_summary.html")
    assert len(page.images) == 5  # phases, map of states, sectors, barriers, momentum
    for image in page.images:
        assert image["src"].startswith("data:image/svg+xml;base64,")
        assert len(image.get("alt", "")) > 40
    for tag, name, value in page.refs:
        assert value.startswith("data:") or (value.startswith("#") and value[1:] in page.ids), \
            (tag, name, value[:60])
    summary = (run_dir / "published" / "funder_summary.html").read_text(encoding="utf-8")
    assert "<script" not in summary


@pytest.mark.slow
def test_analyst_html__loads_nothing_from_the_network(run_dir):
    page = _parse(run_dir / "internal" / "analyst.html")
    remote = [(t, n, v) for t, n, v in page.refs if re.match(r"(https?:)?//", v)]
    assert not remote


@pytest.mark.slow
def test_funder_summary__recommendations_keep_the_source_wording(run_dir, pdf_text):
    recommendations = tomllib.loads((PROJECT / "reports" / "funder" / "recommendations.toml")
                                    .read_text(encoding="utf-8"))
    html = (run_dir / "published" / "funder_summary.html").read_text(encoding="utf-8")
    for action in recommendations["funders"]["actions"]:
        assert action.replace("&", "&amp;") in html
    assert "Source:" in "\n".join(pdf_text)


# --- rerunning ---------------------------------------------------------------------------------

@pytest.mark.slow
def test_report_command__re_renders_byte_identical_files_from_the_run_folder(run_dir,
                                                                            tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    for name in ("published/funder_summary.html", "published/funder_summary.pdf",
                 "internal/analyst.ipynb", "internal/analyst.html"):
        (copy / name).unlink()
    result = CliRunner().invoke(cli, ["report", str(copy)])
    assert result.exit_code == 0, result.output
    different = [p.relative_to(run_dir).as_posix() for p in sorted(run_dir.rglob("*"))
                 if p.is_file() and p.read_bytes() != (copy / p.relative_to(run_dir)).read_bytes()]
    assert not different


def test_report_command__on_a_folder_without_report_data__exits_2_with_render_001(tmp_path):
    (tmp_path / "run.json").write_text("{}")
    result = CliRunner().invoke(cli, ["report", str(tmp_path)])
    assert result.exit_code == 2
    assert "RENDER_001" in result.output


# --- partnership pages -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def partner_dir(run_dir, tmp_path_factory) -> Path:
    """Partnership pages for partnerships of every phase (HTML) and a few PDFs, from a copy
    of the run."""
    from pipeline.report.html import html_to_pdf, load_run, read_report_data, render_partner_html

    copy = tmp_path_factory.mktemp("partners") / "run"
    shutil.copytree(run_dir, copy)
    bundle = load_run(copy, with_partnerships=True, view="published")
    layout, wording, _ = read_report_data()
    out = copy / "published" / "partners"
    out.mkdir()
    partnerships = pd.read_csv(copy / "internal" / "partnerships.csv", dtype=str)
    # A dozen from each phase group (unclassified included) keeps the test quick.
    ids = sorted(partnerships.groupby("phase_group").head(12)["partnership_id"])
    for index, partnership in enumerate(ids):
        html = render_partner_html(bundle, partnership, layout, wording)
        (out / f"{partnership}.html").write_text(html, encoding="utf-8")
        if index < 3:
            html_to_pdf(html, out / f"{partnership}.pdf")
    return copy


@pytest.mark.slow
def test_partner_pdf__is_at_most_three_pages_with_its_own_id_and_phase_first(partner_dir):
    partnerships = pd.read_csv(partner_dir / "internal" / "partnerships.csv", dtype=str)
    pdfs = sorted((partner_dir / "published" / "partners").glob("*.pdf"))
    assert len(pdfs) == 3
    for pdf in pdfs:
        pages = PdfReader(pdf).pages
        assert 1 <= len(pages) <= 3
        text = pages[0].extract_text()
        own = partnerships[partnerships["partnership_id"] == pdf.stem].iloc[0]
        assert f"Partnership {pdf.stem}" in text
        assert own["phase_group"] in text


@pytest.mark.slow
def test_partner_page__peer_rates_are_the_published_cells_of_its_phase(partner_dir):
    partnerships = pd.read_csv(partner_dir / "internal" / "partnerships.csv", dtype=str)
    barriers = pd.read_csv(partner_dir / "internal" / "tables" / "barriers.csv")
    own = partnerships[partnerships["phase_group"] == "Middle"].iloc[0]
    page = _parse(partner_dir / "published" / "partners" / f"{own['partnership_id']}.html")
    text = " ".join(" ".join(page.text).split())
    peers = barriers[(barriers["col_level"] == "Middle") & (barriers["row_type"] == "item")]
    for row in peers.itertuples():
        # A share hidden in the published tables carries the one published mark.
        expected = "[c]" if row.suppressed else f"{row.pct:.0f}%"
        assert f"{row.row_label} " in text
        assert re.search(re.escape(row.row_label) + r" (✔ You named it|—) "
                         + re.escape(expected), text), row.row_label


@pytest.mark.slow
def test_partner_pages__show_no_other_partnership_and_no_personal_value(partner_dir):
    ids = set(pd.read_csv(partner_dir / "internal" / "partnerships.csv",
                          dtype=str)["partnership_id"])
    values = sample_personal_values()
    for page in sorted((partner_dir / "published" / "partners").glob("*.html")):
        text = page.read_text(encoding="utf-8")
        others = [i for i in ids - {page.stem} if re.search(rf"\b{i}\b", text)]
        assert not others, page.name
        assert not _leaks(text, values), page.name
    for pdf in (partner_dir / "published" / "partners").glob("*.pdf"):
        assert not _leaks(PdfReader(pdf).pages[0].extract_text(), values)


@pytest.mark.slow
def test_funder_summary__tells_the_story_in_four_to_six_key_messages_and_defines_the_phases(
        run_dir):
    page = _parse(run_dir / "published" / "funder_summary.html")
    html = (run_dir / "published" / "funder_summary.html").read_text(encoding="utf-8")
    messages = html.split('<ul class="messages">', 1)[1].split("</ul>", 1)[0]
    assert 4 <= messages.count("<li>") <= 6
    text = " ".join(" ".join(page.text).split())
    phases = pd.read_csv(run_dir / "internal" / "tables" / "phase_distribution.csv")
    unplaced = phases[(phases["row_level"] == "unclassified") & (phases["col_level"] == "All")]
    assert f"{int(unplaced['n'].iloc[0])} partnerships" in text
    for stage in ("Campaign, Engage", "Align", "Redesign, Integrate"):
        assert f"Pathway stages: {stage}." in text


@pytest.mark.slow
def test_funder_summary__common_items_are_among_the_five_most_named_in_every_phase(run_dir):
    html = (run_dir / "published" / "funder_summary.html").read_text(encoding="utf-8")
    section = html.split('id="h-common"', 1)[1].split("</ul>", 1)[0]
    barriers = pd.read_csv(run_dir / "internal" / "tables" / "barriers.csv")
    items = barriers[(barriers["row_type"] == "item")
                     & ~barriers["row_level"].isin(["none", "other"])]
    tops = [set(group.nlargest(5, "pct", keep="all")["row_label"])
            for phase, group in items.groupby("col_level") if phase != "All"]
    expected = set.intersection(*tops)
    assert expected
    named = set(re.findall(r"“([^”]+)”", section.split("<li>")[1]))
    assert named == expected


@pytest.mark.slow
def test_funder_summary__a_single_choice_pattern_across_phases_is_one_finding(run_dir):
    # The published findings: one tested on a hidden count is withheld from the summary.
    findings = pd.read_csv(run_dir / "published" / "findings.csv")
    chosen = findings[findings["distinctive"].astype(str).str.lower() == "true"]
    context = json.loads((run_dir / "published" / "report.json").read_text())
    single = {t["id"]: t["title"] for t in context["tables"] if t["kind"] == "single"}
    twice = [t for t, group in chosen.groupby("table_id")
             if t in single and group["phase"].nunique() > 1]
    assert twice, "the sample has a pattern to merge"
    html = (run_dir / "published" / "funder_summary.html").read_text(encoding="utf-8")
    section = html.split('id="findings"', 1)[1].split("</section>", 1)[0]
    sentences = re.findall(r'<li class="finding">(.*?)</li>', section, flags=re.S)
    for table in twice:
        title = single[table].replace("'", "&#39;")
        assert sum(title in s for s in sentences) == 1, table
