"""Render: turn computed results into documents people read (the output edge).

Templates live in ``reports/templates``; rendering never computes a statistic, it only
formats what the stages computed. HTML is self-contained (no remote fonts, scripts or images)
and every value is escaped.
"""

from __future__ import annotations

import calendar
import contextlib
import datetime
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import jinja2
import pandas as pd

from pipeline.columns import PHASE_COLUMN
from pipeline.errors import CATALOGUE, SEVERITIES
from pipeline.paths import contained, file_names
from pipeline.resources import data_root, shipped_or_project

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.model.wave import Wave
    from pipeline.report.content import RunBundle
    from pipeline.report.optional import Skipped
    from pipeline.report.trend_content import TrendsBundle
    from pipeline.stages.results import WaveResult
    from pipeline.stats.disclosure import DisclosureRule

#: Report templates, layout and wording ship with pulsecheck (pipeline.resources).
TEMPLATES = data_root() / "reports" / "templates"


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def issues_summary(issues: pd.DataFrame) -> list[dict]:
    """One entry per catalogue code: severity, title, count by outcome, an example message."""
    if issues.empty:
        return []
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    summary = []
    for code, group in issues.groupby("code", sort=True):
        outcomes = group["outcome"].value_counts() if "outcome" in group else pd.Series()
        summary.append({
            "code": code,
            "severity": group["severity"].iloc[0],
            "title": CATALOGUE[code].title,
            "count": len(group),
            "analysed": int(outcomes.get("analysed", 0)),
            "example": group["message"].iloc[0],
        })
    return sorted(summary, key=lambda e: (rank.get(e["severity"], 9), e["code"]))


def phase_distribution(partnerships: pd.DataFrame, order: list[str]) -> list[dict]:
    """Counts and shares of each phase group (shares of all analysed partnerships)."""
    counts = partnerships[PHASE_COLUMN].value_counts()
    total = len(partnerships)
    return [{"phase": name, "n": int(counts.get(name, 0)),
             "pct": (100.0 * counts.get(name, 0) / total) if total else 0.0}
            for name in order]


def findings_summary(findings: pd.DataFrame) -> list[dict]:
    """The phase-distinctive findings, strongest difference first within each phase."""
    if findings.empty:
        return []
    chosen = findings[findings["distinctive"].astype(bool)]
    return [
        {"phase": f.phase, "table": f.table_id, "label": f.item_label,
         "rate": f.rate, "others": f.other_rates, "difference": f.difference,
         "q": f.q_value}
        for f in chosen.sort_values(["phase", "difference"], ascending=[True, False])
        .itertuples(index=False)
    ]


def render_overview(wave: "Wave", result: "WaveResult") -> str:
    """The first HTML overview of a run: counts, flow, issues summary, phase distribution."""
    instrument = result.instrument
    order = [*instrument.phase_order, instrument.unclassified]
    template = _environment().get_template("overview.html.j2")
    return template.render(
        title=wave.title,
        survey=wave.survey,
        wave=wave.wave,
        synthetic=wave.synthetic,
        instrument=instrument,
        counts=result.counts,
        flow=result.flow.flow.to_dict("records"),
        issues=issues_summary(result.issues),
        phases=phase_distribution(result.partnerships, order),
        report=result.report,
        findings=findings_summary(result.report.tables.findings) if result.report else [],
        rule=result.report.spec.distinctive if result.report else None,
        agreement=result.report.agreement if result.report else None,
    )


# --------------------------------------------------------------------------------------------
# Reports for three audiences: funder summary, partnership pages (and the analyst notebook,
# in pipeline.report.notebook). Content comes from pipeline.report.content; this is layout and
# files.
# --------------------------------------------------------------------------------------------

REPORTS = TEMPLATES.parent
#: The run-folder file that carries what rendering needs from the specification.
REPORT_CONTEXT = "report.json"
#: Fixed document date of every PDF, so reruns are byte-identical (the run's data date is
#: the wave; a clock date would change on every run).
_PDF_DATE = "{year}-01-01T00:00:00Z"


