"""Personal data typed the ways people really type it: attacks on the masking step.

Each attack plants personal data in a form the masking of contact details did not foresee
(an e-mail address spelt out, a mobile number in its national grouping, a name with a title,
contact details in ``corrections.csv``, a free-text answer quoted by an error message) and
looks for it where a reader outside the team could see it: every file of a run, the
command's stdout and stderr, and its ``--json`` output. None may be found.

A name typed without a title ("ask Maria") cannot be told from other words by a pattern; the
claim kept for it is that free text never leaves ``internal/`` (no published file, report or
partner page carries an open answer) and that no command prints one. That claim is tested
here too, with an untitled name no other file holds.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import make_project, row
from pipeline.cli.main import cli
from pipeline.ingest.readers import write_checksums
from pipeline.stages.privacy import EMAIL_MASK, NAME_MASK, PHONE_MASK, mask_contacts

# Typed as respondents type them. Each needle is a piece that must not survive masking.
SPELT_EMAILS = [
    ("write to jane.doe at example dot org please", "jane.doe"),
    ("jane.doe [at] example [dot] org", "jane.doe"),
    ("mail jdoe (at) example.org", "jdoe"),
    ("JANE_DOE AT EXAMPLE DOT CO DOT UK", "JANE_DOE"),
    ("reach me: j.doe{at}example{dot}net", "j.doe"),
]
PHONES = [
    ("call me on +44 20 7946 0958", "7946"),
    ("mobile 07700 900123 after six", "900123"),
    ("text +447700900123", "447700900123"),
    ("ring 07700900123", "07700900123"),
    ("office 2025550147 ext 12", "2025550147"),
]
TITLED_NAMES = [
    ("ask Dr. Maria Gonzalez at the clinic", "Gonzalez"),
    ("Prof Ann Lee chairs it", "Ann Lee"),
    ("led by Mrs. Ann-Marie O'Neil", "O'Neil"),
    ("Mayor Tom Bradshaw signed", "Bradshaw"),
    ("our coordinator, Ms Keisha Brown-Watts,", "Brown-Watts"),
]


@pytest.mark.parametrize(("text", "needle"), SPELT_EMAILS)
def test_mask_contacts__email_spelt_out__is_replaced(text, needle):
    masked = mask_contacts(text)
    assert needle.lower() not in masked.lower() and EMAIL_MASK in masked, masked


@pytest.mark.parametrize(("text", "needle"), PHONES)
def test_mask_contacts__phone_in_national_grouping_or_unbroken__is_replaced(text, needle):
    masked = mask_contacts(text)
    assert needle not in masked and PHONE_MASK in masked, masked


@pytest.mark.parametrize(("text", "needle"), TITLED_NAMES)
def test_mask_contacts__name_after_a_title__is_replaced(text, needle):
    masked = mask_contacts(text)
    assert needle not in masked and NAME_MASK in masked, masked


@pytest.mark.parametrize("text", [
    "we met at the library", "arrived at 5.30 for the meeting", "Dr. appointments rose",
    "the Mayor's office helped", "formed 2010-2016 with 1,250 members", "budget of 250000",
    "look at the data", "three of us at City Hall",
])
def test_mask_contacts__ordinary_prose__is_left(text):
    assert mask_contacts(text) == text


# --- the masking step in a run, and at the command's edge ---------------------------------------

UNTITLED = "Zorabel Quintrell"


def _wave(tmp_path: Path) -> Path:
    rows = [row(response_id=f"R{n}", pid=f"P{n}", stage=str(1 + n % 3)) for n in range(1, 9)]
    rows[0] = {**rows[0], "barriers": "money other",
               "barriers_other": "call Dr. Maria Gonzalez on 07700 900123"}
    rows[1] = {**rows[1], "barriers": "money other",
               "barriers_other": "jane.doe at example dot org"}
    rows[2] = {**rows[2], "barriers": "money other", "barriers_other": f"ask {UNTITLED}"}
    return make_project(tmp_path, rows)


def _everything_written(folder: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace")
                     for p in sorted(folder.rglob("*")) if p.is_file())


NEEDLES = ("Gonzalez", "900123", "jane.doe")


def test_run__spelt_email_mobile_and_titled_name_in_open_answers__are_in_no_output(tmp_path):
    wave = _wave(tmp_path)
    result = CliRunner().invoke(cli, ["run", str(wave), "--out", str(tmp_path / "o")])
    assert result.exit_code in (0, 1), result.output
    written = _everything_written(tmp_path / "o") + result.output
    assert [n for n in NEEDLES if n in written] == []


def test_run__untitled_name_in_free_text__never_leaves_internal_nor_is_printed(tmp_path):
    wave = _wave(tmp_path)
    out = tmp_path / "o"
    result = CliRunner().invoke(cli, ["run", str(wave), "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    assert UNTITLED not in result.output
    outside = [p.relative_to(out).as_posix() for p in out.rglob("*")
               if p.is_file() and "internal" not in p.relative_to(out).parts
               and UNTITLED in p.read_bytes().decode("utf-8", "replace")]
    assert outside == []


def _corrections(wave: Path, *lines: str) -> None:
    (wave / "corrections.csv").write_text(
        "respondent,question,old_value,new_value,reason,who\n" + "\n".join(lines) + "\n",
        encoding="utf-8")


@pytest.mark.parametrize("as_json", [False, True])
def test_run__correction_refused__error_does_not_quote_the_answer_unmasked(tmp_path, as_json):
    # old_value does not match, so CORR_004 says what was read: the open answer itself.
    wave = _wave(tmp_path)
    _corrections(wave, "R1,barriers_other,something else,fixed,typo,ab")
    args = ["run", str(wave), "--out", str(tmp_path / "o")] + (["--json"] if as_json else [])
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    shown = result.output + (result.stderr if result.stderr_bytes is not None else "")
    assert "CORR_004" in shown or "corrections" in shown
    assert [n for n in NEEDLES if n in shown] == [], shown


def test_run__personal_data_in_a_correction_reason__is_masked_in_every_output(tmp_path):
    wave = _wave(tmp_path)
    _corrections(wave, "R4,year,2012,2013,"
                 "confirmed by Dr. Maria Gonzalez (jane.doe at example dot org) on 07700 900123,"
                 "ab")
    result = CliRunner().invoke(cli, ["run", str(wave), "--out", str(tmp_path / "o")])
    assert result.exit_code in (0, 1), result.output
    issues = (tmp_path / "o" / "internal" / "issues.csv").read_text(encoding="utf-8")
    assert "CORR_007" in issues
    written = _everything_written(tmp_path / "o") + result.output
    assert [n for n in NEEDLES if n in written] == []


def test_validate__json_output__masks_typed_contact_details(tmp_path):
    wave = _wave(tmp_path)
    rows_with_bad = wave / "export.csv"
    text = rows_with_bad.read_text(encoding="utf-8")
    # A number field holding a spelt-out e-mail address: reported with its value.
    rows_with_bad.write_text(text.replace(",2012,", ",jane.doe at example dot org,", 1),
                             encoding="utf-8")
    write_checksums(wave, ["export.csv"])
    result = CliRunner().invoke(cli, ["validate", str(rows_with_bad), "--instrument",
                                      str(tmp_path / "instrument"), "--platform", "csv",
                                      "--out", str(tmp_path / "checks"), "--json"])
    assert result.exit_code in (0, 1), result.output
    payload = json.loads(result.stdout)
    assert payload  # a JSON object, whatever its shape
    written = result.output + _everything_written(tmp_path / "checks")
    assert not re.search(r"jane\.doe", written), written[:2000]
