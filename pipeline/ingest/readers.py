"""Ingest: read instruments, platform profiles, wave descriptions and exports (the input edge).

This is one of the few modules that touches files. Everything it returns is plain data:
frozen dataclasses, dicts, and DataFrames of *strings* — decoding and typing answers is the
job of :mod:`pipeline.stages.validate`.

After ingest the only identifiers are the instrument's question names and a few platform
*roles* (``response_id``, ``submitted_at``, ``finished``, ``progress``, ``channel``); platform
column names and question text travel no further.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import pandas as pd

from pipeline.ingest.adapters import CLASSIFIERS
from pipeline.ingest.adapters.assemble import (ANSWER, CHOICE, ROLE, VERSION, assemble,
                                        conventions_from)
from pipeline.ingest.adapters.detect import detect_platform
from pipeline.ingest.adapters.forms import redcap_tables, xlsform_tables
from pipeline.ingest.adapters.mapping import check_mapping
from pipeline.ingest.adapters.spss import read_sav, table_from_sav
from pipeline.ingest.adapters.text import (SPREADSHEET_SUFFIXES, Limits, cell_text, check_grid,
                                    check_size, read_grid)
from pipeline.columns import FILE_COLUMN, ROLES, ROW_COLUMN
from pipeline.errors import InstrumentError, PulsecheckError, issues_frame, make_issue
from pipeline.model.instrument import Instrument, build_instrument, check_instrument
from pipeline.model.wave import STEP_RULES, Step, Wave
from pipeline.resources import data_root

#: Folder of platform profiles, relative to the project root (and to the shipped data).
PLATFORMS_DIR = Path("survey_instrument") / "platforms"
#: The checksum manifest of a raw folder, in ``sha256sum`` format.
CHECKSUMS_FILE = "SHA256SUMS"
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
        raise PulsecheckError("INST_002", file=str(path), reason=str(error).splitlines()[0])
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _read_instrument_file(path: Path) -> dict[str, Any]:
    """An XLSForm workbook (``.xlsx``) or a REDCap data dictionary (``.csv``) as tables."""
    if path.suffix.lower() in SPREADSHEET_SUFFIXES:
        try:
            sheets = pd.read_excel(path, sheet_name=None, header=0, dtype=object,
                                   engine="calamine", keep_default_na=False, na_filter=False)
        except Exception as error:  # calamine raises its own error types
            raise PulsecheckError("INST_002", file=str(path), reason=str(error).splitlines()[0])
        sheets = {name: frame.map(cell_text) for name, frame in sheets.items()}
        return xlsform_tables(sheets)
    try:
        dictionary = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise PulsecheckError("INST_002", file=str(path), reason=str(error).splitlines()[0])
    if len(dictionary.columns) < 6:
        raise PulsecheckError("INST_002", file=str(path),
                              reason="not a REDCap data dictionary (fewer than 6 columns)")
    return redcap_tables(dictionary)


def read_instrument_tables(path: Path) -> dict[str, Any]:
    """Read an instrument into tables (no checking beyond readability).

    ``path`` is an instrument folder, an XLSForm workbook (``.xlsx``: survey, choices and
    settings sheets) or a REDCap data dictionary (``.csv``).
    """
    path = Path(path)
    if path.is_file():
        return _read_instrument_file(path)
    if not path.is_dir():
        raise PulsecheckError("CLI_001", path=str(path))
    manifest_path = path / "manifest.toml"
    if not manifest_path.exists():
        raise PulsecheckError("INST_001", file=str(path), name="manifest.toml")
    try:
        manifest = tomllib.loads(manifest_path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise PulsecheckError("INST_002", file=str(manifest_path), reason=str(error))
    tables: dict[str, Any] = {
        "manifest": manifest,
        "survey": _read_table(path / "survey.csv"),
        "choices": _read_table(path / "choices.csv"),
    }
    phase_file = manifest.get("phase", {}).get("map")
    if phase_file:
        tables["phase_map"] = _read_table(path / phase_file)
    return tables


def instrument_sources(path: Path, tables: Mapping[str, Any]) -> dict[str, str]:
    """sha256 of each file the instrument was read from."""
    if Path(path).is_file():
        return {Path(path).name: sha256_file(Path(path))}
    names = ["manifest.toml", "survey.csv", "choices.csv"]
    phase_file = tables["manifest"].get("phase", {}).get("map")
    if phase_file:
        names.append(phase_file)
    return {name: sha256_file(Path(path) / name) for name in names}


def read_instrument(path: Path) -> Instrument:
    """Read, check and build an instrument; raise :class:`InstrumentError` if it has problems."""
    tables = read_instrument_tables(path)
    problems = check_instrument(tables)
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


def read_platform(name: str, root: Path | None = None) -> Platform:
    """Load a platform profile by name."""
    folder = (root or data_root()) / PLATFORMS_DIR
    path = folder / f"{name}.toml"
    if not path.exists():
        # The profiles shipped with pulsecheck serve every project.
        path = data_root() / PLATFORMS_DIR / f"{name}.toml"
    if not path.exists():
        raise PulsecheckError("WAVE_008", platform=name,
                              known=", ".join(known_platforms(root)) or "none")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    values = data.get("values", {})
    metadata = data.get("metadata", {})
    return Platform(
        name=data["name"],
        title=data.get("title", data["name"]),
        header_rows=int(data.get("header_rows", 1)),
        name_row=int(data.get("name_row", 1)),
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
    """Check a ``[limits]`` table: known names, whole numbers above zero."""
    known = Limits.__dataclass_fields__
    values = {}
    for name, value in table.items():
        if name not in known:
            raise PulsecheckError("WAVE_002", file=file,
                                  problem=f"[limits] has '{name}', expected one of "
                                          f"{', '.join(known)}")
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise PulsecheckError("WAVE_002", file=file,
                                  problem=f"[limits] {name} is {value!r}, expected a whole "
                                          f"number above zero")
        values[name] = value
    return values


def read_limits(root: Path | None = None,
                overrides: Mapping[str, Any] | None = None) -> Limits:
    """The project's input limits (``survey_instrument/limits.toml``), then ``overrides``."""
    values: dict[str, int] = {}
    for folder in dict.fromkeys([data_root(), *([Path(root)] if root else [])]):
        path = folder / LIMITS_FILE
        if path.exists():
            try:
                table = tomllib.loads(path.read_text(encoding="utf-8")).get("limits", {})
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
                raise PulsecheckError("WAVE_002", file=str(LIMITS_FILE), problem=str(error))
            values.update(check_limits(table, str(LIMITS_FILE)))
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
    try:
        config = tomllib.loads(wave_file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise PulsecheckError("WAVE_002", file=str(wave_file), problem=str(error))
    root = find_root(folder)
    for key in ("survey", "wave", "instrument", "platform", "files", "steps"):
        if key not in config:
            raise PulsecheckError("WAVE_002", file=str(wave_file),
                                  problem=f"field '{key}' is missing")
    if not isinstance(config["wave"], str):
        raise PulsecheckError("WAVE_002", file=str(wave_file),
                              problem="field 'wave' must be a quoted string")
    if not isinstance(config["files"], list) or not config["files"] or \
            not all(isinstance(name, str) for name in config["files"]):
        raise PulsecheckError("WAVE_002", file=str(wave_file),
                              problem="field 'files' must be a list of file names")
    if not isinstance(config["steps"], list) or \
            not all(isinstance(entry, dict) for entry in config["steps"]):
        raise PulsecheckError("WAVE_002", file=str(wave_file),
                              problem="'steps' must be [[steps]] tables")
    if not isinstance(config.get("limits", {}), dict):
        raise PulsecheckError("WAVE_002", file=str(wave_file),
                              problem="'limits' must be a [limits] table")
    check_limits(config.get("limits", {}), str(wave_file.name))

    def resolve(relative: str) -> Path:
        target = (folder / relative)
        if not _inside(target, root):
            raise PulsecheckError("WAVE_003", file=str(wave_file), path=relative,
                                  root=str(root.name or root))
        if not target.exists():
            raise PulsecheckError("WAVE_004", file=str(wave_file), path=relative)
        return target

    steps = []
    for number, entry in enumerate(config["steps"], start=1):
        rule = entry.get("rule", "")
        step_id = entry.get("id", f"step {number}")
        if rule not in STEP_RULES:
            raise PulsecheckError("WAVE_007", file=str(wave_file), step=step_id, rule=rule,
                                  known=", ".join(STEP_RULES))
        params = {k: v for k, v in entry.items() if k not in ("id", "rule", "reason")}
        steps.append(Step(id=step_id, rule=rule, reason=entry.get("reason", step_id),
                          params=MappingProxyType(params)))
    return Wave(
        path=wave_file,
        root=root,
        survey=str(config["survey"]),
        wave=str(config["wave"]),
        title=str(config.get("title", f"{config['survey']} {config['wave']}")),
        synthetic=bool(config.get("synthetic", False)),
        instrument_path=resolve(config["instrument"]),
        platform=str(config["platform"]),
        files=tuple(resolve(name) for name in config["files"]),
        steps=tuple(steps),
        config=MappingProxyType(config),
    )


def read_checksums(folder: Path) -> dict[str, str]:
    """Parse a ``SHA256SUMS`` file: file name → hex digest."""
    path = Path(folder) / CHECKSUMS_FILE
    if not path.exists():
        return {}
    sums = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            sums[name.lstrip("*").strip()] = digest.lower()
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
        name = path.relative_to(folder).as_posix()
        digest = sha256_file(path)
        if name not in sums:
            raise PulsecheckError("WAVE_006", path=name, manifest=CHECKSUMS_FILE,
                                  folder=str(folder))
        if sums[name] != digest:
            raise PulsecheckError("WAVE_005", path=name, actual=digest[:12] + "…",
                                  expected=sums[name][:12] + "…", folder=str(folder))
        actual[name] = digest
    return actual


def write_checksums(folder: Path, names: list[str]) -> Path:
    """Record the sha256 of ``names`` (relative to ``folder``) in its ``SHA256SUMS``."""
    folder = Path(folder)
    lines = [f"{sha256_file(folder / name)}  {name}\n" for name in sorted(names)]
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


def to_canonical(headers: list[list[str]], records: list[list[str]], file_name: str,
                 instrument: Instrument, platform: Platform) -> Export:
    """Map platform columns to instrument questions and roles (pure).

    Returns
    -------
    Export
        ``frame`` has ``_file``, ``_row`` (the row number a spreadsheet shows, header rows
        included), the platform roles present, then one string column per answerable
        question (blank where unanswered or absent). Platform metadata and personal metadata
        columns are dropped here; columns the instrument does not know are reported.
    """
    names = [name.strip() for name in headers[platform.name_row - 1]]
    issues: list[dict] = []
    seen: set[str] = set()
    for name in names:
        if name in seen and name:
            raise PulsecheckError("READ_005", file=file_name, row=platform.name_row,
                                  column=name, name=name)
        seen.add(name)
    response_column = platform.roles.get("response_id")
    if response_column not in names:
        raise PulsecheckError("READ_004", file=file_name, row=platform.name_row,
                              name=response_column, role="response id")

    width = len(names)
    first_row = platform.header_rows + 1
    fixed: list[list[str]] = []
    for offset, record in enumerate(records):
        if len(record) != width:
            if not any(cell.strip() for cell in record):
                continue
            issues.append(make_issue("READ_008", file=file_name, row=first_row + offset,
                                     found=len(record), expected=width))
            record = (record + [""] * width)[:width]
        fixed.append(record + [str(first_row + offset)])
    table = pd.DataFrame(fixed, columns=names + [ROW_COLUMN], dtype=object) if fixed else \
        pd.DataFrame(columns=names + [ROW_COLUMN], dtype=object)

    questions = [q.name for q in instrument.answerable]
    data: dict[str, Any] = {
        FILE_COLUMN: pd.Series(file_name, index=table.index, dtype=object),
        ROW_COLUMN: table[ROW_COLUMN].astype(int),
    }
    for role in ROLES:
        column = platform.roles.get(role)
        if column and column in names:
            data[role] = table[column].astype(str).str.strip()
    for question in questions:
        if question in names:
            data[question] = table[question].astype(str)
        else:
            data[question] = pd.Series("", index=table.index, dtype=object)
            issues.append(make_issue("READ_007", file=file_name, column=question,
                                     name=question))
    known = set(questions) | set(platform.metadata) | set(platform.roles.values())
    for name in names:
        if name and name not in known:
            issues.append(make_issue("READ_006", file=file_name, row=platform.name_row,
                                     column=name, name=name, version=instrument.version))
    frame = pd.DataFrame(data)
    return Export(frame=frame, issues=issues_frame(issues), n_rows=len(records))


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
        raise PulsecheckError("READ_015", file=path.name, problem=str(error).splitlines()[0])
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
                    profiles: list[Mapping[str, Any]]) -> tuple[Mapping[str, Any], str]:
    found = detect_platform(profiles, first_rows, path.suffix, family)
    if found is not None:
        return found
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
        A platform family named by the user (``--source``); overrides ``platform``.
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
    settings, reason = _choose_profile(path, first_rows, family, profiles)
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
    _check_duplicate_targets(path.name, table, targets)
    if not table.records:
        raise PulsecheckError("READ_018", file=path.name)
    response_ids = None
    if settings.get("response_id_from_row"):
        response_ids = [f"{path.stem}-{row}" for row in table.rows]
    elif not any(t.kind == ROLE and t.name == "response_id" for t in targets):
        raise PulsecheckError("READ_004", file=path.name, row=int(settings.get("name_row", 1)),
                              name=settings.get("roles", {}).get("response_id", "?"),
                              role="response id")
    built = assemble(table, targets, instrument, conventions_from(settings),
                     response_ids=response_ids, choice_versions=choice_versions or {})
    return Export(frame=built.frame, issues=issues_frame(extra + built.issues),
                  n_rows=len(table.records), none_selected=built.none_selected,
                  platform=str(settings["name"]), notes=issues_frame(issues))


def _ranges(numbers: tuple[int, ...], shown: int = 10) -> str:
    listed = ", ".join(str(n) for n in numbers[:shown])
    return listed + (f" and {len(numbers) - shown} more" if len(numbers) > shown else "")


def _check_duplicate_targets(file_name: str, table: Any, targets: list[Any]) -> None:
    """Refuse an export in which two columns hold the same answer or role.

    Which of the two to believe cannot be decided from the file (an Excel copy-paste that
    duplicated a column, or a re-export appended to the right), so the user must choose.
    """
    seen: dict[tuple[str, str, str], str] = {}
    for column, target in zip(table.columns, targets):
        if target.kind not in (ROLE, ANSWER, CHOICE, VERSION):
            continue
        key = (target.kind, target.name, target.choice)
        if key in seen:
            raise PulsecheckError("READ_005", file=file_name, row=table.header_row,
                                  column=column, name=column)
        seen[key] = column