def read_report_data() -> tuple[dict, dict, dict]:
    """The report layout, wording and recommendations (``reports/*.toml``)."""
    from pipeline.model.schemas import FunderWordingFile, RecommendationsFile, ReportLayoutFile

    return (_read_report_toml(ReportLayoutFile, "report.toml"),
            _read_report_toml(FunderWordingFile, "funder", "wording.toml"),
            _read_report_toml(RecommendationsFile, "funder", "recommendations.toml"))


def _read_report_toml(schema: Any, *parts: str) -> dict:
    """One of the reports' TOML files, checked against its schema (as parsed)."""
    from pipeline.ingest.config import read_toml

    return read_toml(REPORTS.joinpath(*parts), schema, root=REPORTS.parent)[1]


#: The part of a run folder that may leave the team.
PUBLISHED_DIR = "published"
#: The part of a run folder that stays with the team.
INTERNAL_DIR = "internal"
INTERNAL_README = """INTERNAL: do not share the files in this folder outside the research team.

They hold what published files leave out: the true counts of suppressed cells and the
statistics computed from them (tables/, findings.csv), every data problem with the values
that caused it (issues.csv), where each raw row went (dispositions.csv, quarantine.csv),
the analysed partnerships (partnerships.csv), review lists and the analyst notebook.
What may leave the team is in ../published/.
"""


def write_internal_readme(folder: Path) -> None:
    """``README.txt`` of an ``internal/`` folder: the files here are not to be shared."""
    (Path(folder) / "README.txt").write_text(INTERNAL_README, encoding="utf-8")


def load_run(folder: Path, manifest: dict | None = None,
             with_partnerships: bool = False, view: str = INTERNAL_DIR) -> "RunBundle":
    """Read what a run folder holds for rendering (no recomputation).

    Parameters
    ----------
    folder : Path
        A run folder written by ``pulsecheck run``.
    manifest : dict, optional
        ``run.json`` content when it is not written yet (during a run).
    with_partnerships : bool
        Also read ``internal/partnerships.csv`` (partnership reports only).
    view : {"internal", "published"}
        Whose tables, tests and findings to read: the analyst's (``internal/``, true counts
        beside the marks) or the published ones (``published/``, hidden numbers blank and
        the tests worked out on them; the flow and issues are then left empty).
    """
    import json

    from pipeline.errors import PulsecheckError
    from pipeline.report.content import RunBundle, with_published

    folder = Path(folder)
    context_path = folder / PUBLISHED_DIR / REPORT_CONTEXT
    if not context_path.exists():
        raise PulsecheckError("RENDER_001", path=str(folder),
                              name=f"{PUBLISHED_DIR}/{REPORT_CONTEXT}")
    context = json.loads(context_path.read_text(encoding="utf-8"))
    if manifest is None:
        manifest = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    tables_from = PUBLISHED_DIR if view == PUBLISHED_DIR else INTERNAL_DIR

    def read(name: str, part: str = tables_from) -> pd.DataFrame:
        # Names come from report.json (table ids): they must stay inside the run folder.
        path = contained(folder / part, name, what="table", file=REPORT_CONTEXT)
        if not path.exists():
            raise PulsecheckError("RENDER_001", path=str(folder), name=f"{part}/{name}")
        return pd.read_csv(path, keep_default_na=False, na_values=[""],
                           dtype={"row_level": str, "col_level": str, "item": str,
                                  "phase": str, "n_display": str, "pct_display": str})

    tables = {t["id"]: read(f"tables/{t['id']}.csv") for t in context["tables"]}
    internal = folder / INTERNAL_DIR
    agreement = read("phase_agreement.csv", INTERNAL_DIR) \
        if view != PUBLISHED_DIR and (internal / "phase_agreement.csv").exists() else None
    partnerships = None
    if with_partnerships:
        key = context["respondent_key"]
        partnerships = pd.read_csv(internal / "partnerships.csv",
                                   dtype={key: str, "phase_group": str},
                                   keep_default_na=False, na_values=[""])
    if view == PUBLISHED_DIR:
        flow = issues = pd.DataFrame()
    else:
        flow, issues = read("flow.csv", INTERNAL_DIR), read("issues.csv", INTERNAL_DIR)
    return with_published(RunBundle(
        manifest=manifest, context=context, tables=tables, tests=read("tables/tests.csv"),
        findings=read("findings.csv"), flow=flow, issues=issues,
        agreement=agreement, partnerships=partnerships))


