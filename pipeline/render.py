"""Render: turn computed results into documents people read (the output edge).

Templates live in ``reports/templates``; rendering never computes a statistic, it only
formats what the stages computed. HTML is self-contained (no remote fonts, scripts or images)
and every value is escaped.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import jinja2
import pandas as pd

from pipeline.columns import PHASE_COLUMN
from pipeline.errors import CATALOGUE, SEVERITIES

if TYPE_CHECKING:  # pragma: no cover
    from pipeline.wave import Wave
    from pipeline.run import WaveResult

TEMPLATES = Path(__file__).resolve().parent.parent / "reports" / "templates"


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
            "count": int(len(group)),
            "analysed": int(outcomes.get("analysed", 0)),
            "example": group["message"].iloc[0],
        })
    return sorted(summary, key=lambda e: (rank.get(e["severity"], 9), e["code"]))


def phase_distribution(partnerships: pd.DataFrame, order: list[str]) -> list[dict]:
    """Counts and shares of each phase group (shares of all analysed partnerships)."""
    counts = partnerships[PHASE_COLUMN].value_counts()
    total = int(len(partnerships))
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
