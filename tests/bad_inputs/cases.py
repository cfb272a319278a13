"""The catalogue of bad inputs: what each damage is and what pulsecheck must do about it.

Each :class:`Case` names a builder (``builders.py``) that makes the damaged project, the exit
code, the catalogue code(s) that must be reported (on stderr for unusable input, in
``issues.csv`` otherwise) and words the message must contain — the file, row or column and
the rule. ``see`` points to the unit test that covers the rule in detail, where one exists.

Exit codes: 0 clean (notes and warnings only), 1 rows quarantined, 2 unusable input (nothing
written, except the flow, dispositions and quarantine of a wave with nothing to analyse).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bad_inputs import builders as b
from conftest import TINY_CHOICES, TINY_SURVEY, TINY_WAVE


@dataclass(frozen=True)
class Case:
    """One bad input and the behaviour expected of pulsecheck."""

    case_id: str
    description: str
    builder: b.Builder
    exit_code: int
    codes: tuple[str, ...]
    words: tuple[str, ...] = ()
    see: str = ""
    #: Whether the case is also run in a real subprocess (to prove no traceback on stderr).
    subprocess: bool = False
    absent: tuple[str, ...] = field(default=())
    #: Files the run folder must hold although the run stops (exit 2): the accounting of
    #: every raw row is written even when nothing can be analysed.
    keeps: tuple[str, ...] = field(default=())


def _rows(**changes) -> list[dict]:
    """The tiny rows with the second response changed."""
    rows = b.tiny_rows()
    rows[1] = {**rows[1], **changes}
    return rows


def _wave(old: str, new: str) -> str:
    assert old in TINY_WAVE
    return TINY_WAVE.replace(old, new)


CASES: tuple[Case, ...] = (
    # --- files that are not usable exports ----------------------------------------------------
    Case("BAD-001", "empty file (0 bytes)", b.with_export(b""), 2, ("READ_001",),
         ("export.csv", "empty"), subprocess=True),
    Case("BAD-002", "file of blank lines only", b.with_export(b"\n\r\n  \n"), 2, ("READ_001",),
         ("export.csv",)),
    Case("BAD-003", "header row but no responses", b.with_export(b.header_only()), 2,
         ("READ_018",), ("export.csv", "no response rows")),
    Case("BAD-004", "binary file (PNG) with a .csv name", b.with_export(b.png_bytes()), 2,
         ("READ_002",), ("export.csv", "PNG image"), subprocess=True),
    Case("BAD-005", "a zip archive (XLSX) named .csv", b.with_export(b.zip_named_csv()), 2,
         ("READ_002",), ("export.csv", "spreadsheet")),
    Case("BAD-006", "CSV text with an .xlsx name", b.with_export(b.clean_export(),
                                                                 name="export.xlsx"), 2,
         ("READ_002",), ("export.xlsx", "spreadsheet")),
    Case("BAD-007", "XLSX cut in half", b.with_xlsx_truncated(), 2, ("READ_002",),
         ("export.xlsx",)),
    Case("BAD-008", "SPSS file that is not SPSS", b.with_export(b"not a sav file\n" * 10,
                                                                name="export.sav"), 2,
         ("READ_017",), ("export.sav", "must end in .sav")),
    Case("BAD-009", "file truncated in the middle of a row", b.with_export(b.truncated_mid_row()),
         1, ("READ_008",), ("row 6", "fields")),
    Case("BAD-010", "unterminated quote swallows the rest of the file",
         b.with_export(b.unterminated_quote()), 2, ("READ_019",),
         ("export.csv", "row 4", "quote"), subprocess=True),
    Case("BAD-011", "NUL bytes inside a UTF-8 file", b.with_export(b.nul_bytes()), 2,
         ("READ_020",), ("export.csv", "row 3", "NUL")),
    # --- encodings ---------------------------------------------------------------------------
    Case("BAD-012", "UTF-16 with a byte-order mark (Excel 'Unicode text')",
         b.with_export(b.utf16_with_bom()), 0, ("READ_011",), ("UTF-16",),
         see="test_adapter_quirks.py::test_decode_text__each_encoding__is_detected_and_text_survives"),
    Case("BAD-013", "Windows-1252 (Excel 'CSV' on Windows)", b.with_export(b.accented("cp1252")),
         0, ("READ_011",), ("Windows-1252",),
         see="test_adapter_quirks.py::test_read_export__cp1252_file__is_read_and_the_decision_is_an_info_issue"),
    Case("BAD-014", "UTF-8 with a byte-order mark",
         b.with_export(b.accented("utf-8", b"\xef\xbb\xbf")), 0, ("READ_011",),
         ("byte-order mark",)),
    Case("BAD-015", "UTF-8 and Windows-1252 rows mixed in one file",
         b.with_export(b.mixed_encodings()), 0, ("READ_021",), ("Line(s) 3 ", "Windows-1252")),
    Case("BAD-016", "wrong --encoding given",
         b.sample_ingest(lambda d: d, "--encoding", "ascii"), 2, ("READ_009",), ("ascii",)),
    # --- header problems ---------------------------------------------------------------------
    Case("BAD-017", "the same column twice in the header", b.with_export(b.duplicate_header()), 2,
         ("READ_005",), ("export.csv", "screen")),
    Case("BAD-018", "no response id column: file name and row stand in",
         b.with_export(b.column_without_id()), 0, ("READ_040",), ("response_id",)),
    Case("BAD-019", "a question's column missing", b.with_export(b.csv_bytes(
        [r[:9] + r[10:] for r in b.records()])), 0, ("READ_007",), ("staff",)),
    Case("BAD-020", "a column the instrument does not have", b.with_export(b.csv_bytes(
        [[*r, v] for r, v in zip(b.records(), ["favourite_colour", "blue", "", "", "", ""],
                                 strict=True)])),
         0, ("READ_006",), ("favourite_colour",),
         see="test_adapter_quirks.py::test_read_export__unknown_column__is_reported_not_dropped_silently"),
    Case("BAD-021", "an absurd number of columns", b.with_export(b.many_columns(5000)), 2,
         ("READ_022",), ("export.csv", "columns", "max_columns")),
    # --- row shape ---------------------------------------------------------------------------
    Case("BAD-022", "a row with too many fields", b.with_export(b.too_many_fields()), 1,
         ("READ_008",), ("row 3", "15 fields")),
    Case("BAD-023", "a row with too few fields", b.with_export(b.too_few_fields()), 1,
         ("READ_008",), ("row 3", "6 fields")),
    Case("BAD-024", "a cell longer than the limit", b.with_export(b.long_cell(200_000)), 2,
         ("READ_023",), ("row 3", "barriers_other", "max_cell_chars")),
    Case("BAD-025", "a file larger than the limit", b.with_export(
        b.clean_export(), wave_text=TINY_WAVE + "\n[limits]\nmax_file_bytes = 200\n"), 2,
         ("READ_024",), ("export.csv", "max_file_bytes")),
    # --- values --------------------------------------------------------------------------------
    Case("BAD-026", "a response id used twice", b.with_rows(_rows(response_id="R1")), 1,
         ("VAL_011",), ("R1",),
         see="test_validate.py::test_validate__repeated_response_id__is_an_error_on_every_copy"),
    Case("BAD-027", "a partnership that answered twice", b.with_rows(_rows(pid="P1")), 0,
         ("VAL_008",), ("P1",),
         see="test_flow.py::test_apply_steps__duplicate_partnership__keeps_the_most_complete_submission"),
    Case("BAD-028", "a code outside the choice list", b.with_rows(_rows(stage="9")), 0,
         ("VAL_002",), ("'9'", "stage"),
         see="test_validate.py::test_validate__unknown_code_in_select_one__warns_and_sets_missing"),
    Case("BAD-029", "an exclusive choice ticked with others", b.with_rows(_rows(barriers="1 4")),
         0, ("VAL_005",), ("none",),
         see="test_validate.py::test_validate__exclusive_choice_with_others__warns_and_sets_missing"),
    Case("BAD-030", "an answer that skip logic hides",
         b.with_rows(_rows(barriers="1", barriers_other="Weather")), 0, ("VAL_006",),
         ("barriers_other",),
         see="test_validate.py::test_validate__answer_hidden_by_question_skip_logic__warns"),
    Case("BAD-031", "a number with thousands separators", b.with_rows(_rows(staff="1,250")), 0,
         ("VAL_012",), ("1,250", "1250")),
    Case("BAD-032", "a number with a unit", b.with_rows(_rows(staff="2.5 FTE")), 0,
         ("VAL_001",), ("2.5 FTE", "units")),
    Case("BAD-033", "Windows and Unix line endings mixed in one file",
         b.with_export(b.clean_export().replace(b"\n", b"\r\n", 3)), 0, ("READ_011",), ()),
    Case("BAD-034", "a choice code written as an Excel float", b.with_rows(_rows(stage="2.0")),
         0, (), (),
         see="test_validate.py::test_validate__select_one_given_as_label_name_or_excel_float__decodes_to_name"),
    Case("BAD-035", "a required answer missing on a finished response",
         b.with_rows(_rows(stage="")), 0, ("VAL_003",), ("stage",)),
    Case("BAD-036", "a row without a partnership id", b.with_rows(_rows(pid="")), 1,
         ("VAL_007",), ("pid",),
         see="test_validate.py::test_validate__missing_respondent_key__is_an_error_reported_once"),
    Case("BAD-037", "a submission time in a spreadsheet's local format",
         b.with_rows(_rows(submitted_at="01/06/2016 10:00")), 0, ("VAL_013",),
         ("01/06/2016 10:00", "submitted_at")),
    Case("BAD-052", "choice codes whose leading zeros a spreadsheet stripped (01 → 1)",
         b.with_instrument_and_rows(TINY_SURVEY, TINY_CHOICES.replace(
             "stage,first,First stage,1,", "stage,first,First stage,01,").replace(
             "stage,second,Second stage,2,", "stage,second,Second stage,02,"),
             _rows(stage="1")), 0, ("VAL_002",), ("'1'", "01=first", "stage")),
    Case("BAD-053", "a date answer in a day/month/year format",
         b.with_instrument_and_rows(
             TINY_SURVEY.replace("text,barriers_other,Other barrier",
                                 "date,barriers_other,Other barrier"),
             TINY_CHOICES, _rows(barriers="1 3", barriers_other="14/06/2016")),
         0, ("VAL_001",), ("14/06/2016", "YYYY-MM-DD", "barriers_other")),
    Case("BAD-054", "a date answer as a spreadsheet serial number",
         b.with_instrument_and_rows(
             TINY_SURVEY.replace("text,barriers_other,Other barrier",
                                 "date,barriers_other,Other barrier"),
             TINY_CHOICES, _rows(barriers="1 3", barriers_other="42535")),
         0, ("VAL_001",), ("42535", "YYYY-MM-DD")),
    # --- instruments ---------------------------------------------------------------------------
    Case("BAD-038", "skip logic with a cycle", b.with_instrument(TINY_SURVEY.replace(
        "decimal,staff,Staff FTE,no,,", "decimal,staff,Staff FTE,no,${barriers_other} != '',")
        .replace('"selected(${barriers}, \'other\')"', "${staff} > 0")), 2, ("INST_011",),
         ("cycle",),
         see="test_instrument.py::test_check_instrument__skip_logic_cycle__is_reported_once"),
    Case("BAD-039", "a select question whose choice list is missing",
         b.with_instrument(choices="\n".join(line for line in TINY_CHOICES.splitlines()
                                             if not line.startswith("stage,")) + "\n"),
         2, ("INST_007",), ("stage",),
         see="test_instrument.py::test_check_instrument__select_with_missing_list__is_reported"),
    Case("BAD-040", "two questions with the same name", b.with_instrument(
        TINY_SURVEY.replace("decimal,staff,", "decimal,year,")), 2, ("INST_004",), ("year",),
         see="test_instrument.py::test_check_instrument__duplicate_question_name__is_reported_with_both_rows"),
    Case("BAD-041", "running a wave whose instrument is broken", b.with_instrument(
        TINY_SURVEY.replace("decimal,staff,", "decimal,year,"), command="run"), 2,
         ("INST_020", "INST_004"), ("instrument check",)),
    # --- wave descriptions and raw manifests ---------------------------------------------------
    Case("BAD-042", "a wave file pointing outside the project",
         b.with_wave(_wave('files = ["export.csv"]', 'files = ["../../../../etc/passwd"]')), 2,
         ("WAVE_003",), ("passwd", "outside"),
         see="test_run.py::test_run__wave_pointing_outside_the_project__is_refused"),
    Case("BAD-043", "a wave file naming a missing raw file",
         b.with_wave(_wave('files = ["export.csv"]', 'files = ["export_v2.csv"]')), 2,
         ("WAVE_004",), ("export_v2.csv",)),
    Case("BAD-044", "a raw file edited after its checksum was recorded",
         b.with_wave(TINY_WAVE, lambda wave: (wave / "export.csv").write_text("edited\n")), 2,
         ("WAVE_005",), ("export.csv", "immutable"),
         see="test_run.py::test_run__raw_file_changed_after_manifest__stops_with_checksum_error"),
    Case("BAD-045", "a wave description that is not TOML", b.with_wave("survey = tiny\n[[steps"),
         2, ("CONF_001",), ("wave.toml",)),
    Case("BAD-046", "a wave description without its files", b.with_wave(
        _wave('files = ["export.csv"]\n', "")), 2, ("CONF_004",), ("files",)),
    Case("BAD-047", "an unknown platform", b.with_wave(_wave('platform = "csv"',
                                                            'platform = "limesurvey"')), 2,
         ("WAVE_008",), ("limesurvey",)),
    Case("BAD-048", "an exclusion step with an unknown rule", b.with_wave(
        _wave('rule = "incomplete"', 'rule = "drop_the_bad_ones"')), 2, ("CONF_005",),
         ("drop_the_bad_ones",)),
    Case("BAD-049", "a limits table with a nonsense value", b.with_wave(
        TINY_WAVE + "\n[limits]\nmax_columns = \"lots\"\n"), 2, ("CONF_005",),
         ("max_columns",)),
    # --- the committed sample, damaged ---------------------------------------------------------
    Case("BAD-050", "the sample export cut inside a quoted field",
         b.sample_ingest(lambda d: d[: d.rindex(b"\n", 0, len(d) - 1) + 200]), 2,
         ("READ_019",), ("pulse_check_2016_qualtrics.csv", "row 263", "quote"),
         subprocess=True),
    Case("BAD-051", "the sample export cut at the end of a field",
         b.sample_ingest(lambda d: d[: d.index(b'","', d.rindex(b"\n", 0, len(d) - 1) + 200)
                                     + 1] + b"\n"), 1,
         ("READ_008",), ("row 263", "fields")),
    # --- the failure contract: file system, manifests, run folders ---------------------------
    Case("BAD-080", "a wave file naming a folder as a raw file", b.with_folder_as_file(), 2,
         ("WAVE_009",), ("batch", "folder"), subprocess=True),
    Case("BAD-081", "a SHA256SUMS line that is not 'digest  name'",
         b.with_sums(b"this is not a checksum line\n"), 2, ("WAVE_010",),
         ("SHA256SUMS", "line 1")),
    Case("BAD-082", "a SHA256SUMS that is not UTF-8 text", b.with_sums(b"\xff\xfe\x00\x81 x\n"),
         2, ("WAVE_010",), ("SHA256SUMS", "UTF-8"), subprocess=True),
    Case("BAD-083", "--out naming a file, not a folder", b.with_out_a_file(), 2, ("CLI_002",),
         ("occupied.txt", "not a folder")),
    Case("BAD-084", "the same export listed twice: every response a duplicate, nothing analysed",
         b.with_export_twice(), 2, ("RUN_003", "VAL_011"),
         ("partnership is left to analyse", "of 10 raw row(s)", "flow.csv"),
         keeps=("internal/flow.csv", "internal/dispositions.csv", "internal/quarantine.csv",
                "internal/issues.csv", "run.json")),
    Case("BAD-085", "an empty line and a line of bare delimiters among the responses",
         b.with_export(b.blank_records()), 0, ("READ_026",), ("row 3", "row 4", "blank")),
    Case("BAD-090", "`report` of a run folder whose run.json is not JSON",
         b.damaged_run("report", {"run.json": b"{ half a manifest",
                                  "report.json": b"{}"}), 2,
         ("RENDER_004",), ("run.json",), subprocess=True),
    Case("BAD-091", "`report` of a run folder whose report.json is not UTF-8",
         b.damaged_run("report", {"run.json": b"{}", "report.json": b"\xff\xfe{"}), 2,
         ("RENDER_004",), ("report.json",)),
    Case("BAD-092", "`report` of a run folder whose report.json lacks its tables",
         b.damaged_run("report", {"run.json": b"{}", "report.json": b"[1, 2]"}), 2,
         ("RENDER_004",), ("report.json",)),
    Case("BAD-093", "`verify` of a run folder whose run.json is not UTF-8",
         b.damaged_run("verify", {"run.json": b"\xff\xfe{"}), 2, ("VERIFY_002",),
         ("run.json",), subprocess=True),
    Case("BAD-094", "`verify` of a run folder whose run.json lists inputs wrongly",
         b.damaged_run("verify", {"run.json": b'{"wave_description": {"path": "w"}, '
                                              b'"outputs": {}, "inputs": [1]}'}), 2,
         ("VERIFY_002",), ("run.json",)),
    Case("BAD-095", "`validate --out` naming a file, not a folder", b.validate_into_a_file(), 2,
         ("CLI_004",), ("occupied.txt", "File exists"), subprocess=True),
    # --- limits before memory: small files that would be huge once read -------------------------
    Case("BAD-086", "an XLSX of a few KB declaring a cell at XFD1048576",
         b.with_xlsx(b.far_cell("XFD1048576")), 2, ("READ_022",),
         ("export.xlsx", "max_columns"), subprocess=True),
    Case("BAD-087", "an XLSX with a cell at XFD1048576 but a dimension that hides it",
         b.with_xlsx(b.far_cell("XFD1048576", declared=False)), 2, ("READ_022",),
         ("export.xlsx", "max_columns")),
    Case("BAD-088", "an XLSX within the row and column limits but of a billion cells",
         b.with_xlsx(b.far_cell("ALL999999")), 2, ("READ_027",),
         ("export.xlsx", "max_cells")),
    Case("BAD-089", "an XLSX whose sheet inflates far beyond the decompression limit",
         b.with_xlsx(b.padded_sheet(20_000_000), wave_text=TINY_WAVE
                     + "\n[limits]\nmax_unzipped_bytes = 10000000\n"), 2, ("READ_028",),
         ("export.xlsx", "max_unzipped_bytes")),
    # --- paths from data and configuration stay inside their folder ----------------------------
    Case("BAD-130", "a survey name that climbs out of reports/out",
         b.with_wave_default_out(_wave('survey = "tiny"', 'survey = "../../escaped"')), 2,
         ("PATH_001",), ("survey name", "../../escaped"), absent=("escaped-2016",),
         see="test_containment.py::test_run__survey_or_wave_name_with_a_path__writes_nothing"),
    Case("BAD-131", "a wave name that climbs out of reports/out",
         b.with_wave_default_out(_wave('wave = "2016"', 'wave = "../../../../escaped"')), 2,
         ("PATH_001",), ("wave name",), absent=("escaped",)),
    Case("BAD-132", "a platform name that reads a profile outside the platforms folder",
         b.with_outside_file("elsewhere/evil.toml",
                             b.PROJECT / "survey_instrument" / "platforms" / "csv.toml",
                             lambda root: (root / "raw" / "tiny" / "wave.toml").write_text(
                                 _wave('platform = "csv"', 'platform = "../../elsewhere/evil"'))),
         2, ("PATH_001",), ("platform profile", "../../elsewhere/evil")),
    Case("BAD-133", "a phase map outside the instrument folder",
         b.with_outside_file("elsewhere/phase_map.csv", b.PROJECT / "tests" / "golden" /
                             "tiny_barriers.csv",
                             lambda root: (root / "instrument" / "manifest.toml").write_text(
                                 (root / "instrument" / "manifest.toml").read_text().replace(
                                     'map = "phase_map.csv"',
                                     'map = "../elsewhere/phase_map.csv"'))),
         2, ("PATH_001",), ("phase map", "../elsewhere/phase_map.csv")),
    # --- raw data are only read ---------------------------------------------------------------
    Case("BAD-134", "a sample written over a wave's recorded export",
         b.sample_over_recorded_export(), 2, ("RAW_001",),
         ("pulse_check_2016_qualtrics.csv", "SHA256SUMS", "--replace"),
         see="test_containment.py::test_sample__over_a_recorded_export__changes_nothing"),
    Case("BAD-135", "ingest told to write over its own input",
         b.ingest_over_its_input(), 2, ("RAW_002",), ("responses.csv", "overwrite")),
    Case("BAD-137", "ingest told to write into the raw folder",
         b.tiny_command_out("ingest", lambda wave: wave / "ingested"), 2, ("RAW_003",),
         ("raw data",)),
    Case("BAD-136", "validate told to write into the raw folder",
         b.tiny_command_out("validate", lambda wave: wave), 2, ("RAW_003",),
         ("raw data",)),
)