def _svg_uri(svg: bytes) -> str:
    import base64

    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


def render_chart(chart: dict, spec: dict, fmt: str = "svg") -> bytes:
    """Draw one chart of ``reports/report.toml`` from its series."""
    from pipeline.report import charts

    if chart["kind"] == "bars":
        return charts.bar_chart(chart["estimates"], title=spec["title"],
                                xlabel=spec["xlabel"], fmt=fmt)
    if chart["kind"] == "paired_bars":
        return charts.paired_bar_chart(chart["labels"], chart["series"], chart["names"],
                                       title=spec["title"], xlabel=spec["xlabel"], fmt=fmt)
    return charts.dots_by_group_chart(chart["labels"], chart["groups"], chart["estimates"],
                                      title=spec["title"], xlabel=spec["xlabel"], fmt=fmt)


def funder_figures(bundle: "RunBundle", layout: dict,
                   wording: dict | None = None) -> dict[str, dict]:
    """Chart id → {uri, alt, title, dropped} for the funder summary (charts the wave can
    draw); ``dropped`` names the items a chart's top-N cut leaves out."""
    from pipeline.report.content import chart_drawable, chart_series, fill

    wording = wording or {}

    figures = {}
    for chart_id, spec in layout.get("charts", {}).items():
        if not chart_drawable(bundle, spec):
            continue  # the summary prints a note instead (report_content.missing_notes)
        series = chart_series(bundle, spec)
        dropped = series.get("dropped") or []
        figures[chart_id] = {"uri": _svg_uri(render_chart(series, spec)),
                             "alt": series["alt"], "title": spec["title"],
                             "dropped": fill(wording.get("profile", {}).get("dropped", ""),
                                             items=", ".join(dropped)) if dropped else ""}
    return figures


def read_published_figures() -> dict:
    """``reports/funder/published.toml``: the figures a published report printed (or none)."""
    from pipeline.model.schemas import PublishedFiguresFile

    if not (REPORTS / "funder" / "published.toml").exists():
        return {}
    return _read_report_toml(PublishedFiguresFile, "funder", "published.toml")


def read_tiles(layout: dict) -> list[dict]:
    """The map's tile positions (``[map] tiles`` of ``reports/report.toml``)."""
    spec = layout.get("map")
    if not spec:
        return []
    path = contained(REPORTS, spec["tiles"], what="tile map", file="reports/report.toml")
    frame = pd.read_csv(path, dtype={"code": str, "row": int, "col": int},
                        keep_default_na=False)
    return frame.to_dict("records")


def render_funder_html(bundle: "RunBundle") -> str:
    """``funder_summary.html``: the same document WeasyPrint turns into the PDF."""
    from pipeline.report import charts
    from pipeline.report.content import funder_content

    layout, wording, recommendations = read_report_data()
    content = funder_content(bundle, layout, wording, recommendations,
                             read_published_figures(), read_tiles(layout))
    figures = funder_figures(bundle, layout, wording)
    if content["map"]:
        chosen = content["map"]
        svg = charts.tile_map(chosen["tiles"], chosen["bins"], chosen["labels"],
                              title=chosen["title"])
        figures["map"] = {"uri": _svg_uri(svg), "alt": chosen["alt"], "title": chosen["title"]}
    template = _environment().get_template("funder_summary.html.j2")
    return template.render(c=content, figures=figures,
                           year=bundle.context["instrument"]["year"],
                           css=(TEMPLATES / "report.css").read_text(encoding="utf-8"))


#: The page's creation date, which also dates the fonts embedded in its PDF.
_CREATED = re.compile(r'<meta name="dcterms\.created" content="(\d{4}-\d{2}-\d{2})')


