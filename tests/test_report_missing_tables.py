"""Reports of a wave whose instrument lacks what the report configuration names: the 2014
wave (no phase question, no phase distribution, no momentum builders) and a configuration
naming a table no wave has. Every renderer skips the part with a note; none crashes."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from conftest import PROJECT
from pipeline.cli.main import cli

WAVE_2014 = PROJECT / "raw" / "pulse_check" / "2014"


@pytest.fixture(scope="module")
def run_2014(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wave2014") / "run"
    result = CliRunner().invoke(cli, ["run", str(WAVE_2014), "--out", str(out),
                                      "--partner-reports"])
    assert result.exit_code in (0, 1), result.output
    assert "Traceback" not in result.output
    return out


@pytest.mark.slow
def test_run_of_the_2014_wave__writes_every_report_output(run_2014):
    for name in ("published/funder_summary.html", "published/funder_summary.pdf",
                 "internal/analyst.ipynb", "internal/analyst.html", "published/tables.xlsx",
                 "internal/overview.html"):
        assert (run_2014 / name).stat().st_size > 0, name
    pages = sorted((run_2014 / "published" / "partners").glob("*.pdf"))
    assert pages and len(pages) == len(list((run_2014 / "published" / "partners").glob("*.html")))


@pytest.mark.slow
def test_funder_summary_of_the_2014_wave__says_what_the_wave_did_not_ask(run_2014):
    text = " ".join(page.extract_text() for page in
                    PdfReader(run_2014 / "published" / "funder_summary.pdf").pages)
    text = re.sub(r"\s+", " ", text)
    # One line in the methods names every part left out, not one note per section.
    assert len(re.findall(r"This wave did not ask about", text)) == 1
    line = text.split("This wave did not ask about", 1)[1].split(".", 1)[0]
    assert "the partnership’s phase of development" in line
    assert "momentum builders" in line
    assert "did not ask partnerships to place themselves on the Pathway" in text
    assert "Momentum builders, by phase" not in text
    assert "What sets each phase apart" not in text


@pytest.mark.slow
def test_funder_summary_of_the_2014_wave__shows_its_number_of_partnerships(run_2014):
    text = " ".join(page.extract_text() for page in
                    PdfReader(run_2014 / "published" / "funder_summary.pdf").pages[:1])
    flow = pd.read_csv(run_2014 / "internal" / "flow.csv")
    analysed = len(pd.read_csv(run_2014 / "internal" / "partnerships.csv"))
    assert analysed in set(flow.select_dtypes("number").to_numpy().ravel())
    assert f"Based on the answers of {analysed} partnerships" in re.sub(r"\s+", " ", text)
    html = (run_2014 / "published" / "funder_summary.html").read_text(encoding="utf-8")
    messages = html.split('<ul class="messages">', 1)[1].split("</ul>", 1)[0]
    assert 4 <= messages.count("<li>") <= 6


@pytest.mark.slow
def test_funder_summary_of_the_2014_wave__prints_no_phase_name(run_2014):
    html = (run_2014 / "published" / "funder_summary.html").read_text(encoding="utf-8")
    body = html.split("<main>", 1)[1].split('id="recommendations"', 1)[0]
    for phase in ("Earlier phase", "Middle phase", "Later phase"):
        assert phase not in body


@pytest.mark.slow
def test_analyst_notebook_of_the_2014_wave__ran_every_cell_and_notes_the_missing_phase(
        run_2014):
    notebook = nbformat.read(run_2014 / "internal" / "analyst.ipynb", as_version=4)
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    html = (run_2014 / "internal" / "analyst.html").read_text(encoding="utf-8")
    assert "did not ask partnerships to place themselves in a phase" in html


@pytest.mark.slow
def test_partner_page_of_the_2014_wave__compares_with_all_partnerships(run_2014):
    page = sorted((run_2014 / "published" / "partners").glob("*.html"))[0].read_text(
        encoding="utf-8")
    assert "This wave did not ask partnerships to place themselves in a phase." in page
    assert "All partnerships" in page
    assert "did not ask about momentum builders" in page


@pytest.mark.slow
def test_funder_summary__with_a_configuration_naming_a_missing_table__skips_it_with_a_note(
        run_2014):
    from pipeline.report.content import funder_content
    from pipeline.report.html import load_run, read_report_data
    from pipeline.report.partner_content import partner_content, partner_ids

    bundle = load_run(run_2014, with_partnerships=True)
    layout, wording, recommendations = read_report_data()
    layout = {**layout,
              "topics": {"no_such_table": "the weather"},
              "headlines": [*layout["headlines"],
                            {"table": "no_such_table", "show": "top", "label": "x {item}"}],
              "charts": {**layout["charts"],
                         "weather": {"kind": "bars", "table": "no_such_table", "title": "W",
                                     "xlabel": "", "alt": "{values}"}},
              "partner": {"tables": ["no_such_table", "barriers"]}}
    content = funder_content(bundle, layout, wording, recommendations)
    assert not any(content["notes"].values())
    assert "the weather" in content["methods"][-1]
    assert content["methods"][-1].startswith("This wave did not ask about")
    page = partner_content(bundle, partner_ids(bundle)[0], layout, wording)
    assert page["sections"][0]["note"] == \
        "This wave did not ask about the weather, so it is not shown."
    assert page["sections"][1]["rows"]


@pytest.mark.slow
def test_funder_summary__with_a_configuration_without_charts__renders(run_2014, monkeypatch):
    from pipeline.report import html as render

    _layout, wording, recommendations = render.read_report_data()
    monkeypatch.setattr(render, "read_report_data",
                        lambda: ({"headlines": [{"table": "gone", "show": "base",
                                                 "label": "n"}]}, wording, recommendations))
    html = render.render_funder_html(render.load_run(run_2014))
    assert "This wave did not ask about the table “gone”, so those parts" in html


def _quoted_advice() -> list[str]:
    import tomllib

    recommendations = tomllib.loads((PROJECT / "reports" / "funder" / "recommendations.toml")
                                    .read_text(encoding="utf-8"))
    return [action for group in [*recommendations["phases"], recommendations["funders"]]
            for action in group["actions"]] + \
        [p["text"] for p in recommendations["published_patterns"]]


@pytest.mark.slow
def test_funder_summary_of_the_2014_wave__quotes_no_advice_written_about_2016(run_2014):
    html = (run_2014 / "published" / "funder_summary.html").read_text(encoding="utf-8")
    for text in _quoted_advice():
        assert text not in html
    assert "are quoted only in the summary of that wave" in html
    assert "not about the ones that answered in 2014" in html


@pytest.mark.slow
def test_funder_summary_of_the_2014_wave__carries_the_caveats_of_its_own_questionnaire(
        run_2014):
    html = (run_2014 / "published" / "funder_summary.html").read_text(encoding="utf-8")
    assert "Only the outline of the 2014 survey was published." in html
    assert "The 2016 questionnaire was not published." not in html
    # No phases in 2014, so no caveat about grouping stages into phases.
    assert "grouping of the five Pathway stages" not in html


@pytest.mark.slow
def test_funder_content__a_later_wave__never_calls_the_2016_report_its_own(sample_run_dir):
    from dataclasses import replace

    from pipeline.report.content import funder_content
    from pipeline.report.html import load_run, read_report_data

    bundle = load_run(sample_run_dir)
    own = funder_content(bundle, *read_report_data())
    assert own["recommendations"] and [g for g in own["findings"] if g["published"]]
    context = {**bundle.context, "instrument": {**bundle.context["instrument"],
                                                "version": "2018", "year": 2018}}
    content = funder_content(replace(bundle, context=context), *read_report_data())
    assert content["recommendations"] == [] and content["funders"] is None
    assert content["findings"]
    assert all(group["published"] is None for group in content["findings"])
    assert "answered in 2018" in content["not_quoted"]
    texts = " ".join(c["text"] for c in content["caveats"])
    assert "2018 questionnaire used here" in texts and "2016 questionnaire" not in texts
