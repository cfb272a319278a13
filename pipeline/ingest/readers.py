"""Ingest: read instruments, platform profiles, wave descriptions and exports (the input edge).

This is one of the few modules that touches files. Everything it returns is plain data:
frozen dataclasses, dicts, and DataFrames of *strings* — decoding and typing answers is the
job of :mod:`pipeline.stages.validate`.

After ingest the only identifiers are the instrument's question names and a few platform
*roles* (``response_id``, ``submitted_at``, ``finished``, ``progress``, ``channel``); platform
column names and question text travel no further.
"""

from __future__ import annotations

import csv
import dataclasses
import difflib
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping, Sequence

import pandas as pd

from pipeline.errors import InstrumentError, PulsecheckError, issues_frame, make_issue
from pipeline.ingest.adapters import CLASSIFIERS
from pipeline.ingest.adapters.assemble import (
    ANSWER,
    CHOICE,
    PART,
    ROLE,
    VERSION,
    assemble,
    conventions_from,
)
from pipeline.ingest.adapters.detect import detect_platform
from pipeline.ingest.adapters.forms import (
    redcap_tables,
    relocate,
    xlsform_csv_sheets,
    xlsform_tables,
)
from pipeline.ingest.adapters.keys import response_keys, settle_roles
from pipeline.ingest.adapters.mapping import check_mapping, unused_mapping
from pipeline.ingest.adapters.qsf import qsf_tables
from pipeline.ingest.adapters.sheet_limits import check_spreadsheet
from pipeline.ingest.adapters.spss import read_sav, table_from_sav
from pipeline.ingest.adapters.text import (
    SPREADSHEET_SUFFIXES,
    Limits,
    cell_text,
    check_grid,
    check_size,
    read_grid,
)
from pipeline.ingest.config import read_toml
from pipeline.model.instrument import Instrument, build_instrument, check_instrument
from pipeline.model.schema_check import ConfigError
from pipeline.model.schemas import LimitsFile, ManifestFile, PlatformFile, WaveFile
from pipeline.model.wave import Step, Wave
from pipeline.paths import contained
from pipeline.resources import data_root

#: Folder of platform profiles, relative to the project root (and to the shipped data).
PLATFORMS_DIR = Path("survey_instrument") / "platforms"
#: The checksum manifest of a raw folder, in ``sha256sum`` format.
CHECKSUMS_FILE = "SHA256SUMS"
#: A sha256 digest as ``SHA256SUMS`` writes it.
_SHA256 = re.compile(r"[0-9A-Fa-f]{64}")
#: Default input limits, relative to the project root (a wave's ``[limits]`` overrides them).
LIMITS_FILE = Path("survey_instrument") / "limits.toml"


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in blocks (the file is opened read-only)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# Instruments
# --------------------------------------------------------------------------------------------