def html_to_pdf(html: str, path: Path) -> None:
    """Write ``html`` as a PDF (WeasyPrint); the document date comes from the page's meta.

    Subsetting a font stamps its ``head`` table with the time of writing unless
    ``SOURCE_DATE_EPOCH`` is set; the page's own creation date (1 January 1970 if it has none)
    is used for the duration of the write, so the same page gives the same bytes.
    """
    import weasyprint

    found = _CREATED.search(html)
    created = datetime.date.fromisoformat(found.group(1)) if found else datetime.date(1970, 1, 1)
    epoch = calendar.timegm(created.timetuple())
    before = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        weasyprint.HTML(string=html, base_url=str(TEMPLATES)).write_pdf(
            str(path), pdf_identifier=b"pulsecheck", uncompressed_pdf=False)
    finally:
        if before is None:
            del os.environ["SOURCE_DATE_EPOCH"]
        else:
            os.environ["SOURCE_DATE_EPOCH"] = before


def write_html_and_pdf(html: str, folder: Path, stem: str, pdf: bool = True,
                       skipped: "list[Skipped] | None" = None) -> list[str]:
    """Write one page as ``<stem>.html`` and ``<stem>.pdf``; return their names.

    With ``pdf`` false only the HTML is written. When ``skipped`` is given, a PDF that fails
    is recorded there (``RENDER_007``) instead of stopping the run.
    """
    (folder / f"{stem}.html").write_text(html, encoding="utf-8")
    if not pdf:
        return [f"{stem}.html"]
    try:
        html_to_pdf(html, folder / f"{stem}.pdf")
    except Exception as error:
        if skipped is None:
            raise
        from pipeline.report.optional import pdf_failure
        from pipeline.report.optional import skipped as skip

        (folder / f"{stem}.pdf").unlink(missing_ok=True)
        skipped.append(skip("RENDER_007", f"{stem}.pdf", *pdf_failure(error)))
        return [f"{stem}.html"]
    return [f"{stem}.html", f"{stem}.pdf"]


def _formats(pdf: bool) -> str:
    return "HTML and PDF" if pdf else "HTML"


def available_parts(pdf: bool, notebook: bool, skipped: "list[Skipped] | None",
                    names: tuple[str, str]) -> tuple[bool, bool]:
    """Which of the PDFs and the notebook can be rendered here; each missing part asked for
    is recorded in ``skipped`` (with the real cause and the fix) and left out."""
    from pipeline.report.optional import notebook_problem, pdf_problem
    from pipeline.report.optional import skipped as skip

    if skipped is None:
        return pdf, notebook
    if pdf and (problem := pdf_problem()):
        skipped.append(skip("RENDER_007", names[0], *problem))
        pdf = False
    if notebook and (problem := notebook_problem()):
        skipped.append(skip("RENDER_008", names[1], *problem))
        notebook = False
    return pdf, notebook


def render_partner_html(bundle: "RunBundle", partnership: str, layout: dict,
                        wording: dict, recommendations: dict | None = None) -> str:
    """One partnership's "where you stand" page."""
    from pipeline.report.partner_content import partner_content

    content = partner_content(bundle, partnership, layout, wording, recommendations)
    template = _environment().get_template("partner.html.j2")
    return template.render(c=content, year=bundle.context["instrument"]["year"],
                            css=(TEMPLATES / "report.css").read_text(encoding="utf-8"))


