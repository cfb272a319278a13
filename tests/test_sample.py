"""Tests of the synthetic sample generator and of the committed sample export.

The checks of the committed export read it with the standard ``csv`` module and decode codes
with ``choices.csv`` directly: they share no code with the generator or with the pipeline's
validation, and every expected number comes from the published figures (or the wave's
description), never from the code under test.
"""

from __future__ import annotations

import csv
import hashlib
import io
import ipaddress
import json
import re
import tomllib
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
INSTRUMENT = ROOT / "survey_instrument" / "pulse_check" / "2016"
RAW = ROOT / "raw" / "pulse_check" / "2016"
EXPORT = RAW / "pulse_check_2016_qualtrics.csv"
PLATFORM = ROOT / "survey_instrument" / "platforms" / "qualtrics.toml"

PUBLISHED_ANALYSED = 237
RAW_SUBMISSIONS = 260
PHASE_COUNTS = {"campaign": 60, "engage": 80, "align": 55, "redesign": 22, "integrate": 10,
                "not_sure": 10}
SECTORS = ["public_health", "health_care", "government", "social_services", "education",
           "behavioral_health", "payers", "business", "philanthropy", "community_orgs",
           "faith", "housing", "transportation", "environment", "public_safety", "residents",
           "academia"]
PRIORITIES = ["priority_care", "priority_behaviors", "priority_social", "priority_environment"]
FOCUS_THRESHOLD = 20
DOCUMENTATION_NETWORKS = [ipaddress.ip_network(n) for n in
                          ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
DISTINCTIVE_BARRIERS = {"Earlier": ["authority", "fragile_infrastructure"],
                        "Middle": ["measuring_progress", "political_resistance"],
                        "Later": ["win_win_exhausted", "vested_interests"]}
DISTINCTIVE_MOMENTUM = {"Earlier": ["engage_stakeholders", "shared_vision"],
                        "Middle": ["easy_wins"],
                        "Later": ["influence", "long_view"]}


# --------------------------------------------------------------------------------------------
# Independent reading of the committed export
# --------------------------------------------------------------------------------------------

def _read_csv_dicts(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def choices() -> dict[str, dict[str, str]]:
    """list name -> code -> choice name, straight from choices.csv."""
    table: dict[str, dict[str, str]] = {}
    for row in _read_csv_dicts(INSTRUMENT / "choices.csv"):
        table.setdefault(row["list_name"], {})[row["code"]] = row["name"]
    return table


@pytest.fixture(scope="module")
def survey() -> list[dict[str, str]]:
    return [row for row in _read_csv_dicts(INSTRUMENT / "survey.csv")
            if row["type"] not in ("begin_group", "end_group")]


@pytest.fixture(scope="module")
def list_of(survey) -> dict[str, str]:
    """question name -> choice list name (select questions only)."""
    return {row["name"]: row["type"].split()[1] for row in survey
            if row["type"].startswith("select_")}


@pytest.fixture(scope="module")
def phase_group() -> dict[str, str]:
    rows = _read_csv_dicts(INSTRUMENT / "phase_map.csv")
    return {row["value"]: row["phase_group"] for row in rows}


@pytest.fixture(scope="module")
def raw_rows() -> tuple[list[list[str]], list[list[str]]]:
    text = EXPORT.read_bytes().decode("utf-8-sig")
    records = list(csv.reader(io.StringIO(text, newline="")))
    return records[:3], records[3:]


@pytest.fixture(scope="module")
def submissions(raw_rows) -> list[dict[str, str]]:
    headers, records = raw_rows
    return [dict(zip(headers[0], record, strict=True)) for record in records]


@pytest.fixture(scope="module")
def analysed(submissions, choices, list_of, survey) -> list[dict[str, str]]:
    """The wave's exclusion steps (wave.toml), applied by hand."""
    wave = tomllib.loads((RAW / "wave.toml").read_text(encoding="utf-8"))
    steps = {step["id"]: step for step in wave["steps"]}
    rows = [r for r in submissions
            if r["DistributionChannel"] not in steps["preview"]["values"]]
    rows = [r for r in rows if float(r["Progress"]) >= steps["incomplete"]["min_progress"]]
    screener = steps["not_multisector"]["question"]
    codes = {name: code for code, name in choices[list_of[screener]].items()}
    excluded = {codes[v] for v in steps["not_multisector"]["values"]}
    rows = [r for r in rows if r[screener] not in excluded]
    # Nothing should need quarantine: every row has a partnership id and a unique response id.
    assert all(re.fullmatch(r"P[0-9]{4}", r["partnership_id"]) for r in rows)
    questions = [q["name"] for q in survey]
    kept: dict[str, dict[str, str]] = {}
    for row in rows:
        key = row["partnership_id"]
        score = (sum(1 for q in questions if row[q] != ""), row["RecordedDate"])
        if key not in kept or score > (sum(1 for q in questions if kept[key][q] != ""),
                                       kept[key]["RecordedDate"]):
            kept[key] = row
    return list(kept.values())


def _decode(row: dict[str, str], question: str, choices, list_of) -> str | None:
    return choices[list_of[question]].get(row[question])


def _multi(row: dict[str, str], question: str, choices, list_of) -> set[str] | None:
    if row[question] == "":
        return None
    return {choices[list_of[question]].get(code, f"?{code}") for code in row[question].split(",")}


def _valid_barriers(row, choices, list_of) -> set[str] | None:
    ticked = _multi(row, "barriers", choices, list_of)
    if ticked is None or ("none" in ticked and len(ticked) > 1):
        return None
    return ticked


def _groups(rows, phase_group, choices, list_of) -> dict[str, list[dict[str, str]]]:
    grouped: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        grouped.setdefault(phase_group[_decode(row, "pathway_stage", choices, list_of)],
                           []).append(row)
    return grouped


# --------------------------------------------------------------------------------------------
# Determinism and the command
# --------------------------------------------------------------------------------------------

def test_generate_sample__same_seed__gives_identical_bytes():
    from pipeline.ingest.readers import read_instrument, read_platform
    from pipeline.synthetic.export import render_csv
    from pipeline.synthetic.generate import generate_sample
    from pipeline.synthetic.profile import read_profile

    instrument = read_instrument(INSTRUMENT)
    profile = read_profile(INSTRUMENT / "sample_profile.toml")
    platform = read_platform(profile.platform)
    first = render_csv(generate_sample(instrument, platform, profile))
    second = render_csv(generate_sample(instrument, platform, profile))
    assert first == second


def test_sample_command__regenerates_the_committed_export_byte_for_byte(tmp_path):
    from click.testing import CliRunner

    from pipeline.cli.main import cli

    result = CliRunner().invoke(cli, ["sample", str(INSTRUMENT), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / EXPORT.name).read_bytes() == EXPORT.read_bytes()


def test_sample_command__records_the_checksum_of_the_export():
    digest = hashlib.sha256(EXPORT.read_bytes()).hexdigest()
    lines = (RAW / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    assert f"{digest}  {EXPORT.name}" in lines


def test_generate_sample__other_seed__gives_other_answers():
    import dataclasses

    from pipeline.ingest.readers import read_instrument, read_platform
    from pipeline.synthetic.export import render_csv
    from pipeline.synthetic.generate import generate_sample
    from pipeline.synthetic.profile import read_profile

    instrument = read_instrument(INSTRUMENT)
    profile = read_profile(INSTRUMENT / "sample_profile.toml")
    platform = read_platform(profile.platform)
    other = dataclasses.replace(profile, seed=profile.seed + 1)
    assert render_csv(generate_sample(instrument, platform, profile)) != \
        render_csv(generate_sample(instrument, platform, other))


def test_sample_command__missing_profile__exits_with_a_catalogue_message(tmp_path):
    from click.testing import CliRunner

    from pipeline.cli.main import cli

    result = CliRunner().invoke(cli, ["sample", str(INSTRUMENT), "--out", str(tmp_path),
                                      "--profile", str(tmp_path / "absent.toml")])
    assert result.exit_code == 2
    assert "SAMPLE_001" in result.output


def test_sample_profile__unknown_question__is_refused():
    from pipeline.errors import PulsecheckError
    from pipeline.ingest.readers import read_instrument, read_platform
    from pipeline.synthetic.generate import generate_sample
    from pipeline.synthetic.profile import parse_profile

    data = tomllib.loads((INSTRUMENT / "sample_profile.toml").read_text(encoding="utf-8"))
    data["questions"].append({"name": "no_such_question", "kind": "constant", "value": "x"})
    with pytest.raises(PulsecheckError) as caught:
        generate_sample(read_instrument(INSTRUMENT), read_platform("qualtrics"),
                        parse_profile(data))
    assert caught.value.code == "SAMPLE_002"


def test_sample_code__names_no_question_of_the_instrument(survey):
    paths = [*sorted((ROOT / "pipeline" / "synthetic").glob("*.py")),
             ROOT / "pipeline" / "cli" / "sample.py"]
    assert len(paths) > 2
    code = "".join(path.read_text(encoding="utf-8") for path in paths)
    named = [q["name"] for q in survey if re.search(rf"\b{q['name']}\b", code)]
    assert named == []


# --------------------------------------------------------------------------------------------
# Layout of the committed export
# --------------------------------------------------------------------------------------------

def test_export__has_bom_three_header_rows_and_260_submissions(raw_rows):
    assert EXPORT.read_bytes().startswith(b"\xef\xbb\xbf")
    headers, records = raw_rows
    assert len(headers) == 3
    assert len(records) == RAW_SUBMISSIONS
    assert all(len(record) == len(headers[0]) for record in records)


def test_export__columns_are_platform_metadata_then_questions_in_order(raw_rows, survey):
    platform = tomllib.loads(PLATFORM.read_text(encoding="utf-8"))
    metadata = platform["metadata"]["columns"]
    names = raw_rows[0][0]
    assert names == metadata + [q["name"] for q in survey]
    labels = raw_rows[0][1]
    assert labels[len(metadata):] == [q["label"] for q in survey]
    assert labels[names.index("ResponseId")] == "Response ID"


def test_export__third_row_holds_import_ids_as_json(raw_rows):
    names, ids = raw_rows[0][0], raw_rows[0][2]
    parsed = [json.loads(cell) for cell in ids]
    assert all("ImportId" in p for p in parsed)
    assert parsed[names.index("StartDate")] == {"ImportId": "startDate",
                                                 "timeZone": "America/New_York"}
    assert ids[names.index("is_multisector")].startswith('{"ImportId":"QID')


def test_export__metadata_is_realistic(submissions):
    ids = [r["ResponseId"] for r in submissions]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"R_[A-Za-z0-9]{15}", i) for i in ids)
    for row in submissions:
        for column in ("StartDate", "EndDate", "RecordedDate"):
            assert re.fullmatch(r"2016-0[5-8]-\d\d \d\d:\d\d:\d\d", row[column])
        assert row["StartDate"] <= row["EndDate"] <= row["RecordedDate"]
        assert row["UserLanguage"] == "EN"
        assert int(row["Duration (in seconds)"]) > 0
        assert row["Status"] == ("1" if row["DistributionChannel"] == "preview" else "0")
        assert row["DistributionChannel"] in ("email", "anonymous", "preview")


# --------------------------------------------------------------------------------------------
# The raw -> analysed flow
# --------------------------------------------------------------------------------------------

def test_wave_steps_applied_by_hand__leave_237_partnerships(analysed):
    assert len(analysed) == PUBLISHED_ANALYSED


def test_export__has_the_excluded_submissions_the_wave_describes(submissions, choices, list_of,
                                                                 survey):
    previews = [r for r in submissions if r["DistributionChannel"] == "preview"]
    assert len(previews) == 2
    partial = [r for r in submissions if r["Finished"] == "0"]
    assert len(partial) == 10
    assert all(int(r["Progress"]) < 100 for r in partial)
    questions = [q["name"] for q in survey]
    required = [q["name"] for q in survey if q["required"] == "yes" and not q["relevant"]]
    for row in partial:
        # Answers only for the first part of the questionnaire: the required questions
        # answered are a leading run, and the last questions are all blank.
        answered = [i for i, q in enumerate(required) if row[q] != ""]
        assert answered and answered == list(range(len(answered)))
        assert all(row[q] == "" for q in questions[-5:])
    no = {v: k for k, v in choices["yes_no"].items()}["no"]
    screened = [r for r in submissions if r["is_multisector"] == no]
    assert len(screened) == 5
    after = questions[questions.index("is_multisector") + 1:]
    for row in screened:
        assert row["Finished"] == "1" and row["Progress"] == "100"
        assert all(row[q] == "" for q in after)


def test_export__duplicates_are_earlier_and_less_complete(submissions, analysed, survey):
    complete = [r for r in submissions if r["Finished"] == "1"
                and r["DistributionChannel"] != "preview"]
    by_id = Counter(r["partnership_id"] for r in complete)
    twice = [key for key, n in by_id.items() if n > 1]
    assert len(twice) == 6 and max(by_id.values()) == 2
    questions = [q["name"] for q in survey]
    kept = {r["partnership_id"]: r for r in analysed}
    for key in twice:
        pair = [r for r in complete if r["partnership_id"] == key]
        extra = next(r for r in pair if r is not kept[key])
        assert extra["RecordedDate"] < kept[key]["RecordedDate"]
        assert sum(extra[q] != "" for q in questions) < sum(kept[key][q] != "" for q in questions)


# --------------------------------------------------------------------------------------------
# Calibration of the 237 analysed partnerships
# --------------------------------------------------------------------------------------------

def test_analysed__phase_counts_match_the_profile_targets(analysed, choices, list_of,
                                                         phase_group):
    counts = Counter(_decode(r, "pathway_stage", choices, list_of) for r in analysed)
    assert dict(counts) == PHASE_COUNTS
    groups = Counter(phase_group[c] for c in counts.elements())
    assert groups["Earlier"] > len(analysed) / 2
    assert groups["Middle"] > groups["Later"] > 0


def test_analysed__majority_formed_2010_or_later_and_80_percent_more_than_before(analysed):
    years = [int(r["year_formed"]) for r in analysed
             if r["year_formed"].isdigit() and 1950 <= int(r["year_formed"]) <= 2016]
    assert sum(y >= 2010 for y in years) > len(years) / 2
    recent = sum(2010 <= y <= 2015 for y in years)
    before = sum(1986 <= y <= 2009 for y in years)
    assert recent >= 1.8 * before


def test_analysed__42_states_plus_dc_and_mostly_county_level(analysed, choices, list_of):
    served = [_multi(r, "states", choices, list_of) for r in analysed]
    seen = set().union(*served)
    assert "DC" in seen and len(seen - {"DC"}) == 42
    assert sum(len(s) == 1 for s in served) > len(analysed) / 2
    for row, states in zip(analysed, served, strict=True):
        level = _decode(row, "geo_level", choices, list_of)
        if len(states) > 1:
            assert level in ("multi_state", None)
    levels = Counter(_decode(r, "geo_level", choices, list_of) for r in analysed)
    assert levels["county"] + levels["multi_county"] > sum(levels.values()) / 2
    populations = Counter(_decode(r, "population_served", choices, list_of) for r in analysed)
    assert populations["over_1m"] > 0


def test_analysed__priorities_add_to_100_and_split_roughly_in_thirds(analysed):
    mixes = Counter()
    for row in analysed:
        shares = [int(row[q]) for q in PRIORITIES]
        assert sum(shares) == 100 and all(0 <= s <= 100 for s in shares)
        focus = sum(s >= FOCUS_THRESHOLD for s in shares)
        mixes["single" if focus == 1 else "all" if focus == 4 else "few"] += 1
    for mix in ("single", "few", "all"):
        assert 0.25 <= mixes[mix] / len(analysed) <= 0.42


def test_analysed__sector_roles_match_the_published_ranking(analysed, choices, list_of):
    active = {s: 0 for s in SECTORS}
    lead = {s: 0 for s in SECTORS}
    broad = 0
    for row in analysed:
        roles = {s: _decode(row, f"sector_{s}", choices, list_of) for s in SECTORS}
        for s, role in roles.items():
            active[s] += role in ("active", "lead")
            lead[s] += role == "lead"
        broad += sum(role in ("active", "lead") for role in roles.values()) >= 10
    assert all(n > 0 for n in active.values())
    by_active = sorted(SECTORS, key=lambda s: -active[s])
    by_lead = sorted(SECTORS, key=lambda s: -lead[s])
    assert set(by_active[:2]) == {"public_health", "health_care"}
    assert set(by_lead[:2]) == {"public_health", "health_care"}
    assert set(by_active[2:5]) == {"government", "social_services", "education"}
    assert active[by_active[4]] > active[by_active[5]]
    assert 0.45 <= broad / len(analysed) <= 0.55


def test_analysed__published_barrier_rates_hold_with_either_base(analysed, choices, list_of):
    valid = [b for b in (_valid_barriers(r, choices, list_of) for r in analysed) if b is not None]
    assert len(valid) == PUBLISHED_ANALYSED - 1
    measuring = sum("measuring_progress" in b for b in valid)
    infrastructure = sum("infrastructure" in b for b in valid)
    assert (measuring, infrastructure) == (164, 149)
    for base in (len(valid), PUBLISHED_ANALYSED):
        assert round(100 * measuring / base) == 69
        assert round(100 * infrastructure / base) == 63


def _rates(rows, question, choices, list_of, valid_only=False):
    answers = [(_valid_barriers(r, choices, list_of) if valid_only
                else _multi(r, question, choices, list_of)) for r in rows]
    answers = [a for a in answers if a is not None]
    counts = Counter(item for a in answers for item in a)
    return {item: 100 * n / len(answers) for item, n in counts.items()}


def test_analysed__barriers_common_to_all_phases_and_distinctive_by_phase(
        analysed, choices, list_of, phase_group):
    grouped = _groups(analysed, phase_group, choices, list_of)
    rates = {g: _rates(grouped[g], "barriers", choices, list_of, valid_only=True)
             for g in ("Earlier", "Middle", "Later")}
    for g, rate in rates.items():
        for common in ("infrastructure", "financing", "data_sharing"):
            assert rate.get(common, 0) >= 50, (g, common)
    for g, items in DISTINCTIVE_BARRIERS.items():
        for item in items:
            for other in set(rates) - {g}:
                assert rates[g].get(item, 0) >= rates[other].get(item, 0) + 20, (g, item, other)


def test_analysed__momentum_builders_distinctive_by_phase(analysed, choices, list_of,
                                                          phase_group):
    grouped = _groups(analysed, phase_group, choices, list_of)
    rates = {g: _rates(grouped[g], "momentum_builders", choices, list_of)
             for g in ("Earlier", "Middle", "Later")}
    for g, items in DISTINCTIVE_MOMENTUM.items():
        for item in items:
            for other in set(rates) - {g}:
                assert rates[g].get(item, 0) >= rates[other].get(item, 0) + 20, (g, item, other)


def test_analysed__later_phases_are_older_and_more_formal(analysed, choices, list_of,
                                                          phase_group):
    grouped = _groups(analysed, phase_group, choices, list_of)

    def share(rows, question, value):
        return sum(_decode(r, question, choices, list_of) == value for r in rows) / len(rows)

    def median_year(rows):
        years = sorted(int(r["year_formed"]) for r in rows if r["year_formed"].isdigit()
                       and int(r["year_formed"]) <= 2016)
        return years[len(years) // 2]

    assert median_year(grouped["Later"]) < median_year(grouped["Earlier"])
    assert share(grouped["Later"], "authority", "formal") > \
        share(grouped["Earlier"], "authority", "formal")
    assert share(grouped["Later"], "has_paid_staff", "yes") > \
        share(grouped["Earlier"], "has_paid_staff", "yes")


def test_analysed__skip_logic_and_constraints_hold_apart_from_four_bad_cells(
        analysed, choices, list_of, survey):
    bad = Counter()
    for row in analysed:
        year = row["year_formed"]
        if not (year.isdigit() and 1950 <= int(year) <= 2016):
            bad["year"] += 1
            assert year == "2106"
        for q in survey:
            if q["type"].startswith("select_one") and row[q["name"]] != "" \
                    and _decode(row, q["name"], choices, list_of) is None:
                bad["code"] += 1
                assert (q["name"], row[q["name"]]) == ("geo_level", "9")
        staff = _decode(row, "has_paid_staff", choices, list_of)
        fte = row["paid_staff_fte"]
        if staff == "yes":
            try:
                assert 0 < float(fte) <= 200
            except ValueError:
                bad["text"] += 1
                assert fte == "two"
        else:
            assert fte == ""
        barriers = _multi(row, "barriers", choices, list_of)
        if "none" in barriers and len(barriers) > 1:
            bad["none"] += 1
        sources = _multi(row, "financing_sources", choices, list_of)
        assert (row["grant_reliance"] == "") == ("none" in sources)
        assert not ("none" in sources and len(sources) > 1)
        backbone = _decode(row, "backbone", choices, list_of)
        assert (row["backbone_functions"] == "") == (backbone == "none")
        assert (row["barriers_other"] != "") == ("other" in barriers)
        momentum = _multi(row, "momentum_builders", choices, list_of)
        assert (row["momentum_other"] != "") == ("other" in momentum)
        assert not ("none" in momentum and len(momentum) > 1)
        assert re.fullmatch(r"P[0-9]{4}", row["partnership_id"])
        required = [q["name"] for q in survey if q["required"] == "yes"
                    and q["name"] not in ("grant_reliance", "backbone_functions",
                                          "paid_staff_fte")]
        assert all(row[q] != "" for q in required)
    assert bad == {"year": 1, "code": 1, "text": 1, "none": 1}


# --------------------------------------------------------------------------------------------
# Synthetic personal data only
# --------------------------------------------------------------------------------------------

def test_export__ip_addresses_are_only_documentation_addresses(submissions):
    for row in submissions:
        if row["IPAddress"]:
            address = ipaddress.ip_address(row["IPAddress"])
            assert any(address in network for network in DOCUMENTATION_NETWORKS)


def test_export__emails_and_phones_are_only_reserved_examples(raw_rows):
    text = EXPORT.read_bytes().decode("utf-8-sig")
    emails = re.findall(r"[^\s\",@]+@([^\s\",]+)", text)
    assert emails and set(emails) <= {"example.org", "example.com", "example.net"}
    _, records = raw_rows
    names = raw_rows[0][0]
    phones = [r[names.index("respondent_phone")] for r in records
              if r[names.index("respondent_phone")]]
    assert phones and all(re.fullmatch(r"\d{3}-555-01\d\d", p) for p in phones)
