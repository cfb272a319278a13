"""Report tables: golden tables for a tiny wave, specification-driven changes, the sample."""

from __future__ import annotations

import math
import tomllib
import zipfile

import pandas as pd
import pytest

from conftest import PROJECT, canonical, row, tiny_instrument
from pipeline.model.report_spec import build_spec
from pipeline.run.analyse import tabulate_wave
from pipeline.stages.classify import classify_phase
from pipeline.stages.validate import ValidationConfig, validate_responses

GOLDEN = PROJECT / "tests" / "golden"

TINY_TABLES = """
[settings]
phase_basis = "self"
ci_method = "wilson"
level = 0.95
disclosure_threshold = 1
test = "chisq"
trend = true
pairwise = "holm"
pairwise_alpha = 0.05

[derived.period]
kind = "bands"
source = "year"
bands = [{ label = "Before 2010", max = 2009 }, { label = "2010 and later", min = 2010 }]

[[tables]]
id = "barriers"
title = "Barriers"
kind = "multi"
row = "barriers"

[[tables]]
id = "period"
title = "Period formed"
kind = "single"
row = "period"

[distinctive]
tables = ["barriers"]
min_difference = 15
test = "chisq"
adjust = "bh"
alpha = 0.05
"""
TINY_CRITERIA = """
[[criteria]]
id = "old"
variable = "period"
values = ["Before 2010"]

[[criteria]]
id = "staffed"
variable = "staff"
min = 2

[[placement]]
label = "Early"
max = 1

[[placement]]
label = "Late"
min = 2
"""
ANSWERS = [  # (pid, stage code, barriers, year, staff)
    ("P1", "1", "1 2", "2012", "1"), ("P2", "2", "1", "2011", "2.5"),
    ("P3", "3", "2 3", "2001", "3"), ("P4", "1", "1 2", "2014", "1"),
    ("P5", "2", "4", "2005", "1"), ("P6", "3", "1 2", "1999", "4"),
    ("P7", "1", "2", "2015", "2"), ("P8", "4", "1", "2010", "1"),
]


def tiny_report(tables: str = TINY_TABLES, criteria: str | None = TINY_CRITERIA,
                basis: str | None = None):
    instrument = tiny_instrument()
    rows = [row(response_id=f"R{i}", pid=p, stage=s, barriers=b, year=y, staff=f)
            for i, (p, s, b, y, f) in enumerate(ANSWERS)]
    frame = validate_responses(canonical(rows, instrument).frame, instrument,
                               ValidationConfig(multiple_separator=" ")).frame
    spec = build_spec(tomllib.loads(tables), tomllib.loads(criteria) if criteria else None)
    self_phase = classify_phase(frame, instrument).phase
    return tabulate_wave(frame, self_phase, instrument, spec, basis)