def write_reports(folder: Path, manifest: dict | None = None, *,
                  partner_reports: bool = False, notebook: bool = True, pdf: bool = True,
                  skipped: "list[Skipped] | None" = None,
                  progress: Callable[[str], None] = lambda message: None) -> list[str]:
    """Render every report of a run folder into it; returns the files written.

    Reads only the run folder (:func:`load_run`), so ``pulsecheck report`` gives the same
    files as ``pulsecheck run`` did. When ``skipped`` is a list, PDFs and the notebook are
    optional: one that cannot be rendered here, or fails, is recorded there and the other
    files are still written. ``progress`` is called with a short message before each slow
    step (rendering a document, executing a notebook).
    """
    import json

    folder = Path(folder)
    if manifest is not None and not (folder / "run.json").exists():
        # During a run the final run.json (with every output's hash) is written last; the
        # notebook reads the provenance from this provisional one.
        (folder / "run.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False)
                                         + "\n", encoding="utf-8")
    bundle = load_run(folder, manifest, with_partnerships=partner_reports,
                      view=PUBLISHED_DIR)
    pdf, notebook = available_parts(pdf, notebook, skipped,
                                    ("funder_summary.pdf", "analyst.ipynb"))
    published = folder / PUBLISHED_DIR
    written = []
    progress(f"rendering the funder summary ({_formats(pdf)})")
    with render_errors("funder summary", folder):
        written += [f"{PUBLISHED_DIR}/{name}" for name in
                    write_html_and_pdf(render_funder_html(bundle), published, "funder_summary",
                                       pdf, skipped)]
    if partner_reports:
        with render_errors("partnership pages", folder):
            written += [f"{PUBLISHED_DIR}/{name}"
                        for name in write_partner_reports(published, bundle, pdf, skipped,
                                                          progress=progress)]
    if notebook:
        from pipeline.report.notebook import write_analyst_notebook

        progress("executing the analyst notebook")
        # Executed in the run folder; it shows true counts, so it is written to internal/.
        internal = folder / INTERNAL_DIR
        written += [f"{INTERNAL_DIR}/{name}" for name in _optional_notebook(
            lambda: write_analyst_notebook(folder, internal), "analyst", "analyst notebook",
            internal, skipped)]
    return written


def _optional_notebook(write, stem: str, document: str, folder: Path,
                       skipped: "list[Skipped] | None") -> list[str]:
    """Execute a notebook; when ``skipped`` is a list, a failure is recorded there instead."""
    from pipeline.errors import PulsecheckError

    try:
        with render_errors(document, folder):
            return write()
    except PulsecheckError as error:
        if skipped is None:
            raise
        from pipeline.report.optional import skipped as skip

        for name in (f"{stem}.ipynb", f"{stem}.html"):
            (Path(folder) / name).unlink(missing_ok=True)
        skipped.append(skip("RENDER_008", f"{stem}.ipynb", error.message.rstrip("."),
                            "Fix the cause named here."))
        return []


@contextlib.contextmanager
def render_errors(document: str, folder: Path) -> Iterator[None]:
    """Turn a failure to write ``document`` (disk full, permissions) into RENDER_003.

    Only the operating system's refusals are translated, with their real cause. Problems of
    configuration are caught before rendering (the schemas of ``reports/*.toml``, RENDER_006
    for a wording placeholder); anything else is a bug and keeps its traceback.
    """
    from pipeline.errors import PulsecheckError

    try:
        yield
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise PulsecheckError("RENDER_003", document=document, path=str(folder),
                              reason=reason) from error


