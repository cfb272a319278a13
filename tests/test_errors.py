"""The error catalogue: stable codes, renderable templates, location → rule → fix messages."""

from __future__ import annotations

import re
import string

from pipeline.errors import (
    CATALOGUE,
    SEVERITIES,
    PulsecheckError,
    catalogue_frame,
    issues_frame,
    make_issue,
)

_LOCATION_ARGUMENTS = {"code", "file", "row", "column", "respondent"}


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_catalogue__codes_follow_area_and_number_pattern():
    for code, entry in CATALOGUE.items():
        assert re.fullmatch(r"[A-Z]+_\d{3}", code), code
        assert entry.code == code
        assert entry.severity in SEVERITIES


def test_catalogue__no_code_is_defined_twice():
    frame = catalogue_frame()
    assert not frame["code"].duplicated().any()


def test_catalogue__templates_never_use_names_reserved_for_the_location():
    for entry in CATALOGUE.values():
        clash = (_fields(entry.rule) | _fields(entry.fix)) & _LOCATION_ARGUMENTS
        assert not clash, f"{entry.code} uses {clash}"


def test_pulsecheck_error__message_reads_location_then_rule_then_fix_then_code():
    error = PulsecheckError("WAVE_004", file="wave.toml", path="export.csv")
    assert error.message == ("[wave.toml] The wave names 'export.csv', which does not exist. "
                             "Restore the file or fix its name in wave.toml. (WAVE_004)")
    assert error.exit_code == 2


def test_make_issue__row_and_column__appear_in_the_message():
    issue = make_issue("VAL_001", file="export.csv", row=14, column="year", value="abc",
                       kind="whole number")
    assert issue["message"].startswith("[export.csv row 14, column year] 'abc' is not a whole")
    assert issue["severity"] == "warning"


def test_issues_frame__sorts_by_file_row_and_severity_and_keeps_columns():
    frame = issues_frame([
        make_issue("VAL_001", file="b.csv", row=2, column="x", value="1", kind="number"),
        make_issue("VAL_007", file="a.csv", row=9, column="k", key="k"),
        make_issue("VAL_001", file="a.csv", row=9, column="k", value="1", kind="number"),
    ])
    assert list(zip(frame["file"], frame["row"], frame["code"], strict=True)) == [
        ("a.csv", 9, "VAL_007"), ("a.csv", 9, "VAL_001"), ("b.csv", 2, "VAL_001")]


def test_readme__error_code_table__matches_the_catalogue():
    from pathlib import Path

    from pipeline.errors import catalogue_markdown

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- catalogue:start -->\n") + len("<!-- catalogue:start -->\n")
    end = readme.index("<!-- catalogue:end -->")
    assert readme[start:end] == catalogue_markdown(), \
        "README table is out of date: run python -m pipeline.errors --markdown"


def test_readme__every_code_it_names__is_in_the_catalogue():
    import re
    from pathlib import Path

    from pipeline.errors import CATALOGUE

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"\b[A-Z]{2,}_\d{3}\b", readme))
    assert named and not named - set(CATALOGUE), sorted(named - set(CATALOGUE))


def test_readme__install__names_the_warnings_a_missing_pdf_or_notebook_gives():
    from pathlib import Path

    from pipeline.errors import CATALOGUE

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    install = readme[readme.index("## Install"):readme.index("## How data flow")]
    warned = {code: CATALOGUE[code] for code in CATALOGUE
              if f"`{code}`" in install and code.startswith("RENDER_")}
    # What the README promises: a warning (not a stop) for the PDF and for the notebook.
    assert {spec.title for spec in warned.values()} >= {"PDF not written",
                                                        "notebook not executed"}, warned
    assert {spec.severity for spec in warned.values()} == {"warning"}, warned


def test_catalogue__a_file_named_first_in_a_rule__keeps_its_spelling():
    from pipeline.catalogue import ENTRIES
    from pipeline.errors import render_message

    for entry in ENTRIES:
        for field in ("path", "name", "file_name"):
            if entry.rule.startswith("{" + field + "}"):
                fields = {f for f in _fields(entry.rule) | _fields(entry.fix)}
                params = dict.fromkeys(fields, "x") | {field: "wave/fixes.csv"}
                _, _, message = render_message(entry.code, **params)
                assert "wave/fixes.csv" in message, (entry.code, message)
