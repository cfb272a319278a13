"""Personal data typed where none was asked for: masked in every output unless kept on purpose.

The sweep plants e-mail addresses, phone numbers, IP addresses, a web address with a password
and names in every kind of field of the sample wave — open answers, "other (specify)", a
number, a coded answer, an answer that skip logic hides, the partnership id and the
partnership's name — runs the wave (partnership pages included) and searches every file it
wrote, inside workbooks and PDFs too. Not one planted value may be found.
"""

from __future__ import annotations

import csv
import json
import re
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from bad_inputs.builders import sample_copy, tiny_rows
from conftest import make_project, row
from pipeline.cli.main import cli
from pipeline.ingest.readers import write_checksums
from pipeline.stages.privacy import (
    EMAIL_MASK,
    IP_MASK,
    NAME_MASK,
    URL_MASK,
    mask_contacts,
    names_pattern,
)

# Planted values. Each needle is a piece of one of them that must not appear in any output.
EMAIL = "quill.marbury@leak-probe.example"
PHONE = "+44 20 7946 0321"
IP = "203.0.113.77"
URL = "https://quill:hunter2pass@intranet.leak-probe.example/admin"
PERSON = "Quillon Marbury"
PARTNERSHIP = "Vexholm Ridge Partnership"
# The phone number's digits are searched as typed and run together (a number field that
# glued them into 442079460321 would leak it).
NEEDLES = ("leak-probe", "hunter2pass", "7946 0321", "79460321", IP, "Quillon", "Vexholm")


# --- the masking helpers -----------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("from 203.0.113.77 today", f"from {IP_MASK} today"),
    ("v6 2001:db8::8a2e:370:7334.", f"v6 {IP_MASK}."),
    ("see https://bob:pw@intra.example.org/x now", f"see {URL_MASK} now"),
    ("ftp://bob@files.example.org", URL_MASK),
    ("mail bob@example.org", f"mail {EMAIL_MASK}"),
])
def test_mask_contacts__ips_and_urls_with_credentials__are_replaced(text, expected):
    assert mask_contacts(text) == expected


@pytest.mark.parametrize("text", ["met at 12:30:45", "version 1.2.3", "score 999.1.1.1",
                                  "see https://example.org/page", "ratio 3:1", "a :: b"])
def test_mask_contacts__times_versions_and_plain_urls__are_left(text):
    assert mask_contacts(text) == text


def test_mask_contacts__known_names__are_replaced_as_whole_words_in_any_case():
    names = names_pattern(["Ada Quayle", "Vexholm Ridge Partnership", "Al", None, ""])
    assert mask_contacts("ask ada  QUAYLE or Vexholm Ridge Partnership; Al Adams", names) == \
        f"ask {NAME_MASK} or {NAME_MASK}; Al Adams"
    assert mask_contacts("Ada Quaylesworth", names) == "Ada Quaylesworth"
    assert names_pattern(["", "Al"]) is None


# --- the sweep ------------------------------------------------------------------------------------

def _plant(export: Path) -> None:
    """Write the planted values into the sample export (each kind of field at least once)."""
    with open(export, newline="", encoding="utf-8-sig") as handle:
        records = list(csv.reader(handle))
    names = records[0]
    at = {name: names.index(name) for name in names}
    # Analysed-looking rows: finished and multi-sector (the export codes yes as 1).
    rows = [r for r in records[3:] if r[at["Finished"]] == "1" and r[at["is_multisector"]] == "1"]

    def tick(record: list[str], column: str, code: str) -> None:
        codes = [c for c in record[at[column]].split(",") if c]
        record[at[column]] = ",".join(dict.fromkeys([*codes, code]))

    # An open answer where one was asked for (barrier "other" is code 15).
    tick(rows[0], "barriers", "15")
    rows[0][at["barriers_other"]] = f"write to {EMAIL} or ring {PHONE}"
    # "Other (specify)" of momentum builders (code 12): a URL with a password, an IP, a name.
    tick(rows[1], "momentum_builders", "12")
    rows[1][at["momentum_other"]] = f"see {URL} from {IP}; ask {PERSON}"
    # A number, a coded answer and the partnership id given contact details instead.
    rows[2][at["year_formed"]] = PHONE
    rows[3][at["geo_level"]] = EMAIL
    rows[4][at["population_served"]] = IP
    rows[5][at["partnership_id"]] = EMAIL
    # Free text that skip logic hides (no "other" barrier ticked), naming a partnership.
    rows[6][at["barriers"]] = "1"
    rows[6][at["barriers_other"]] = f"confidential: {PARTNERSHIP} via {URL}"
    # The names the export knows: a partnership's name and a respondent's name.
    rows[7][at["partnership_name"]] = PARTNERSHIP
    rows[8][at["respondent_name"]] = PERSON
    rows[8][at["respondent_email"]] = EMAIL
    with open(export, "w", newline="", encoding="utf-8-sig") as handle:
        csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(records)


def _text_of(path: Path) -> str:
    """Everything a reader of ``path`` could see: workbook parts, PDF text, or the file."""
    if path.suffix == ".xlsx":
        with zipfile.ZipFile(path) as book:
            return "\n".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
    if path.suffix == ".pdf":
        pypdf = pytest.importorskip("pypdf")
        return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(path).pages)
    return path.read_bytes().decode("utf-8", "replace")