def wilson(n: int, base: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score interval (Wilson 1927), written out independently of the engine."""
    p = n / base
    centre = (p + z * z / (2 * base)) / (1 + z * z / base)
    half = z * math.sqrt(p * (1 - p) / base + z * z / (4 * base * base)) / (1 + z * z / base)
    return 100 * (centre - half), 100 * (centre + half)


def test_report_table__tiny_wave_barriers__match_the_hand_counted_golden_table():
    golden = pd.read_csv(GOLDEN / "tiny_barriers.csv", comment="#")
    table = tiny_report().tables.get("barriers").table
    items = table[table["row_type"] == "item"].set_index(["row_level", "col_level"])
    for expected in golden.itertuples(index=False):
        cell = items.loc[(expected.row_level, expected.col_level)]
        assert (cell["n"], cell["base_n"]) == (expected.n, expected.base_n)
        assert cell["pct"] == pytest.approx(expected.pct)
        low, high = wilson(expected.n, expected.base_n)
        assert (cell["ci_low"], cell["ci_high"]) == (pytest.approx(low), pytest.approx(high))
        assert cell["ci_method"] == "wilson"


def test_report_table__unclassified_partnership__counts_in_all_but_in_no_phase():
    table = tiny_report().tables.get("period").table
    bases = table[table["row_type"] == "level"].groupby("col_level")["base_n"].first()
    assert bases.to_dict() == {"All": 8, "Early": 5, "Late": 2}


def test_report_tables__a_new_table_in_the_spec__needs_no_python_change():
    extra = TINY_TABLES + """
[[tables]]
id = "stages"
title = "Stage"
kind = "single"
row = "stage"
by_phase = false
"""
    report = tiny_report(tables=extra)
    table = report.tables.get("stages").table
    levels = table[table["row_type"] == "level"].set_index("row_level")["n"]
    assert levels.to_dict() == {"first": 3, "second": 2, "third": 2, "unsure": 1}


def test_report_tables__changing_criteria_in_data__changes_the_placement():
    # Points by hand (formed before 2010; staff of at least 2):
    # P1 0, P2 1 (staff), P3 2, P4 0, P5 1 (old), P6 2, P7 1 (staff), P8 0.
    default = tiny_report(basis="criteria")
    assert default.criteria.points.tolist() == [0, 1, 2, 0, 1, 2, 1, 0]
    assert default.criteria.phase.astype(str).tolist() == [
        "Early", "Early", "Late", "Early", "Early", "Late", "Early", "Early"]
    looser = TINY_CRITERIA.replace('label = "Early"\nmax = 1', 'label = "Early"\nmax = 0') \
        .replace('label = "Late"\nmin = 2', 'label = "Late"\nmin = 1')
    changed = tiny_report(criteria=looser, basis="criteria")
    assert changed.criteria.phase.astype(str).tolist() == [
        "Early", "Late", "Late", "Early", "Late", "Late", "Late", "Early"]
    period = changed.tables.get("period").table
    late = period[(period["col_level"] == "Late") & (period["row_type"] == "level")]
    assert late["base_n"].iloc[0] == 5


def test_report_tables__agreement__compares_self_and_criteria_placements():
    agreement = tiny_report().agreement
    # Self: P1 E, P2 E, P3 L, P4 E, P5 E, P6 L, P7 E (P8 unclassified, left out);
    # criteria (above): the same, so agreement is perfect.
    assert agreement.n == 7
    assert agreement.confusion.values.tolist() == [[5, 0], [0, 2]]
    assert agreement.kappa == pytest.approx(1.0)


# --- the sample wave -----------------------------------------------------------------------

@pytest.fixture
def sample_run(sample_run_dir):
    return sample_run_dir


def overall(run_dir, table_id: str) -> pd.DataFrame:
    table = pd.read_csv(run_dir / "internal" / "tables" / f"{table_id}.csv")
    return table[(table["col_level"] == "All") & table["row_type"].isin(["item", "level"])] \
        .set_index("row_level")


@pytest.mark.slow
def test_sample_tables__all_17_sectors_appear_and_public_health_and_health_care_lead(sample_run):
    active = overall(sample_run, "sector_active")
    lead = overall(sample_run, "sector_lead")
    assert len(active) == 17 and (active["n"] > 0).all()
    assert set(lead["pct"].nlargest(2).index) == {"sector_public_health", "sector_health_care"}
    ranking = active["pct"].sort_values(ascending=False).index.tolist()
    assert set(ranking[:2]) == {"sector_public_health", "sector_health_care"}
    assert set(ranking[2:5]) == {"sector_government", "sector_social_services",
                                 "sector_education"}


@pytest.mark.slow
def test_sample_tables__about_half_have_ten_or_more_active_sectors(sample_run):
    share = overall(sample_run, "ten_plus_sectors").loc["10 or more", "pct"]
    assert 45 <= share <= 55


@pytest.mark.slow
def test_sample_tables__published_barrier_rates_come_out_at_69_and_63(sample_run):
    barriers = overall(sample_run, "barriers")
    assert barriers.loc["measuring_progress", "pct"] == pytest.approx(69, abs=1)
    assert barriers.loc["infrastructure", "pct"] == pytest.approx(63, abs=1)


@pytest.mark.slow
def test_sample_tables__rule_selects_the_phase_distinctive_items_of_the_brief(sample_run):
    findings = pd.read_csv(sample_run / "internal" / "findings.csv")
    chosen = set(zip(findings.loc[findings["distinctive"], "item"],
                     findings.loc[findings["distinctive"], "phase"], strict=True))
    assert {("authority", "Earlier"), ("fragile_infrastructure", "Earlier"),
            ("measuring_progress", "Middle"), ("political_resistance", "Middle"),
            ("win_win_exhausted", "Later"), ("vested_interests", "Later"),
            ("engage_stakeholders", "Earlier"), ("shared_vision", "Earlier"),
            ("easy_wins", "Middle"), ("influence", "Later"), ("long_view", "Later")} <= chosen
    common = findings[findings["item"].isin(["infrastructure", "financing", "data_sharing"])]
    assert not common["distinctive"].any()


@pytest.mark.slow
def test_sample_tables__every_table_shows_bases_intervals_and_method(sample_run):
    for path in sorted((sample_run / "internal" / "tables").glob("*.csv")):
        if path.name == "tests.csv":
            continue
        table = pd.read_csv(path)
        assert table["n"].notna().any(), path.name
        if "pct" in table:
            cells = table[table["row_type"].isin(["item", "level"])]
            assert cells["base_n"].gt(0).all(), path.name
            assert cells["ci_low"].le(cells["pct"] + 1e-9).all(), path.name
            assert cells["ci_method"].eq("wilson").all(), path.name


@pytest.mark.slow
def test_sample_tables__phase_agreement_file_has_confusion_counts_and_kappa(sample_run):
    agreement = pd.read_csv(sample_run / "internal" / "phase_agreement.csv")
    counts = agreement[agreement["measure"] == "count"]
    assert len(counts) == 9
    n = agreement.loc[agreement["measure"] == "n", "value"].iloc[0]
    assert counts["value"].sum() == n == 227
    kappa = agreement.set_index("measure")["value"]
    assert kappa["kappa_ci_low"] < kappa["kappa"] < kappa["kappa_ci_high"]
    review = pd.read_csv(sample_run / "internal" / "phase_review.csv")
    assert review["discordant"].all() and review["criteria_met"].str.len().gt(0).all()


@pytest.mark.slow
def test_sample_workbook__has_contents_and_a_frozen_sheet_per_table(sample_run):
    with zipfile.ZipFile(sample_run / "published" / "tables.xlsx") as book:
        workbook = book.read("xl/workbook.xml").decode()
        sheets = [n for n in book.namelist() if n.startswith("xl/worksheets/sheet")]
        second = book.read("xl/worksheets/sheet2.xml").decode()
    n_tables = len(list((sample_run / "internal" / "tables").glob("*.csv"))) - 1
    assert 'name="Contents"' in workbook
    assert len(sheets) == n_tables + 1
    assert 'state="frozen"' in second
    sheet = pd.read_excel(sample_run / "published" / "tables.xlsx", sheet_name="barriers",
                          header=None, engine="calamine")
    assert sheet.iloc[0, 0] == "Barriers to progress"
    assert "Base (partnerships)" in sheet[0].tolist()


def _chart_block(sheet: pd.DataFrame) -> pd.DataFrame:
    """The numbers a sheet's chart plots: rows are labels, columns the shown columns."""
    start = sheet.index[sheet[0].eq("Chart data: % (blank where a count is hidden)")][0]
    header = [str(v) for v in sheet.iloc[start, 1:] if isinstance(v, str) and v]
    rows = []
    for index in range(start + 1, len(sheet)):
        label = sheet.iloc[index, 0]
        if not isinstance(label, str) or not label:
            break
        rows.append([label, *sheet.iloc[index, 1:1 + len(header)].tolist()])
    return pd.DataFrame(rows, columns=["label", *header]).set_index("label")


@pytest.mark.slow
def test_sample_workbook__charts_plot_the_published_percentages_and_leave_hidden_ones_blank(
        sample_run):
    with zipfile.ZipFile(sample_run / "published" / "tables.xlsx") as book:
        charts = [book.read(n).decode() for n in book.namelist()
                  if n.startswith("xl/charts/chart")]
    frequency = []
    for path in sorted((sample_run / "internal" / "tables").glob("*.csv")):
        # A choice labelled "None" is text, not a missing value.
        table = pd.read_csv(path, keep_default_na=False, na_values=[""])
        if "row_type" in table and table["table_type"].iloc[0] != "numeric":
            frequency.append(table)
    assert len(charts) == len(frequency)
    # Blank cells are gaps (Excel's default, which the file leaves unstated), never zeros.
    assert not [c for c in charts
                if 'dispBlanksAs val="zero"' in c or 'dispBlanksAs val="span"' in c]
    hidden = 0
    for table in frequency:
        table_id = table["table_id"].iloc[0]
        block = _chart_block(pd.read_excel(sample_run / "published" / "tables.xlsx",
                                           sheet_name=table_id[:31], header=None,
                                           engine="calamine", keep_default_na=False))
        body = table[table["row_type"].isin(["item", "level"])]
        assert sorted(block.index) == sorted(body["row_label"].unique()), table_id
        for cell in body.itertuples():
            if cell.col_level not in block.columns:
                continue
            plotted = block.loc[cell.row_label, cell.col_level]
            if bool(cell.suppressed):
                hidden += 1
                assert pd.isna(plotted) or plotted == "", (table_id, cell.row_label)
            else:
                assert plotted == pytest.approx(cell.pct, abs=1e-9), (table_id, cell.row_label)
    # The sample has hidden cells, so the blank-not-zero rule is exercised.
    assert hidden > 0
