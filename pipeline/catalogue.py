"""The entries of the error catalogue, as data: code, severity, title, rule and fix.

Each entry's code is ``<AREA>_<NNN>`` (never reused); its rule and fix are ``str.format``
templates that :mod:`pipeline.errors` fills in and places (file, row, column). Entries are
grouped by area, in the order the README's catalogue table lists them
(``python -m pipeline.errors --markdown``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

__all__ = ["CATALOGUE", "ENTRIES", "SEVERITIES", "ErrorSpec"]

#: Severities of data issues, most serious first.
SEVERITIES = ("fatal", "error", "warning", "info")

@dataclass(frozen=True)
class ErrorSpec:
    """One catalogue entry.

    Parameters
    ----------
    code : str
        ``<AREA>_<NNN>``, stable and never reused.
    severity : str
        One of :data:`SEVERITIES`. ``fatal`` entries stop the run (exit 2); ``error`` entries
        quarantine a row; ``warning`` entries set a cell to missing and keep the row; ``info``
        entries only inform.
    title : str
        A short name for the problem, used in summaries.
    rule : str
        Template for what was expected.
    fix : str
        Template for how to put it right.
    """

    code: str
    severity: str
    title: str
    rule: str
    fix: str


ENTRIES: tuple[ErrorSpec, ...] = (
    # --- command line -------------------------------------------------------------------------
    ErrorSpec("CLI_001", "fatal", "path not found",
              "path '{path}' does not exist.",
              "Check the spelling, or run the command from the project folder."),
    ErrorSpec("CLI_002", "fatal", "output folder not writable",
              "cannot write to output folder '{path}': {reason}.",
              "Choose another --out folder or fix its permissions."),
    ErrorSpec("CLI_003", "fatal", "bad option value",
              "option {option} has value '{value}', expected {expected}.",
              "Use one of the accepted values (see --help)."),
    ErrorSpec("CLI_005", "fatal", "command line not understood",
              "the command line is not understood: {reason}.",
              "See `{command} --help` for its arguments and options."),
    ErrorSpec("CLI_006", "fatal", "project folder not empty",
              "'{path}' already holds files; a new project is created only in an absent or "
              "empty folder.",
              "Name a new folder; to work in the project already there, run the commands "
              "from it or with `pulsecheck --project {path}`. Nothing was written."),
    ErrorSpec("CLI_007", "fatal", "instrument folder would be replaced",
              "'{path}' already holds an instrument's files ({files}); an import never "
              "replaces a version.",
              "Import into a new version folder (absent, or without manifest.toml, "
              "survey.csv and choices.csv); nothing was written."),
    # --- instrument -----------------------------------------------------------------------------
    ErrorSpec("INST_001", "fatal", "instrument file missing",
              "the instrument has no '{name}'.",
              "Add the file; see survey_instrument/README.md for the layout."),
    ErrorSpec("INST_002", "fatal", "instrument table unreadable",
              "cannot read the table: {reason}.",
              "Save it again as the program that made it writes it: an instrument table or a "
              "REDCap data dictionary as UTF-8 CSV with a header row, an XLSForm as .xlsx, "
              ".xls or CSV, a Qualtrics survey definition as exported (.qsf)."),
    ErrorSpec("INST_003", "error", "missing column",
              "the table has no column '{name}' (it has: {present}).",
              "Add the column to the header row."),
    ErrorSpec("INST_004", "error", "duplicate name",
              "name '{name}' is used more than once (first at row {first_row}).",
              "Give every question a unique name."),
    ErrorSpec("INST_005", "error", "invalid name",
              "name '{name}' is not a valid name (a question: letters, digits, _, - and ., "
              "not starting with a digit, - or .; a choice: no blanks, quotes or /).",
              "Rename the question or choice."),
    ErrorSpec("INST_006", "error", "unknown question type",
              "type '{type}' is not supported (supported: {supported}).",
              "Use one of the supported XLSForm types."),
    ErrorSpec("INST_007", "error", "choice list missing",
              "list '{list_name}' has no choices.",
              "Add the list to choices.csv or fix the spelling."),
    ErrorSpec("INST_008", "error", "duplicate choice",
              "list '{list_name}' has choice '{name}' more than once.",
              "Give every choice in a list a unique name."),
    ErrorSpec("INST_009", "error", "expression does not parse",
              "the {field} expression '{expression}' does not parse: {reason}.",
              "Fix the expression; see survey_instrument/README.md for the supported syntax."),
    ErrorSpec("INST_010", "error", "unknown reference",
              "the {field} expression refers to ${{{name}}}, which is not a question.",
              "Fix the name or add the question."),
    ErrorSpec("INST_011", "error", "skip-logic cycle",
              "skip logic forms a cycle: {cycle}.",
              "Break the cycle: a question cannot depend, directly or not, on itself."),
    ErrorSpec("INST_012", "error", "phase map incomplete",
              "choice '{name}' of list '{list_name}' has no row in the phase map.",
              "Add a row for it to phase_map.csv (use 'unclassified' if it places no phase)."),
    ErrorSpec("INST_013", "error", "phase map unknown code",
              "phase map row refers to '{name}', which is not a choice of '{list_name}'.",
              "Remove the row or fix the code."),
    ErrorSpec("INST_014", "error", "phase map bad value",
              "phase map column {field} has '{value}', expected one of {expected}.",
              "Use one of the expected values."),
    ErrorSpec("INST_015", "error", "manifest invalid",
              "manifest field '{field}' {problem}.",
              "Fix manifest.toml."),
    ErrorSpec("INST_016", "error", "unbalanced group",
              "group '{name}' is {problem}.",
              "Pair every begin_group with an end_group."),
    ErrorSpec("INST_017", "error", "bad flag",
              "column {field} has '{value}', expected yes or no.",
              "Write yes or no (or leave blank for no)."),
    ErrorSpec("INST_018", "error", "exclusive choice on non-multiple question",
              "list '{list_name}' marks '{name}' exclusive but is not used by a select_multiple "
              "question.",
              "Remove the exclusive flag or use the list in a select_multiple question."),
    ErrorSpec("INST_019", "error", "choice code clash",
              "list '{list_name}' uses code '{choice_code}' for both '{first}' and '{second}'.",
              "Give every choice in a list a unique code."),
    ErrorSpec("INST_020", "fatal", "instrument has problems",
              "the instrument at '{path}' has {n} problem(s).",
              "Run 'pulsecheck instrument check {path}' to list them."),
    # --- wave description and raw manifest -------------------------------------------------------
    ErrorSpec("INST_021", "warning", "form element not analysed",
              "{problem}.",
              "Nothing to do if this part of the form is not needed in the analysis; "
              "otherwise give it a supported type in the form."),
    ErrorSpec("INST_022", "fatal", "form has nothing to analyse",
              "{problem}, so no answer is given once per respondent.",
              "Move the questions each respondent answers once out of the repeat group (or "
              "add them), or analyse the repeat's own export with a form that describes it."),
    ErrorSpec("WAVE_001", "fatal", "wave description missing",
              "folder '{path}' has no wave.toml.",
              "Add a wave description; see raw/README.md."),
    ErrorSpec("WAVE_002", "fatal", "wave description invalid",
              "{problem}.",
              "Fix wave.toml; see raw/README.md for the fields."),
    ErrorSpec("WAVE_003", "fatal", "path outside the project",
              "'{path}' points outside {root}.",
              "Keep every file the wave names inside the project."),
    ErrorSpec("WAVE_004", "fatal", "raw file missing",
              "the wave names '{path}', which does not exist.",
              "Restore the file or fix its name in wave.toml."),
    ErrorSpec("WAVE_005", "fatal", "checksum mismatch",
              "sha256 of '{path}' is {actual}, the manifest records {expected}.",
              "Raw files are immutable: restore the original export, or if this is a new export "
              "record it with 'pulsecheck manifest {folder}'."),
    ErrorSpec("WAVE_006", "fatal", "file not in manifest",
              "'{path}' is not listed in {manifest}.",
              "Record it with 'pulsecheck manifest {folder}'."),
    ErrorSpec("WAVE_007", "fatal", "unknown exclusion rule",
              "exclusion step '{step}' uses rule '{rule}' (known: {known}).",
              "Use one of the known rules."),
    ErrorSpec("WAVE_008", "fatal", "unknown platform",
              "platform '{platform}' has no profile (known: {known}).",
              "Use a known platform or add a profile under survey_instrument/platforms/."),
    # --- reading exports -------------------------------------------------------------------------
    ErrorSpec("READ_001", "fatal", "file empty",
              "the file is empty.",
              "Export the responses again; the file has no header and no rows."),
    ErrorSpec("READ_002", "fatal", "not a text export",
              "the file is not readable as {expected}: {reason}.",
              "Export the responses again as {expected}."),
    ErrorSpec("READ_003", "fatal", "header rows missing",
              "expected {expected} header rows, found {found}.",
              "Export with the platform's standard header rows (see the platform profile)."),
    ErrorSpec("READ_004", "fatal", "required column missing",
              "the export has no column '{name}' ({role}).",
              "Include the column in the export, or map it in the platform profile."),
    ErrorSpec("READ_005", "fatal", "duplicate column",
              "column '{name}' appears more than once.",
              "Remove or rename the duplicate column in the export."),
    ErrorSpec("READ_006", "warning", "column not in instrument",
              "column '{name}' is neither a question of instrument {version} nor platform "
              "metadata; "
              "it is not analysed.",
              "Map it in the platform profile, add it to the instrument, or remove it from the "
              "export."),
    ErrorSpec("READ_007", "warning", "question not in export",
              "question '{name}' has no column in the export; its answers are all missing.",
              "Check the export settings if the question was asked."),
    ErrorSpec("READ_008", "error", "ragged row",
              "row has {found} fields, the header has {expected}.",
              "Re-export the file; a field separator or quote was lost."),
    ErrorSpec("READ_009", "fatal", "encoding not decodable",
              "the file is not valid {encoding}: {reason}.",
              "Re-save as UTF-8, or pass --encoding."),
    ErrorSpec("READ_010", "info", "platform detected",
              "read with the platform profile '{platform}': {reason}.",
              "If this is wrong, name the platform with --platform (or platform in wave.toml)."),
    ErrorSpec("READ_011", "info", "encoding detected",
              "text decoded as {encoding} ({reason}).",
              "If characters look wrong, name the encoding with --encoding."),
    ErrorSpec("READ_012", "warning", "answer matches no choice",
              "'{value}' matches no choice of question '{question}' by name, code or label; "
              "it is not analysed.",
              "Add the choice to the instrument, or map the value in a --map file."),
    ErrorSpec("READ_013", "warning", "choice not in the row's instrument version",
              "choice '{value}' of question '{question}' was added after version {version}, "
              "the version this row was answered in; it is not analysed.",
              "Check the row's form version, or the since_version of the choice."),
    ErrorSpec("READ_014", "warning", "typed answer has no question",
              "typed text for choice '{choice}' of question '{question}' has no follow-up "
              "text question in the instrument; it is not analysed.",
              "Add a text question shown when that choice is selected (its relevant names it)."),
    ErrorSpec("READ_015", "fatal", "mapping file invalid",
              "the mapping file is not usable: {problem}.",
              "Give a CSV with columns export_column, question and optional choice."),
    ErrorSpec("READ_016", "fatal", "platform not recognised",
              "the export matches no platform profile ({reason}).",
              "Name the platform with --platform ({known})."),
    ErrorSpec("READ_017", "fatal", "export unreadable by its adapter",
              "the file cannot be read as a {platform} export: {reason}.",
              "Export the responses again, or name another platform with --platform."),
    ErrorSpec("READ_018", "fatal", "no response rows",
              "the export has its header row(s) but no response rows.",
              "Export again once responses are in, or leave the file out of the wave."),
    ErrorSpec("READ_019", "fatal", "unterminated quote",
              "a quote opened on this row is never closed, so every later row would be read "
              "as part of one answer.",
              "Re-export the file (or close the quote); editing an export in a text editor "
              "often causes this."),
    ErrorSpec("READ_020", "fatal", "NUL bytes in a text export",
              "the file holds {n} NUL byte(s), the first on this row; a text export never "
              "contains them.",
              "Re-export the file: NUL bytes come from a damaged copy or from a binary file "
              "saved under a text name."),
    ErrorSpec("READ_021", "warning", "mixed text encodings",
              "line(s) {lines} are not valid UTF-8 while the rest of the file is; they were "
              "read as Windows-1252.",
              "Check the accented characters on those rows; re-save the whole file as UTF-8 "
              "to be sure."),
    ErrorSpec("READ_022", "fatal", "too many columns",
              "the export has {n} columns, more than the limit max_columns = {limit}.",
              "Check that this is a survey export; if it really has that many columns, raise "
              "max_columns in the wave's [limits] table or in survey_instrument/limits.toml."),
    ErrorSpec("READ_023", "fatal", "cell too long",
              "a cell holds {n} characters, more than the limit max_cell_chars = {limit}.",
              "Check the cell (a lost quote can join many rows into one); if the answer is "
              "real, raise max_cell_chars in the wave's [limits] table."),
    ErrorSpec("READ_024", "fatal", "file too large",
              "the file has {n} bytes, more than the limit max_file_bytes = {limit}.",
              "Check that this is the survey export; if it is, raise max_file_bytes in the "
              "wave's [limits] table or in survey_instrument/limits.toml."),
    ErrorSpec("READ_025", "fatal", "too many rows",
              "the export has {n} data rows, more than the limit max_rows = {limit}.",
              "Check that this is the survey export; if it is, raise max_rows in the wave's "
              "[limits] table or in survey_instrument/limits.toml."),
    ErrorSpec("READ_040", "info", "response id made from the row",
              "the export has no response id column ({name}); '{example}' and the like "
              "(file name and row number) stand in for it.",
              "Name the response id column with --map (export_column,response_id) if the "
              "export has one."),
    ErrorSpec("READ_041", "info", "response id made from several columns",
              "one response is one combination of {parts}; the response id joins them with "
              "'/' (for example '{example}').",
              "Nothing to do; a partnership's answers across events or instances are told "
              "apart by the duplicates step of the wave."),
    ErrorSpec("READ_042", "info", "role column chosen among several",
              "columns {columns} all fit the role {role}; '{chosen}' is used, the others are "
              "platform metadata.",
              "Name the column for the role with --map (export_column,{role}) to choose "
              "another."),
    ErrorSpec("READ_044", "error", "question's column not recognised",
              "question '{name}' has no column, but column '{found}' carries its label; its "
              "answers are not read.",
              "Map the column with --map (export_column,question): {found},{name}"),
    ErrorSpec("READ_043", "warning", "mapping row matches no column",
              "the --map row for '{name}' matches no column of the export by name or label.",
              "Correct the export_column to a column name as READ_006 prints it, or remove "
              "the row."),
    # --- validating answers ----------------------------------------------------------------------
    ErrorSpec("VAL_001", "warning", "not a number",
              "'{value}' is not a {kind}.",
              "It is treated as missing; to use the right number (no units or thousands "
              "separators), add it to the wave's corrections.csv (never edit the export)."),
    ErrorSpec("VAL_002", "warning", "code not in choice list",
              "'{value}' is not a choice of list '{list_name}' (choices: {choices}).",
              "It is treated as missing; to use the right choice, add it to the wave's "
              "corrections.csv (never edit the export)."),
    ErrorSpec("VAL_003", "warning", "required answer missing",
              "question '{question}' is required but has no answer.",
              "Follow up with the partnership; the answer is treated as missing."),
    ErrorSpec("VAL_004", "warning", "constraint violated",
              "'{value}' breaks the constraint {constraint}{message}.",
              "It is treated as missing; to use the right answer, add it to the wave's "
              "corrections.csv (never edit the export)."),
    ErrorSpec("VAL_005", "warning", "exclusive choice with others",
              "'{exclusive}' is exclusive but was ticked with {others}.",
              "Keep either the exclusive choice or the others; the whole answer is treated as "
              "missing."),
    ErrorSpec("VAL_006", "warning", "answer where skip logic hides the question",
              "question '{question}' has an answer but is not relevant ({relevant}).",
              "Check the survey's display logic; the answer is ignored."),
    ErrorSpec("VAL_007", "error", "respondent key missing",
              "the row has no {key}, so it cannot be attributed to a partnership.",
              "Fill in the {key} for this response, or remove the row."),
    ErrorSpec("VAL_008", "info", "duplicate submission",
              "the partnership with {key} '{value}' sent {n} submissions; the {rule} one (row "
              "{kept}) is kept.",
              "No action needed if this is the same partnership answering twice."),
    ErrorSpec("VAL_009", "warning", "integer expected",
              "'{value}' is not a whole number.",
              "It is treated as missing; to use the right whole number, add it to the wave's "
              "corrections.csv (never edit the export)."),
    ErrorSpec("VAL_010", "error", "too many invalid answers",
              "{n} answers on this row are invalid (limit {limit}).",
              "Check whether the row is a test or a corrupted record; it is quarantined."),
    ErrorSpec("VAL_011", "error", "duplicate response id",
              "response id '{value}' appears on rows {rows}.",
              "Every export row needs its own response id; remove the repeated row."),
    ErrorSpec("VAL_012", "info", "thousands separators removed",
              "'{value}' was read as {number}: the commas are thousands separators.",
              "No action needed; enter plain numbers to avoid this note."),
    ErrorSpec("VAL_013", "warning", "submission time not understood",
              "'{value}' is not a date and time in the form {expected}.",
              "Re-export with the platform's date format; the time is not used to choose "
              "between duplicate submissions."),
    # --- classification ---------------------------------------------------------------------------
    ErrorSpec("CLS_001", "info", "phase not classified",
              "self-placement '{value}' places no phase.",
              "No action needed; the partnership is counted as unclassified."),
    # --- statistics engine ------------------------------------------------------------------------
    # (STAT_ entries are added here.)
    ErrorSpec("STAT_001", "fatal", "column not in data",
              "the data have no column '{name}' (they have: {present}).",
              "Check the spelling of the column name."),
    ErrorSpec("STAT_002", "fatal", "design column unusable",
              "design column '{name}' {problem}.",
              "Fix the design variables: weights must be positive numbers, and no design column "
              "may be blank."),
    ErrorSpec("STAT_003", "fatal", "stratum with one PSU",
              "stratum '{stratum}' has only one sampling unit at stage {stage}, so its "
              "variance cannot be estimated under the lonely-PSU rule 'fail'.",
              "Choose another lonely-PSU rule (lonely_psu = certainty, remove, adjust or "
              "average in the design settings, --lonely-psu on the command line; R's "
              "options(survey.lonely.psu)), merge the stratum with a similar one, or describe "
              "the design without it."),
    ErrorSpec("STAT_004", "fatal", "unknown method",
              "{what} '{value}' is not supported (supported: {supported}).",
              "Choose one of the supported methods."),
    ErrorSpec("STAT_005", "fatal", "table unusable",
              "the table {problem}.",
              "Check the variables and levels passed to the test."),
    ErrorSpec("STAT_006", "fatal", "value not among the levels",
              "variable '{name}' has value(s) {values} that are not among the levels given "
              "({levels}).",
              "Pass every level of the variable (in instrument order), or recode the values."),
    ErrorSpec("STAT_007", "fatal", "indicator not 0/1",
              "indicator column '{name}' has value(s) {values}; expected 0, 1 or blank.",
              "Code check-all items as 1 (chosen), 0 (not chosen) or blank (not answered)."),
    ErrorSpec("STAT_008", "fatal", "bad parameter",
              "parameter {name} is {value}; expected {expected}.",
              "Pass a value in the expected range."),
    ErrorSpec("STAT_009", "fatal", "interval needs unweighted data",
              "the {method} interval assumes a simple random sample without weights, but a "
              "weighted or complex design was given.",
              "Use a design-based method (logit, beta, mean, likelihood, asin or xlogit)."),
    ErrorSpec("STAT_010", "fatal", "exact test too large",
              "the exact test for this {shape} table with {n} respondents needs more than "
              "{limit} steps.",
              "Use the chi-square test, or merge sparse levels."),
    ErrorSpec("STAT_011", "fatal", "level not in the data",
              "variable '{name}' has no answer '{level}' (its answers: {present}).",
              "Give the level exactly as the file holds it; a level nobody chose is a share "
              "of 0 only where the instrument lists it (--instrument)."),
    # --- replicate weights ---------------------------------------------------------------------
    ErrorSpec("REP_001", "fatal", "unknown replication method",
              "replication method '{value}' is not supported (supported: {supported}).",
              "Name the method the replicate weights were made with, spelt as listed."),
    ErrorSpec("REP_002", "fatal", "replicate weight unusable",
              "weight column '{name}' has '{value}' in data row {row_number}; expected "
              "{expected}.",
              "Fix the weight column: replicate weights are numbers of at least 0 and no "
              "weight may be blank."),
    ErrorSpec("REP_003", "fatal", "replicate columns do not fit",
              "the replicate design does not fit together: {problem}.",
              "List each replicate-weight column once and give scale, rscales and rho as the "
              "weights' documentation states them."),
    ErrorSpec("REP_004", "fatal", "no Hadamard matrix for this many strata",
              "half-samples for {strata} strata need a Hadamard matrix of order {order}, "
              "which is not constructed here.",
              "Use the replicate weights supplied with the data, or a jackknife (JKn)."),
    ErrorSpec("REP_005", "fatal", "design cannot be replicated this way",
              "the design cannot be converted to {method} replicates: {problem}.",
              "Choose the replication method that fits the design (JK1 without strata, JKn "
              "with strata, BRR or Fay with two PSUs per stratum)."),
    # --- calibration ---------------------------------------------------------------------------
    ErrorSpec("CALIB_001", "fatal", "population margins unusable",
              "the population margins {problem}.",
              "Give one row per variable and level with columns variable, level and count "
              "(the number of population units at that level, a positive number)."),
    ErrorSpec("CALIB_002", "fatal", "margin level missing",
              "level '{level}' of '{variable}' is in {where} but not in {other}.",
              "Add the level to the margins file, or recode or merge the level so that the "
              "sample and the margins have the same levels."),
    ErrorSpec("CALIB_003", "fatal", "raking did not converge",
              "raking did not converge in {iterations} passes (last change {change}, needed "
              "below {epsilon}).",
              "Check that the margins agree with each other (the same population total), or "
              "allow more passes."),
    ErrorSpec("CALIB_004", "fatal", "calibration variable blank",
              "calibration variable '{variable}' is blank for {count} respondent(s), the "
              "first in data row {row_number}.",
              "Give every respondent a level of each calibration variable (for example an "
              "explicit 'unknown' level with its population count)."),
    ErrorSpec("CALIB_005", "fatal", "trimming bounds impossible",
              "the weights cannot be trimmed to [{lower}, {upper}]: {problem}.",
              "Widen the bounds so that they include the mean weight."),
    ErrorSpec("CALIB_006", "fatal", "report statistic assumes unweighted data",
              "the report's {what} is '{value}', which assumes unweighted counts, but "
              "wave.toml asks for calibrated weights.",
              "In tables.toml choose a design-based interval method (logit, beta, mean, "
              "asin, xlogit or likelihood) and trend = false, or remove [calibration] from "
              "wave.toml."),
    # --- synthetic sample -------------------------------------------------------------------------
    ErrorSpec("SAMPLE_001", "fatal", "sample profile missing",
              "the sample profile {path} does not exist.",
              "Pass --profile, or add sample_profile.toml to the instrument folder."),
    ErrorSpec("SAMPLE_002", "fatal", "sample profile invalid",
              "{problem}.",
              "Correct the sample profile; every name in it must match the instrument."),
    # --- report specification -------------------------------------------------------------------
    ErrorSpec("SPEC_001", "error", "unknown kind",
              "{what} '{value}' is not known (known: {known}).",
              "Use one of the known values."),
    ErrorSpec("SPEC_002", "error", "unknown name",
              "'{name}' is neither a question, a group, a derived variable nor a table.",
              "Fix the spelling or define it."),
    ErrorSpec("SPEC_003", "error", "incomplete entry",
              "the entry {problem}.",
              "Complete the entry; see the comments at the top of the specification file."),
    ErrorSpec("SPEC_004", "error", "duplicate table id",
              "table id '{name}' is used more than once.",
              "Give every table its own id."),
    ErrorSpec("SPEC_005", "fatal", "report specification has problems",
              "the report specification '{path}' has {n} problem(s).",
              "Fix the entries listed below."),
    # --- verifying a run -----------------------------------------------------------------------
    ErrorSpec("VERIFY_001", "fatal", "not a run folder",
              "the folder has no {name}.",
              "Give the folder that `pulsecheck run` wrote."),
    ErrorSpec("VERIFY_002", "fatal", "run manifest unreadable",
              "run.json cannot be read: {reason}.",
              "Re-run the wave; run.json is written by pulsecheck and should not be edited."),
    ErrorSpec("VERIFY_003", "fatal", "input gone",
              "the input '{path}' recorded in run.json no longer exists.",
              "Restore the file; raw exports and instruments are kept for as long as their runs."),
    ErrorSpec("VERIFY_004", "fatal", "input changed",
              "sha256 of '{path}' is now {actual}, run.json records {expected}.",
              "The input changed since the run: restore it, or re-run to make a new record."),
    ErrorSpec("RENDER_001", "fatal", "run folder incomplete for reports",
              "'{path}' has no {name}, which the reports are rendered from.",
              "Re-run the wave with `pulsecheck run` (it writes everything the reports need)."),
    ErrorSpec("RENDER_002", "fatal", "analyst notebook failed",
              "the notebook template {name} stopped with an error: {reason}.",
              "Fix the template in reports/ (or the run folder it reads) and render again."),
    ErrorSpec("RENDER_003", "fatal", "report could not be written",
              "the {document} could not be written into '{path}': {reason}.",
              "Free disk space or fix the folder's permissions, then run `pulsecheck report` "
              "again."),
    ErrorSpec("RENDER_007", "warning", "PDF not written",
              "the file {name} was not written: {reason}.",
              "{remedy} Every other output was written; render it later with `pulsecheck "
              "report RUN_DIR`, or pass --no-pdf to leave PDFs out."),
    ErrorSpec("RENDER_008", "warning", "notebook not executed",
              "the file {name} was not written: {reason}.",
              "{remedy} Every other output was written; render it later with `pulsecheck "
              "report RUN_DIR`, or pass --no-notebook to leave it out."),
    ErrorSpec("RENDER_009", "warning", "Parquet file not written",
              "the file {name} was not written: {reason}.",
              "{remedy} Every other output was written; partnerships.sav, partnerships.dta "
              "and partnerships.csv hold the same data."),
    # --- crosswalks between instrument versions ------------------------------------------------
    ErrorSpec("XWALK_001", "fatal", "crosswalk columns missing",
              "the crosswalk lacks the column(s) {names}.",
              "Use the columns measure, label, family, from_question, from_choice, "
              "to_question, to_choice, comparability, caveat."),
    ErrorSpec("XWALK_002", "error", "crosswalk names an unknown item",
              "'{name}' is not a select question and choice of version {version}.",
              "Fix the spelling; see `pulsecheck instrument diff` for the names in each "
              "version."),
    ErrorSpec("XWALK_003", "error", "unknown comparability",
              "comparability '{value}' is not known (known: {known}).",
              "Use one of the known values."),
    ErrorSpec("XWALK_004", "error", "scale change marked identical",
              "measure '{measure}' maps {old} to {new}, whose answers differ in type, options "
              "or composition, but is marked identical.",
              "Mark it comparable_with_caveat and say in the caveat how the answers were "
              "harmonised, or not_comparable."),
    ErrorSpec("XWALK_005", "error", "changed wording marked identical",
              "measure '{measure}' is marked identical but its wording changed ({what}).",
              "Mark it comparable_with_caveat with a caveat naming the change."),
    ErrorSpec("XWALK_006", "error", "caveat missing",
              "measure '{measure}' is {comparability} but has no caveat.",
              "Write the caveat that must travel with its numbers."),
    ErrorSpec("XWALK_007", "error", "measure rows disagree",
              "the rows of measure '{measure}' disagree on {field} ({values}).",
              "Give every row of a measure the same {field}."),
    ErrorSpec("XWALK_008", "error", "measure defined twice",
              "measure '{measure}' is defined differently for version {version} in two "
              "crosswalks ({first}; {second}).",
              "Make both crosswalks use the same question and choices for that version."),
    ErrorSpec("XWALK_009", "fatal", "crosswalk has problems",
              "the crosswalk '{path}' has {n} problem(s).",
              "Fix the rows listed below."),
    # --- waves and trends ---------------------------------------------------------------------
    ErrorSpec("WAVES_001", "fatal", "no waves found",
              "'{path}' has no wave.toml and no sub-folder with one.",
              "Point to a wave folder or to a survey folder of wave folders (raw/<survey>/)."),
    ErrorSpec("WAVES_002", "fatal", "waves of different surveys",
              "the waves under '{path}' belong to more than one survey ({surveys}).",
              "Keep one survey's waves in one folder."),
    ErrorSpec("WAVES_003", "fatal", "partnership links file invalid",
              "the links file '{path}' {problem}.",
              "Use the columns of histories_review.csv with decision 'same' or 'different'."),
    ErrorSpec("WAVES_004", "fatal", "trends settings invalid",
              "the trends settings '{path}' {problem}.",
              "Correct the file; see the comments in it."),
    ErrorSpec("BENCH_001", "fatal", "benchmarks folder missing",
              "the benchmark code was not found in '{path}'.",
              "Run `pulsecheck bench` from a checkout of the project, which has benchmarks/."),
    ErrorSpec("BENCH_002", "fatal", "benchmark step failed",
              "a benchmark step stopped: {reason}",
              "Fix the cause shown, or run the failing size alone with --sizes."),
    # --- run and outputs --------------------------------------------------------------------------
    ErrorSpec("RUN_001", "fatal", "output folder would be replaced",
              "'{path}' exists and was not made by pulsecheck.",
              "Choose an empty folder, or one from an earlier run."),
    # --- the failure contract: file system, manifests, limits before memory -----------------------
    ErrorSpec("WAVE_009", "fatal", "raw path is not a file",
              "the wave names '{path}', which is a folder, not an export file.",
              "List each export file of the folder in wave.toml's files."),
    ErrorSpec("WAVE_010", "fatal", "checksum manifest unreadable",
              "{manifest} {problem}.",
              "Each line must be a sha256 (64 hex digits), two spaces and a file name, in "
              "UTF-8: restore the file, or record the exports again with "
              "'pulsecheck manifest {folder}'."),
    ErrorSpec("READ_026", "info", "blank record",
              "the record is blank (no cell holds anything); it is excluded as a blank record.",
              "Nothing to do; delete the line from the export if it should not be there."),
    ErrorSpec("READ_027", "fatal", "spreadsheet too large",
              "sheet '{sheet}' spans {ref}, {n} cells, more than the limit max_cells = "
              "{limit}.",
              "Check that this is the survey export (a stray cell far below or to the right "
              "of the data enlarges the sheet: delete it); if it is, raise max_cells in the "
              "wave's [limits] table or in survey_instrument/limits.toml."),
    ErrorSpec("READ_028", "fatal", "spreadsheet inflates too far",
              "the spreadsheet holds {n} bytes once decompressed, more than the limit "
              "max_unzipped_bytes = {limit}.",
              "Check that this is the survey export; if it is, raise max_unzipped_bytes in "
              "the wave's [limits] table or in survey_instrument/limits.toml."),
    ErrorSpec("RUN_002", "fatal", "output could not be written",
              "writing '{path}' failed: {reason}; nothing was published and the earlier "
              "run there, if any, is unchanged.",
              "Free disk space or fix the folder's permissions, then run again."),
    ErrorSpec("RUN_003", "fatal", "nothing to analyse",
              "no partnership is left to analyse: of {n} raw row(s), {excluded} were "
              "excluded and {quarantined} quarantined ({steps}); flow.csv, dispositions.csv "
              "and quarantine.csv in '{path}' say where each went.",
              "Check the exports and the exclusion steps in wave.toml (an export listed "
              "twice makes every response a duplicate)."),
    ErrorSpec("CLI_004", "fatal", "file system error",
              "the file system refused {action}: {reason}.",
              "Check the path, its permissions and the free disk space, then run again."),
    ErrorSpec("VERIFY_005", "fatal", "run not rebuilt",
              "the rebuilt run differs: {differ} file(s) differ, {missing} missing, {extra} "
              "not recorded (listed above).",
              "Find what changed since the run (an edited output, another code version); "
              "re-run the wave to make a new record."),
    ErrorSpec("RENDER_004", "fatal", "run folder file damaged",
              "'{name}' cannot be read: {reason}.",
              "Re-run the wave with `pulsecheck run`; files of a run folder are written by "
              "pulsecheck and should not be edited."),
    # --- configuration files (every TOML file pulsecheck reads) ---------------------------------
    ErrorSpec("CONF_001", "fatal", "configuration file unreadable",
              "the file is not valid TOML: {reason}.",
              "Correct the file at the place named (text in quotes, lists in [brackets], "
              "tables as [name]); see docs/configuration.md for its keys."),
    ErrorSpec("CONF_002", "error", "unknown configuration key",
              "key '{key}' is not a setting of this file (known here: {known}).",
              "{hint}Correct the spelling or remove the key: an unknown key would otherwise be "
              "ignored and its setting silently left at the default."),
    ErrorSpec("CONF_003", "fatal", "configuration file has problems",
              "the file has {n} problem(s).",
              "Fix the keys listed below; docs/configuration.md lists every key, its type and "
              "its default."),
    ErrorSpec("CONF_004", "error", "configuration key missing",
              "key '{key}' is required.",
              "Add it; docs/configuration.md says what it means and which values it takes."),
    ErrorSpec("CONF_005", "error", "configuration value of the wrong type",
              "key '{key}' is {found}, expected {expected}.",
              "{hint}Write the value as expected: values are never converted (\"no\" is not the "
              "list [\"no\"], a date is not text; quote it)."),
    ErrorSpec("CONF_006", "warning", "wave without a standard exclusion step",
              "the wave has no '{rule}' step, so {consequence}.",
              "Add a [[steps]] entry with rule = \"{rule}\" to wave.toml (see raw/README.md), "
              "or keep the wave as it is if that is intended."),
    ErrorSpec("CONF_007", "warning", "wave left out of the trends",
              "wave {wave} is left out of the trends: {reason}.",
              "Add the crosswalk {crosswalk} to {folder} to include it."),
    ErrorSpec("RENDER_006", "fatal", "wording template cannot be filled",
              "the wording template \u201c{template}\u201d cannot be filled: {problem} (its "
              "values: {known}).",
              "Correct the placeholder in {files} (placeholders are written in braces)."),
    # --- paths from data and configuration ------------------------------------------------------
    ErrorSpec("PATH_001", "fatal", "path leads outside its folder",
              "the {what} '{path}' leads outside {root}.",
              "Name a file inside that folder (no '..', absolute paths or links that lead "
              "out)."),
    ErrorSpec("PATH_002", "fatal", "file names from data collide",
              "the {what} '{first}' and '{second}' would both be written as '{name}'.",
              "Give them ids that differ in letters or digits."),
    # --- raw data are only read ----------------------------------------------------------------
    ErrorSpec("RAW_001", "fatal", "recorded export would be replaced",
              "'{path}' is recorded in {manifest} as a raw export.",
              "Write elsewhere, or give --replace to move the recorded export and its "
              "{manifest} aside (into {aside}) first."),
    ErrorSpec("RAW_002", "fatal", "output would overwrite the input",
              "writing '{path}' would overwrite the input '{input}'.",
              "Choose another --out folder."),
    ErrorSpec("RAW_003", "fatal", "output inside raw data",
              "the output folder '{path}' is inside the raw data folder '{raw}'.",
              "Write outputs outside raw/; raw data are only read."),
    # --- the yearly workflow ---------------------------------------------------------------------
    ErrorSpec("CORR_001", "fatal", "corrections file unreadable",
              "{problem}.",
              "Write corrections.csv as UTF-8 CSV with the header respondent, question, "
              "old_value, new_value, reason, who (one row per answer to correct)."),
    ErrorSpec("CORR_002", "error", "correction names an unknown respondent",
              "no response has the response id or {key} '{value}'{detail}.",
              "Give the response id (the respondent column of internal/issues.csv) or the "
              "{key} of a single response."),
    ErrorSpec("CORR_003", "error", "correction names an unknown question",
              "'{value}' is not a question of instrument {instrument}.",
              "Give a question name from survey.csv (the column of internal/issues.csv)."),
    ErrorSpec("CORR_004", "error", "old value is not what was read",
              "the answer read for '{response}', question '{question}', is {found}, not "
              "the old_value '{value}'.",
              "Copy old_value exactly as pulsecheck read it (the value in internal/"
              "issues.csv; check-all answers as choice names separated by a space), or remove "
              "the row if the export already holds the right answer."),
    ErrorSpec("CORR_005", "error", "answer corrected twice",
              "respondent '{response}', question '{value}' is already corrected in row "
              "{first}.",
              "Keep one row per answer: merge the two into one correction."),
    ErrorSpec("CORR_006", "fatal", "corrections file has problems",
              "the corrections file {path} has {n} problem(s); no correction was applied.",
              "Fix each problem listed below in the wave's corrections.csv; the raw export "
              "stays as it is."),
    ErrorSpec("CORR_007", "info", "answer corrected",
              "question '{question}' corrected {change} by {source} row {line} "
              "({reason}; {who}).",
              "Nothing to do: the correction is applied on every run; the export is "
              "unchanged."),
    ErrorSpec("CORR_008", "error", "correction without its reason or author",
              "the correction has no {missing}.",
              "Fill in reason (why the answer is wrong) and who (who decided) for every "
              "correction."),
    ErrorSpec("WAVE_011", "fatal", "new wave folder not empty",
              "'{path}' already holds files ({files}).",
              "Name a new folder for the wave (absent or empty); nothing was written."),
    ErrorSpec("RUN_004", "fatal", "run folder holds files the run did not write",
              "'{path}' holds {n} file(s) that its earlier run did not write: {files}; "
              "replacing the folder would delete them.",
              "Move those files out of the run folder (keep notes beside it, not in it), or "
              "write this run elsewhere with --out; nothing was deleted."),
)

CATALOGUE: Mapping[str, ErrorSpec] = {entry.code: entry for entry in ENTRIES}