def write_partner_reports(folder: Path, bundle: "RunBundle", pdf: bool = True,
                          skipped: "list[Skipped] | None" = None, *,
                          progress: Callable[[str], None] = lambda message: None
                          ) -> list[str]:
    """``partners/<name>.html`` and ``.pdf`` for every analysed partnership.

    The file name is the partnership id made safe (:func:`pipeline.paths.safe_slug`: a
    ``/`` or ``..`` in an id never leads outside ``partners/``); two ids that would share a
    name stop the rendering (PATH_002) before any page is written.
    """
    from pipeline.report.partner_content import partner_ids

    layout, wording, recommendations = read_report_data()
    names = file_names(partner_ids(bundle), what="partnership ids")
    out = folder / "partners"
    out.mkdir(exist_ok=True)
    written = []
    # About ten progress messages, however many pages there are.
    every = max(1, len(names) // 10)
    for number, (partnership, stem) in enumerate(names.items(), start=1):
        if number == 1 or number % every == 0:
            progress(f"rendering partnership page {number} of {len(names)} "
                     f"({_formats(pdf)})")
        html = render_partner_html(bundle, partnership, layout, wording, recommendations)
        written += [f"partners/{name}"
                    for name in write_html_and_pdf(html, out, stem, pdf, skipped)]
    return written


ASSUMPTIONS = Path("survey_instrument") / "ASSUMPTIONS.md"


def read_assumptions(path: Path | None = None) -> pd.DataFrame:
    """The assumptions log (``survey_instrument/ASSUMPTIONS.md``) as a table: id, text, basis.

    A run keeps a copy (``assumptions.csv``) so that its reports show the assumptions in force
    when it ran, even after the log changes. ``path`` defaults to the project's own log, or
    the one shipped with pulsecheck when the project has none.
    """
    path = Path(path) if path is not None else shipped_or_project(ASSUMPTIONS)
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 3 and cells[0].startswith("A-"):
            rows.append({"id": cells[0], "assumption": cells[1], "basis": cells[2]})
    return pd.DataFrame(rows, columns=["id", "assumption", "basis"])


def assumptions_in_force(folder: Path, context: dict) -> pd.DataFrame:
    """The run's assumptions, the ones the report specification cites first."""
    frame = pd.read_csv(Path(folder) / PUBLISHED_DIR / "assumptions.csv", dtype=str,
                        keep_default_na=False)
    frame["cited by the tables"] = frame["id"].isin(context.get("assumptions", []))
    return frame.sort_values("cited by the tables", ascending=False, kind="stable") \
        .reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# The trends folder: workbook, summary for funders and analyst notebook, rendered from the
# CSV files run_waves wrote (so `pulsecheck report` can render them again).
# --------------------------------------------------------------------------------------------

#: Files of a trends folder the trend reports are rendered from (never histories_review.csv,
#: which holds partnership names).
TREND_FILES = {"trends": "trends.csv", "changes": "trend_changes.csv",
               "trend_tests": "trend_tests.csv", "caveats": "caveats.csv",
               "transitions": "transitions.csv", "movers": "phase_changes_barriers.csv"}


def is_trends_folder(folder: Path) -> bool:
    """Whether ``folder`` is a trends folder written by ``pulsecheck run`` over waves."""
    folder = Path(folder)
    return (folder / PUBLISHED_DIR / "trends.csv").exists() and \
        not (folder / PUBLISHED_DIR / REPORT_CONTEXT).exists()


#: Files of a trends folder read from internal/ whatever the view (transitions are printed
#: with small counts marked; the movers only in the analyst notebook).
_INTERNAL_TREND_FILES = ("transitions", "movers")


def load_trends(folder: Path, manifest: dict | None = None,
                view: str = INTERNAL_DIR) -> "TrendsBundle":
    """Read what a trends folder holds for rendering (no recomputation).

    ``view`` ``"published"`` reads the trends and tests from ``published/`` (hidden shares
    blank, tests that use them withheld); ``"internal"`` the analyst's from ``internal/``.
    """
    import json

    from pipeline.errors import PulsecheckError
    from pipeline.report.trend_content import TrendsBundle

    folder = Path(folder)
    frames = {}
    for key, name in TREND_FILES.items():
        part = INTERNAL_DIR if view != PUBLISHED_DIR or key in _INTERNAL_TREND_FILES \
            else PUBLISHED_DIR
        if not (folder / part / name).exists():
            raise PulsecheckError("RENDER_001", path=str(folder), name=f"{part}/{name}")
        frames[key] = pd.read_csv(folder / part / name, keep_default_na=False,
                                  na_values=[""],
                                  dtype={"wave": str, "from_wave": str, "to_wave": str,
                                         "phase": str, "series": str, "from_phase": str,
                                         "to_phase": str})
    if manifest is None:
        path = folder / "run.json"
        manifest = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    return TrendsBundle(manifest=manifest, **frames)


def trend_year(bundle: "TrendsBundle") -> int:
    """The fixed document year of the trend reports: the latest wave (reruns identical)."""
    years = [int(w) for w in bundle.trends["wave"].astype(str) if w.isdigit()]
    return max(years) if years else 2000


def trend_figures(content: dict, order: list[str], phases: list[str], config: dict
                  ) -> dict[str, dict]:
    """Measure → {uri, alt, title, caveats, breaks, explanation} for the trends summary.

    One figure per chart the content decided on (:func:`pipeline.report.trend_content.story`):
    each measure with a significant change, and each other key measure; a phase line takes
    the phase's colour of the funder charts.
    """
    from pipeline.report import charts
    from pipeline.report.content import fill
    from pipeline.report.trend_content import ALL

    figures = {}
    items = [*content["changed"], *[i for g in content["groups"] for i in g["items"]]]
    for item in items:
        spec = item["chart"]
        if spec is None:
            continue
        title = fill(config.get("title", "{label}"), label=spec["label"])
        colours = [charts.OVERALL_COLOUR if group == ALL else
                   charts.group_colour(phases.index(group)) for _, group, _ in spec["lines"]]
        svg = charts.trend_chart(order, [(name, points) for name, _, points in spec["lines"]],
                                 title=title, ylabel=config.get("ylabel", "%"),
                                 colours=colours)
        figures[spec["measure"]] = {
            "uri": _svg_uri(svg), "title": title,
            "alt": fill(config.get("alt", "{label}: {values}"), label=spec["label"],
                        values=spec["alt"]),
            "caveats": spec["caveats"], "breaks": spec["breaks"],
            "phases": " ".join(spec["phases"]), "explanation": spec["explanation"]}
    return figures


def _trend_data() -> tuple[dict, dict]:
    from pipeline.model.schemas import ReportLayoutFile, TrendsWordingFile

    layout = _read_report_toml(ReportLayoutFile, "report.toml")
    wording = _read_report_toml(TrendsWordingFile, "trends", "wording.toml")
    return layout.get("trends", {}), wording


def trend_rule(bundle: "TrendsBundle") -> "DisclosureRule":
    """The disclosure rule of the trend reports: the waves' threshold (default rule)."""
    from pipeline.stats.disclosure import DisclosureRule

    threshold = bundle.manifest.get("disclosure_threshold")
    return DisclosureRule(threshold=int(threshold)) if threshold else DisclosureRule()


def render_trends_html(bundle: "TrendsBundle") -> str:
    """``trends_summary.html``: the same document WeasyPrint turns into the PDF."""
    from pipeline.report.trend_content import phase_order, trends_content, waves

    config, wording = _trend_data()
    rule = trend_rule(bundle)
    content = trends_content(bundle, config, wording, rule)
    template = _environment().get_template("trends_summary.html.j2")
    figures = trend_figures(content, waves(bundle), phase_order(bundle), config)
    return template.render(c=content, figures=figures,
                           year=trend_year(bundle),
                           css=(TEMPLATES / "report.css").read_text(encoding="utf-8"))


def write_trend_reports(folder: Path, manifest: dict | None = None, *,
                        notebook: bool = True, pdf: bool = True,
                        skipped: "list[Skipped] | None" = None,
                        progress: Callable[[str], None] = lambda message: None) -> list[str]:
    """Render the trend reports of a trends folder into it; returns the files written.

    ``trends.xlsx`` (the finished workbook), ``trends_summary.html`` and ``.pdf`` (funders)
    and the executed ``trends.ipynb`` and ``.html`` (analysts). Reads only the folder.
    ``progress`` is called with a short message before each slow step.
    """
    from pipeline.report.workbook import write_trends_workbook

    folder = Path(folder)
    bundle = load_trends(folder, manifest, view=PUBLISHED_DIR)
    pdf, notebook = available_parts(pdf, notebook, skipped,
                                    ("trends_summary.pdf", "trends.ipynb"))
    published = folder / PUBLISHED_DIR
    written = []
    progress("writing the trends workbook")
    with render_errors("trends workbook", folder):
        write_trends_workbook(published / "trends.xlsx", bundle, trend_rule(bundle),
                              created_year=trend_year(bundle))
    written.append(f"{PUBLISHED_DIR}/trends.xlsx")
    progress(f"rendering the trends summary ({_formats(pdf)})")
    with render_errors("trends summary", folder):
        written += [f"{PUBLISHED_DIR}/{name}" for name in
                    write_html_and_pdf(render_trends_html(bundle), published,
                                       "trends_summary", pdf, skipped)]
    if notebook:
        from pipeline.report.notebook import TRENDS_TEMPLATE, write_notebook

        internal = folder / INTERNAL_DIR
        progress("executing the trends notebook")
        written += [f"{INTERNAL_DIR}/{name}" for name in _optional_notebook(
            lambda: write_notebook(folder, TRENDS_TEMPLATE, "trends", internal), "trends",
            "trends notebook", internal, skipped)]
    return written
