"""Loading a wave folder: one sequence for every command, with the platform's conventions.

The single-wave run and the run over every wave of a survey read a wave the same way (limits,
choice versions, checksums); validation is configured for the canonical frame the adapters
give; the submission time is read with the platform's declared format.
"""

from __future__ import annotations

import textwrap
import warnings

import pandas as pd
import pytest

from conftest import TINY_WAVE, make_project, row
from fixtures.exports import CHOICES, MANIFEST, SURVEY, write_redcap_labels, write_redcap_raw
from pipeline.errors import PulsecheckError
from pipeline.ingest.readers import write_checksums
from pipeline.run.analyse import run_wave
from pipeline.run.waves import analyse_wave_dir

LIMITED_WAVE = TINY_WAVE.replace('files = ["export.csv"]',
                                 'files = ["export.csv"]\n\n[limits]\nmax_rows = 2')


def test_single_and_survey_runs__wave_with_max_rows_2__are_both_refused(tmp_path, tiny_rows):
    wave = make_project(tmp_path, tiny_rows, LIMITED_WAVE)
    with pytest.raises(PulsecheckError) as single:
        run_wave(wave, tmp_path / "out")
    assert single.value.code == "READ_025"
    with pytest.raises(PulsecheckError) as survey:
        analyse_wave_dir(wave)
    assert survey.value.code == "READ_025"


CHOICES_WITH_VERSIONS = textwrap.dedent("""\
    list_name,name,label,code,exclusive,since_version
    yn,yes,Yes,1,,
    yn,no,No,2,,
    bar,money,Lack of money,1,,
    bar,data,Data sharing,2,,2
    bar,other,Other,3,,
    bar,none,None of these,4,yes,
    stage,first,First stage,1,,
    stage,second,Second stage,2,,
    stage,third,Third stage,3,,
    stage,unsure,Not sure,4,,
    """)


def test_single_and_survey_runs__choice_newer_than_the_instrument__reported_by_both(
        tmp_path):
    # The instrument is version 1; "data" was added in version 2 (READ_013, not analysed).
    rows = [row(response_id="R1", pid="P1", barriers="1 2"),
            row(response_id="R2", pid="P2", barriers="1")]
    wave = make_project(tmp_path, rows)
    (tmp_path / "instrument" / "choices.csv").write_text(CHOICES_WITH_VERSIONS,
                                                         encoding="utf-8")
    single = run_wave(wave, tmp_path / "out")
    survey = analyse_wave_dir(wave, with_report=False)
    for issues in (single.issues, survey.result.issues):
        newer = issues[issues["code"].eq("READ_013")]
        assert list(zip(newer["row"], newer["value"], strict=True)) == [(2, "data")]


REDCAP_WAVE = """\
survey = "mini"
wave = "2016"
instrument = "../../instrument"
platform = "{platform}"
files = ["{file}"]

[[steps]]
id = "incomplete"
rule = "incomplete"
reason = "Partial"
"""


def _redcap_project(root, platform: str, writer) -> object:
    instrument = root / "instrument"
    instrument.mkdir()
    (instrument / "survey.csv").write_text(SURVEY, encoding="utf-8")
    (instrument / "choices.csv").write_text(CHOICES, encoding="utf-8")
    (instrument / "manifest.toml").write_text(MANIFEST, encoding="utf-8")
    (root / "survey_instrument").mkdir()
    wave = root / "raw" / "mini"
    wave.mkdir(parents=True)
    path = writer(wave)
    (wave / "wave.toml").write_text(REDCAP_WAVE.format(platform=platform, file=path.name),
                                    encoding="utf-8")
    write_checksums(wave, [path.name])
    return wave


@pytest.mark.parametrize(("platform", "writer"), [("redcap", write_redcap_raw),
                                                  ("redcap_labels", write_redcap_labels)])
def test_run__redcap_wave__incomplete_step_removes_only_the_unfinished_response(
        tmp_path, platform, writer):
    # Five of the six invented respondents finished (REDCap codes them 2 / "Complete").
    wave = _redcap_project(tmp_path, platform, writer)
    summary = run_wave(wave, tmp_path / "out")
    incomplete = summary.flow.set_index("step").loc["incomplete"]
    assert (incomplete["n_in"], incomplete["n_removed"]) == (6, 1)


DEDUP_WAVE = TINY_WAVE.split("[[steps]]")[0] + """\
[[steps]]
id = "duplicate"
rule = "deduplicate"
keep = ["latest"]
reason = "Duplicate"
"""


def test_run__spreadsheet_resaved_time_on_the_first_row__latest_submission_is_kept(tmp_path):
    # The first row's time was re-saved by a spreadsheet (not the platform's format); P1's two
    # submissions are in the platform's format and the later one is on row 3.
    rows = [row(response_id="R1", pid="P8", submitted_at="06/01/2016 10:00"),
            row(response_id="R2", pid="P1", submitted_at="2016-07-01 10:00:00"),
            row(response_id="R3", pid="P1", submitted_at="2016-06-01 10:00:00")]
    wave = make_project(tmp_path, rows, DEDUP_WAVE)
    out = tmp_path / "out"
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        run_wave(wave, out)
    dispositions = pd.read_csv(out / "internal" / "dispositions.csv", dtype=str,
                               keep_default_na=False)
    assert dispositions.set_index("response_id")["disposition"].to_dict() == {
        "R1": "analysed", "R2": "analysed", "R3": "excluded"}
    issues = pd.read_csv(out / "internal" / "issues.csv", dtype=str, keep_default_na=False)
    duplicates = issues[issues["code"].eq("VAL_008")]
    assert duplicates["rule"].str.contains(r"\(row 3\) is kept").all()  # row 3: R2
    assert issues["code"].eq("VAL_013").sum() == 1  # the re-saved time is reported


def test_run__times_in_mixed_formats__no_pandas_warning(tmp_path):
    rows = [row(response_id="R1", pid="P1", submitted_at="2016-06-01 10:00:00"),
            row(response_id="R2", pid="P1", submitted_at="01/07/2016 10:00"),
            row(response_id="R3", pid="P2", submitted_at="2016-06-01T10:00:00Z"),
            row(response_id="R4", pid="P2", submitted_at="June 2016")]
    wave = make_project(tmp_path, rows, DEDUP_WAVE)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        summary = run_wave(wave, tmp_path / "out")
    assert summary.counts["analysed"] == 2