def _read_table(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise PulsecheckError("INST_001", file=str(path.parent), name=path.name)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise PulsecheckError("INST_002", file=str(path),
                              reason=str(error).splitlines()[0]) from error
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _read_instrument_file(path: Path) -> dict[str, Any]:
    """An XLSForm workbook (``.xlsx``), a Qualtrics survey definition (``.qsf``) or a REDCap
    data dictionary (``.csv``) as tables."""
    if path.suffix.lower() == ".qsf":
        try:
            data = json.loads(path.read_text(encoding="utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise PulsecheckError("INST_002", file=str(path),
                                  reason=str(error).splitlines()[0]) from error
        if not isinstance(data, dict) or "SurveyElements" not in data:
            raise PulsecheckError("INST_002", file=str(path),
                                  reason="not a Qualtrics survey definition (no SurveyElements)")
        return qsf_tables(data, source=path.name)
    if path.suffix.lower() in SPREADSHEET_SUFFIXES:
        limits = read_limits()
        # A form is small whatever its width: spreadsheet programs leave formatted empty
        # cells far to the right, so its span is capped by cells, not by an export's columns.
        check_spreadsheet(path, dataclasses.replace(limits, max_columns=limits.max_cells),
                          sheet=None)
        try:
            sheets = pd.read_excel(path, sheet_name=None, header=None, dtype=object,
                                   engine="calamine", keep_default_na=False, na_filter=False)
        except Exception as error:  # calamine raises its own error types
            raise PulsecheckError("INST_002", file=str(path),
                                  reason=str(error).splitlines()[0]) from error
        return xlsform_tables({name: _headed(frame.map(cell_text))
                               for name, frame in sheets.items()}, source=path.name)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise PulsecheckError("INST_002", file=str(path),
                              reason=str(error).splitlines()[0]) from error
    try:
        form_sheets = xlsform_csv_sheets(list(csv.reader(io.StringIO(text))))
    except csv.Error as error:
        raise PulsecheckError("INST_002", file=str(path), reason=str(error)) from error
    if form_sheets is not None:
        # An XLSForm saved as CSV (a sheet name in column 1 opens each sheet).
        return xlsform_tables(form_sheets, source=path.name)
    first_line = text.split("\n", 1)[0]
    # A dictionary saved by a spreadsheet program set for a decimal comma uses semicolons.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    try:
        dictionary = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                                 sep=delimiter)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise PulsecheckError("INST_002", file=str(path),
                              reason=str(error).splitlines()[0]) from error
    if len(dictionary.columns) < 6:
        raise PulsecheckError("INST_002", file=str(path),
                              reason="not a REDCap data dictionary (fewer than 6 columns) "
                                     "nor an XLSForm saved as CSV (no 'survey' in its first "
                                     "cell)")
    return redcap_tables(dictionary, source=path.name)


def _headed(frame: pd.DataFrame) -> pd.DataFrame:
    """A sheet read without a header, its first row made the header (repeats kept as they
    are, so that the form reader can report them)."""
    if frame.empty:
        return pd.DataFrame()
    headed = frame.iloc[1:].reset_index(drop=True)
    headed.columns = [str(c) for c in frame.iloc[0]]
    return headed


def read_instrument_tables(path: Path) -> dict[str, Any]:
    """Read an instrument into tables (no checking beyond readability).

    ``path`` is an instrument folder, an XLSForm workbook (``.xlsx``: survey, choices and
    settings sheets), a Qualtrics survey definition (``.qsf``) or a REDCap data dictionary
    (``.csv``).
    """
    path = Path(path)
    if path.is_file():
        return _read_instrument_file(path)
    if not path.is_dir():
        raise PulsecheckError("CLI_001", path=str(path))
    manifest_path = path / "manifest.toml"
    if not manifest_path.exists():
        raise PulsecheckError("INST_001", file=str(path), name="manifest.toml")
    _, manifest = read_toml(manifest_path, ManifestFile, root=find_root(path))
    tables: dict[str, Any] = {
        "manifest": manifest,
        "survey": _read_table(path / "survey.csv"),
        "choices": _read_table(path / "choices.csv"),
    }
    phase_file = manifest.get("phase", {}).get("map")
    if phase_file:
        tables["phase_map"] = _read_table(contained(path, phase_file, what="phase map",
                                                    file=str(manifest_path)))
    return tables


def instrument_sources(path: Path, tables: Mapping[str, Any]) -> dict[str, str]:
    """sha256 of each file the instrument was read from."""
    if Path(path).is_file():
        return {Path(path).name: sha256_file(Path(path))}
    names = ["manifest.toml", "survey.csv", "choices.csv"]
    phase_file = tables["manifest"].get("phase", {}).get("map")
    if phase_file:
        names.append(phase_file)
    # The report specification shapes every table, so it is part of the instrument's record.
    report = tables["manifest"].get("report", {})
    names += [report[key] for key in ("tables", "criteria")
              if report.get(key) and (Path(path) / report[key]).exists()]
    return {name: sha256_file(Path(path) / name) for name in names}


def read_instrument(path: Path) -> Instrument:
    """Read, check and build an instrument; raise :class:`InstrumentError` if it has problems."""
    tables = read_instrument_tables(path)
    problems = relocate(check_instrument(tables), tables.get("places", {}))
    if len(problems):
        raise InstrumentError(str(path), problems)
    return build_instrument(tables, source=instrument_sources(path, tables))


# --------------------------------------------------------------------------------------------
# Platform profiles
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Platform:
    """How one survey platform lays out its exports (from ``survey_instrument/platforms``)."""

    name: str
    title: str
    header_rows: int
    name_row: int
    encoding: str
    multiple_separator: str
    roles: Mapping[str, str]
    finished_true: tuple[str, ...]
    submitted_at_format: str
    metadata: tuple[str, ...]
    personal: tuple[str, ...]
    #: The whole profile as read (detection rules, value conventions, column patterns), for
    #: the adapters in :mod:`pipeline.ingest.adapters`.
    settings: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


def known_platforms(root: Path | None = None) -> list[str]:
    folder = (root or data_root()) / PLATFORMS_DIR
    return sorted(p.stem for p in folder.glob("*.toml"))


def platform_path(name: str, root: Path | None = None) -> Path:
    """The file of a platform profile: the project's own, else the one shipped with pulsecheck."""
    folder = (root or data_root()) / PLATFORMS_DIR
    path = contained(folder, f"{name}.toml", what="platform profile")
    if not path.exists():
        # The profiles shipped with pulsecheck serve every project.
        path = contained(data_root() / PLATFORMS_DIR, f"{name}.toml",
                         what="platform profile")
    if not path.exists():
        raise PulsecheckError("WAVE_008", platform=name,
                              known=", ".join(known_platforms(root)) or "none")
    return path


def read_platform(name: str, root: Path | None = None) -> Platform:
    """Load a platform profile by name."""
    path = platform_path(name, root)
    _, data = read_toml(path, PlatformFile, root=path.parents[2])
    values = data.get("values", {})
    metadata = data.get("metadata", {})
    return Platform(
        name=data["name"],
        title=data.get("title", data["name"]),
        header_rows=data.get("header_rows", 1),
        name_row=data.get("name_row", 1),
        encoding=data.get("encoding", "utf-8-sig"),
        multiple_separator=data.get("multiple_separator", ","),
        roles=MappingProxyType(dict(data.get("roles", {}))),
        finished_true=tuple(values.get("finished_true", ("1",))),
        submitted_at_format=values.get("submitted_at_format", "%Y-%m-%d %H:%M:%S"),
        metadata=tuple(metadata.get("columns", ())),
        personal=tuple(metadata.get("personal", ())),
        settings=MappingProxyType(data),
    )


# --------------------------------------------------------------------------------------------
# Input limits
# --------------------------------------------------------------------------------------------

def check_limits(table: Mapping[str, Any], file: str) -> dict[str, int]:
    """Check a ``[limits]`` table: known names (with a suggestion), whole numbers above zero."""
    known = list(Limits.__dataclass_fields__)
    problems = []
    for name, value in table.items():
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            problems.append(make_issue(
                "CONF_002", file=file, key=f"limits.{name}", known=", ".join(known),
                hint=f"Did you mean '{close[0]}'? " if close else ""))
        elif isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            problems.append(make_issue("CONF_005", file=file, key=f"limits.{name}",
                                       value=value, found=repr(value),
                                       expected="a whole number above zero", hint=""))
    if problems:
        raise ConfigError(file, issues_frame(problems))
    return dict(table)


def read_limits(root: Path | None = None,
                overrides: Mapping[str, Any] | None = None) -> Limits:
    """The project's input limits (``survey_instrument/limits.toml``), then ``overrides``."""
    values: dict[str, int] = {}
    for folder in dict.fromkeys([data_root(), *([Path(root)] if root else [])]):
        path = folder / LIMITS_FILE
        if path.exists():
            _, data = read_toml(path, LimitsFile, root=folder)
            values.update(check_limits(data.get("limits", {}), LIMITS_FILE.as_posix()))
    values.update(overrides or {})
    return Limits(**values)


# --------------------------------------------------------------------------------------------
# Wave descriptions
# --------------------------------------------------------------------------------------------

def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def find_root(start: Path) -> Path:
    """The nearest folder at or above ``start`` that holds ``survey_instrument/``."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / "survey_instrument").is_dir():
            return candidate
    return start


def read_wave(folder: Path) -> Wave:
    """Read and check a wave description (``wave.toml``) and the files it names.

    Paths in ``wave.toml`` are relative to the wave folder and must stay inside the project.
    """
    folder = Path(folder)
    if not folder.exists():
        raise PulsecheckError("CLI_001", path=str(folder))
    wave_file = folder / "wave.toml" if folder.is_dir() else folder
    folder = wave_file.parent
    if not wave_file.exists():
        raise PulsecheckError("WAVE_001", path=str(folder))
    root = find_root(folder)
    model, config = read_toml(wave_file, WaveFile, root=root)
    check_limits(model.limits, _shown(wave_file, root))

    def resolve(relative: str) -> Path:
        target = (folder / relative)
        if not _inside(target, root):
            raise PulsecheckError("WAVE_003", file=str(wave_file), path=relative,
                                  root=str(root.name or root))
        if not target.exists():
            raise PulsecheckError("WAVE_004", file=str(wave_file), path=relative)
        return target

    exports_dir = None
    if model.exports_dir is not None:
        # Stated in wave.toml, so the exports may leave the project (personal data kept
        # elsewhere); each file must still stay inside that folder.
        exports_dir = folder / model.exports_dir
        if not exports_dir.exists():
            raise PulsecheckError("WAVE_004", file=str(wave_file), path=model.exports_dir)
        if not exports_dir.is_dir():
            raise PulsecheckError("CLI_002", path=model.exports_dir,
                                  reason="exports_dir must be a folder")

    def resolve_file(relative: str) -> Path:
        if exports_dir is None:
            target = resolve(relative)
        else:
            target = contained(exports_dir, relative, what="export file",
                               file=str(wave_file))
            if not target.exists():
                raise PulsecheckError("WAVE_004", file=str(wave_file), path=relative)
        if not target.is_file():
            raise PulsecheckError("WAVE_009", file=str(wave_file), path=relative)
        return target

    steps = tuple(
        Step(id=entry.id, rule=entry.rule, reason=entry.reason or entry.id,
             params=MappingProxyType(entry.model_dump(exclude={"id", "rule", "reason"},
                                                      exclude_none=True)))
        for entry in model.steps)
    return Wave(
        path=wave_file,
        root=root,
        survey=model.survey,
        wave=model.wave,
        title=model.title or f"{model.survey} {model.wave}",
        synthetic=model.synthetic,
        instrument_path=resolve(model.instrument),
        platform=model.platform,
        files=tuple(resolve_file(name) for name in model.files),
        steps=steps,
        config=MappingProxyType(config),
        exports_dir=exports_dir,
        calibration=model.calibration,
        margins_path=_margins_path(model, folder, wave_file, resolve_file),
    )


def _margins_path(model: WaveFile, folder: Path, wave_file: Path,
                  resolve_file: Callable[[str], Path]) -> Path | None:
    """The calibration margins file, which must be a file inside the wave folder."""
    if model.calibration is None:
        return None
    relative = model.calibration.margins
    if not _inside(folder / relative, folder):
        raise PulsecheckError("WAVE_003", file=str(wave_file), path=relative,
                              root=folder.name)
    return resolve_file(relative)


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


#: The reports' configuration, relative to the project root (shapes every rendered report).
REPORT_FILES = (Path("reports") / "report.toml", Path("reports") / "funder" / "wording.toml",
                Path("reports") / "funder" / "recommendations.toml",
                Path("reports") / "trends" / "wording.toml")


def configuration_files(wave: Wave) -> dict[str, str]:
    """Every configuration file besides the instrument's that shapes a wave's outputs.

    The platform profile, the input limits and the reports' wording and layout, each as its
    path (relative to the wave's project, or to pulsecheck's own folder for the files it
    ships) → sha256, for ``run.json``; ``pulsecheck verify`` checks them before rebuilding.
    """
    found = [platform_path(wave.platform, wave.root)]
    found += [folder / LIMITS_FILE for folder in dict.fromkeys([data_root(), Path(wave.root)])
              if (folder / LIMITS_FILE).exists()]
    found += [data_root() / name for name in REPORT_FILES if (data_root() / name).exists()]
    result = {}
    for path in found:
        for base in (Path(wave.root), data_root()):
            try:
                name = path.resolve().relative_to(base.resolve()).as_posix()
                break
            except ValueError:
                continue
        else:
            name = path.name
        result[name] = sha256_file(path)
    return dict(sorted(result.items()))


def read_checksums(folder: Path) -> dict[str, str]:
    """Parse a ``SHA256SUMS`` file: file name → hex digest."""
    path = Path(folder) / CHECKSUMS_FILE
    if not path.exists():
        return {}

    def damaged(problem: str, line: int | None = None) -> PulsecheckError:
        return PulsecheckError("WAVE_010", file=str(path), row=line, manifest=CHECKSUMS_FILE,
                               problem=problem, folder=str(folder))

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise damaged(f"is not UTF-8 text (byte {error.start})") from error
    except OSError as error:
        raise damaged(f"cannot be read ({error.strerror or error})") from error
    sums = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            parts = line.split(maxsplit=1)
            if len(parts) != 2 or not _SHA256.fullmatch(parts[0]):
                raise damaged(f"line {number} is not 'sha256  name'", number)
            sums[parts[1].lstrip("*").strip()] = parts[0].lower()
    return sums


def verify_checksums(wave: Wave) -> dict[str, str]:
    """Check every raw file of a wave against the folder's ``SHA256SUMS``.

    Returns
    -------
    dict
        Relative file name → sha256, for the run manifest.
    """
    folder = wave.path.parent
    sums = read_checksums(folder)
    actual = {}
    for path in wave.files:
        name = wave.export_name(path)
        digest = sha256_file(path)
        if name not in sums:
            raise PulsecheckError("WAVE_006", path=name, manifest=CHECKSUMS_FILE,
                                  folder=str(folder))
        if sums[name] != digest:
            raise PulsecheckError("WAVE_005", path=name, actual=digest[:12] + "…",
                                  expected=sums[name][:12] + "…", folder=str(folder))
        actual[name] = digest
    return actual


def read_corrections(folder: Path) -> pd.DataFrame | None:
    """A wave folder's ``corrections.csv`` as strings, or ``None`` when it has none.

    Raises
    ------
    PulsecheckError
        ``CORR_001`` when the file is not UTF-8 CSV with the columns
        :data:`pipeline.model.wave.CORRECTION_COLUMNS`.
    """
    from pipeline.model.wave import CORRECTION_COLUMNS, CORRECTIONS_FILE

    path = Path(folder) / CORRECTIONS_FILE
    if not path.exists():
        return None
    if not path.is_file():
        raise PulsecheckError("CORR_001", file=CORRECTIONS_FILE, problem="it is not a file")
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise PulsecheckError("CORR_001", file=CORRECTIONS_FILE,
                              problem="the file is empty (not even a header)") from None
    except (UnicodeDecodeError, pd.errors.ParserError) as error:
        raise PulsecheckError("CORR_001", file=CORRECTIONS_FILE,
                              problem=str(error).splitlines()[0]) from error
    columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in CORRECTION_COLUMNS if c not in columns]
    if missing:
        raise PulsecheckError("CORR_001", file=CORRECTIONS_FILE,
                              problem=f"the column(s) {', '.join(missing)} are missing")
    frame.columns = columns
    return frame[list(CORRECTION_COLUMNS)]


def write_checksums(folder: Path, names: list[str], base: Path | None = None) -> Path:
    """Record the sha256 of ``names`` in ``folder``'s ``SHA256SUMS``.

    ``names`` are relative to ``base`` (a wave's ``exports_dir``), by default to ``folder``.
    """
    folder = Path(folder)
    base = Path(base) if base is not None else folder
    lines = [f"{sha256_file(base / name)}  {name}\n" for name in sorted(names)]
    target = folder / CHECKSUMS_FILE
    target.write_text("".join(lines), encoding="utf-8")
    return target


# --------------------------------------------------------------------------------------------
# Exports
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Export:
    """An export read as strings: the canonical frame and the problems met while reading."""

    frame: pd.DataFrame
    issues: pd.DataFrame
    n_rows: int
    #: ``(row position, question)`` of check-all questions answered with nothing ticked.
    none_selected: tuple[tuple[int, str], ...] = ()
    #: The platform profile the export was read with.
    platform: str = ""
    #: How the file was read (detected platform and encoding) as info issues; kept apart
    #: from ``issues`` so that data problems are not mixed with reading decisions.
    notes: pd.DataFrame | None = None
    #: ``(file, row)`` of records with no visible character (not responses; each still gets
    #: a disposition, see :func:`pipeline.stages.flow.account_blank_records`).
    blank_rows: tuple[tuple[str, int], ...] = ()


def read_profiles(root: Path | None = None) -> list[Mapping[str, Any]]:
    """Every platform profile's settings (for detection), the project's own included."""
    roots = [data_root()] + ([Path(root)] if root and Path(root) != data_root() else [])
    found: dict[str, Mapping[str, Any]] = {}
    for folder in roots:
        for name in known_platforms(folder):
            found[name] = read_platform(name, folder).settings
    return [settings for settings in found.values() if settings.get("adapter") != "auto"]


def read_mapping(path: Path, instrument: Instrument) -> dict[str, tuple[str, str, str]]:
    """Read an explicit column mapping (CSV: ``export_column, question[, choice, kind]``)."""
    path = Path(path)
    if not path.exists():
        raise PulsecheckError("CLI_001", path=str(path))
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise PulsecheckError("READ_015", file=path.name,
                              problem=str(error).splitlines()[0]) from error
    if not {"export_column", "question"} <= set(frame.columns):
        raise PulsecheckError("READ_015", file=path.name,
                              problem="columns export_column and question are required")
    mapping, problems = check_mapping(frame.to_dict("records"), instrument)
    if problems:
        raise PulsecheckError("READ_015", file=path.name, problem="; ".join(problems))
    return mapping


def read_choice_versions(path: Path) -> dict[tuple[str, str], str]:
    """``(list_name, choice)`` → the instrument version that added it (``since_version``).

    Choices without a ``since_version`` are valid in every version.
    """
    choices = read_instrument_tables(path)["choices"]
    if "since_version" not in choices.columns:
        return {}
    return {(row["list_name"].strip(), row["name"].strip()): row["since_version"].strip()
            for row in choices.to_dict("records") if str(row["since_version"]).strip()}


def _choose_profile(path: Path, first_rows: list, family: str,
                    profiles: list[Mapping[str, Any]],
                    questions: tuple[str, ...] = ()) -> tuple[Mapping[str, Any], str]:
    found = detect_platform(profiles, first_rows, path.suffix, family)
    if found is not None:
        return found
    named_questions = [c.strip() for c in (first_rows[0] if first_rows else ())
                       if c.strip() in questions]
    plain = next((p for p in profiles if p.get("adapter") == "columns"
                  and p.get("family", p["name"]) == "csv"), None)
    if family in (None, "auto", "csv") and plain is not None and named_questions:
        # No platform's header: a plain table whose row 1 names the instrument's questions.
        return plain, ("no platform's header fits and row 1 names instrument questions ("
                       + ", ".join(named_questions[:3]) + ")")
    named = [p for p in profiles if p.get("family", p["name"]) == family]
    if named:
        first = next((p for p in named if p["name"] == family), named[0])
        return first, "named explicitly; its header did not match the usual layout"
    known = ", ".join(sorted({p.get("family", p["name"]) for p in profiles}))
    raise PulsecheckError("READ_016", file=path.name, known=known,
                          reason="no profile's detection rules fit its first rows")


def read_export(path: Path, instrument: Instrument, platform: Platform | None = None, *,
                source: str | None = None,
                mapping: Mapping[str, tuple[str, str, str]] | None = None,
                encoding: str | None = None,
                choice_versions: Mapping[tuple[str, str], str] | None = None,
                root: Path | None = None, limits: Limits | None = None) -> Export:
    """Read one export file of any supported platform into the canonical string frame.

    Parameters
    ----------
    path : Path
        The export (CSV, TSV, XLSX or SAV).
    instrument : Instrument
        The instrument its answers belong to.
    platform : Platform, optional
        The wave's platform profile; its family limits detection (``auto``: any platform).
    source : str, optional
        A platform family named by the user (``--platform``); overrides ``platform``.
    mapping : mapping, optional
        Explicit column mapping (:func:`read_mapping`), tried before names and labels.
    encoding : str, optional
        Text encoding to use instead of detecting it.
    choice_versions : mapping, optional
        First instrument version of each choice (:func:`read_choice_versions`).
    root : Path, optional
        Project root whose platform profiles are also considered.
    limits : Limits, optional
        Input limits (:func:`read_limits`); the project's defaults when not given.

    Returns
    -------
    Export
        The canonical frame (see :mod:`pipeline.ingest.adapters.assemble`) and the issues met,
        starting with the detected platform and encoding (info).
    """
    path = Path(path)
    if not path.exists():
        raise PulsecheckError("CLI_001", path=str(path))
    family = source or (platform.settings.get("family", platform.name) if platform else "auto")
    profiles = read_profiles(root)
    if platform is not None and platform.settings.get("adapter") not in (None, "auto") and \
            platform.name not in {p["name"] for p in profiles}:
        profiles.append(platform.settings)
    limits = limits or read_limits(root)
    issues: list[dict] = []
    is_sav = path.suffix.lower() in (".sav", ".zsav")
    check_size(path, limits)
    grid = None if is_sav else read_grid(path, encoding=encoding, limits=limits)
    first_rows = [] if grid is None else list(grid.records[:3])
    settings, reason = _choose_profile(path, first_rows, family, profiles,
                                       tuple(q.name for q in instrument.answerable))
    issues.append(make_issue("READ_010", file=path.name, platform=settings.get("title"),
                             reason=reason))
    if grid is not None and grid.encoding:
        issues.append(make_issue("READ_011", file=path.name, encoding=grid.encoding,
                                 reason=grid.reason))
    if (settings.get("adapter") == "spss") != is_sav:
        # Only .sav files hold SPSS data, and a .sav file is not text.
        raise PulsecheckError("READ_017", file=path.name, platform=settings.get("title"),
                              reason="the file name ending does not fit this platform; "
                                     "SPSS data must end in .sav and nothing else may")
    if settings.get("adapter") == "spss":
        data, meta = read_sav(path)
        table, targets, extra = table_from_sav(data, meta, path.name, instrument, settings,
                                               mapping)
    else:
        check_grid(grid, limits, int(settings.get("header_rows", 1)))
        classify = CLASSIFIERS[settings.get("adapter", "columns")]
        table, targets, extra = classify(grid, instrument, settings, mapping)
        if grid.mixed_lines:
            extra = [make_issue("READ_021", file=path.name,
                                lines=_ranges(grid.mixed_lines)), *extra]
    targets, settled = settle_roles(table, targets)
    _check_duplicate_targets(path.name, table, targets)
    if not table.records:
        raise PulsecheckError("READ_018", file=path.name)
    targets, response_ids, keyed = response_keys(table, targets, instrument, settings,
                                                 path.stem)
    issues.extend(settled + keyed)
    extra = [*extra, *unused_mapping(mapping, grid, table)]
    built = assemble(table, targets, instrument, conventions_from(settings),
                     response_ids=response_ids, choice_versions=choice_versions or {})
    extra = [*(dict(note) for note in instrument.notes), *extra]
    blank = () if grid is None else _blank_rows(grid, table.rows,
                                                int(settings.get("header_rows", 1)))
    return Export(frame=built.frame, issues=issues_frame(extra + built.issues),
                  n_rows=len(table.records), none_selected=built.none_selected,
                  platform=str(settings["name"]), notes=issues_frame(issues),
                  blank_rows=tuple((path.name, number) for number in blank))


def _blank_rows(grid: Any, kept: Sequence[int], header_rows: int) -> tuple[int, ...]:
    """Row numbers of the data records the adapter left out because nothing is in them."""
    n = len(grid.records)
    if len(kept) >= n - header_rows:
        return ()
    taken = set(kept)
    return tuple(number for number in range(header_rows + 1, n + 1)
                 if number not in taken
                 and not any(str(cell).strip() for cell in grid.records[number - 1]))


def _ranges(numbers: tuple[int, ...], shown: int = 10) -> str:
    listed = ", ".join(str(n) for n in numbers[:shown])
    return listed + (f" and {len(numbers) - shown} more" if len(numbers) > shown else "")


def _check_duplicate_targets(file_name: str, table: Any, targets: list[Any]) -> None:
    """Refuse an export in which two columns hold the same answer or role.

    Which of the two to believe cannot be decided from the file (an Excel copy-paste that
    duplicated a column, or a re-export appended to the right), so the user must choose.
    """
    seen: dict[tuple[str, str, str], str] = {}
    for column, target in zip(table.columns, targets, strict=True):
        if target.kind not in (ROLE, ANSWER, CHOICE, VERSION):
            continue
        # The parts of one split answer (a geopoint's -Latitude, ...) are one column each.
        key = (target.kind, target.name, target.choice, column if target.by == PART else "")
        if key in seen:
            raise PulsecheckError("READ_005", file=file_name, row=table.header_row,
                                  column=column, name=column)
        seen[key] = column