def _leaks(folder: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        text = _text_of(path).lower()
        hits = [needle for needle in NEEDLES if needle.lower() in text]
        if hits:
            found[path.relative_to(folder).as_posix()] = hits
    return found


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("planted")
    wave = sample_copy(root)
    export = wave / "pulse_check_2016_qualtrics.csv"
    _plant(export)
    write_checksums(wave, [export.name])
    out = root / "out"
    result = CliRunner().invoke(cli, ["run", str(wave), "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    return out


def test_sample_run__personal_data_planted_in_every_field_kind__is_in_no_output(planted_run):
    assert _leaks(planted_run) == {}


def test_sample_run__partnership_pages__hold_no_planted_personal_data(planted_run, tmp_path):
    # Every partnership's page, as `--partner-reports` renders it (HTML only: the PDF is
    # drawn from the same page, and 237 PDFs would take minutes).
    from pipeline.report.html import load_run, read_report_data, render_partner_html
    from pipeline.report.partner_content import partner_ids

    bundle = load_run(planted_run, with_partnerships=True)
    layout, wording, _ = read_report_data()
    pages = {pid: render_partner_html(bundle, pid, layout, wording).lower()
             for pid in partner_ids(bundle)}
    assert len(pages) > 200
    leaks = {pid: [n for n in NEEDLES if n.lower() in page] for pid, page in pages.items()}
    assert {pid: hits for pid, hits in leaks.items() if hits} == {}


def test_sample_run__planted_values__are_reported_masked_in_the_issues(planted_run):
    issues = pd.read_csv(planted_run / "internal" / "issues.csv", dtype=str, keep_default_na=False)
    values = set(issues["value"])
    # The problems are still reported, with placeholders where the personal data was.
    assert "[phone removed]" in values and "[email removed]" in values
    assert "[IP address removed]" in values
    hidden = issues[issues["code"].eq("VAL_006") & issues["column"].eq("barriers_other")]
    assert len(hidden) and hidden["value"].str.fullmatch(r"\[hidden answer, \d+ characters\]").all()


# --- the masking step on a tiny wave ------------------------------------------------------------

def _tiny(tmp_path: Path) -> Path:
    rows = tiny_rows()
    rows[0] = {**rows[0], "barriers": "1 3", "barriers_other": f"mail {EMAIL} from {IP}",
               "email": "ada.quayle@example.org"}
    rows[1] = {**rows[1], "staff": PHONE}
    rows[2] = {**rows[2], "barriers": "1", "barriers_other": "Ada Quayle said so"}
    rows[3] = {**rows[3], "barriers": "1 3", "barriers_other": "ask Ada  Quayle"}
    rows.append(row(response_id="R9", pid="P9", stage="1", email="Ada Quayle"))
    return make_project(tmp_path, rows)


def test_run__keep_personal__keeps_typed_contact_details_and_is_recorded(tmp_path):
    wave = _tiny(tmp_path)
    kept, masked = tmp_path / "kept", tmp_path / "masked"
    assert CliRunner().invoke(cli, ["run", str(wave), "--out", str(kept),
                                    "--keep-personal"]).exit_code == 0
    assert CliRunner().invoke(cli, ["run", str(wave), "--out", str(masked)]).exit_code == 0
    assert EMAIL in (kept / "internal" / "partnerships.csv").read_text(encoding="utf-8")
    assert PHONE in (kept / "internal" / "issues.csv").read_text(encoding="utf-8")
    assert json.loads((kept / "run.json").read_text())["settings"]["keep_personal"] is True
    assert json.loads((masked / "run.json").read_text())["settings"]["keep_personal"] is False
    for path in masked.rglob("*.*"):
        text = _text_of(path)
        for needle in (EMAIL, IP, "7946 0321", "79460321", "Ada Quayle", "ada.quayle"):
            assert needle not in text, (path.name, needle)


def test_run__answer_hidden_by_skip_logic__is_summarised_not_copied(tmp_path):
    wave = _tiny(tmp_path)
    assert CliRunner().invoke(cli, ["run", str(wave), "--out", str(tmp_path / "o")]).exit_code == 0
    issues = pd.read_csv(tmp_path / "o" / "internal" / "issues.csv", dtype=str,
                         keep_default_na=False)
    hidden = issues[issues["code"].eq("VAL_006")]
    assert hidden["value"].tolist() == ["[hidden answer, 18 characters]"]


@pytest.mark.parametrize("command", ["validate", "ingest"])
def test_validate_and_ingest__issues_written__mask_typed_contact_details(tmp_path, command):
    wave = _tiny(tmp_path)
    args = [command, str(wave / "export.csv"), "--instrument", str(tmp_path / "instrument"),
            "--out", str(tmp_path / "checks")]
    args += ["--platform", "csv"] if command == "validate" else ["--source", "csv"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 1), result.output
    for path in (tmp_path / "checks").iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"7946 ?0321|203\.0\.113|leak-probe|Ada +Quayle", text), path.name
