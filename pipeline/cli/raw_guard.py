"""Raw data are only read: the checks every command that writes makes before it writes.

* :func:`refuse_raw_out` — no output folder inside a raw data folder (a wave folder, one with
  a ``SHA256SUMS``, or the project's ``raw/``) (RAW_003);
* :func:`refuse_overwrite` — no output file that is one of the command's inputs (RAW_002);
* :func:`recorded_changes` and :func:`set_aside` — a recorded export is replaced only on
  request (``--replace``), and the old export and ``SHA256SUMS`` are kept aside first.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from pathlib import Path

from pipeline.errors import PulsecheckError
from pipeline.ingest.readers import CHECKSUMS_FILE, read_checksums, sha256_file

#: Sub-folder of a wave folder where replaced exports and their SHA256SUMS are kept.
REPLACED_DIR = "replaced"


def raw_folder_of(path: Path) -> Path | None:
    """The raw data folder that holds ``path`` (or is it), or ``None``.

    A raw data folder is a wave folder (it has a ``wave.toml``), a folder with recorded
    checksums (``SHA256SUMS``), or the ``raw/`` folder beside a project's
    ``survey_instrument/``.
    """
    resolved = Path(path).resolve()
    for candidate in (resolved, *resolved.parents):
        if (candidate / "wave.toml").is_file() or (candidate / CHECKSUMS_FILE).is_file():
            return candidate
        if candidate.name == "raw" and (candidate.parent / "survey_instrument").is_dir():
            return candidate
    return None


def refuse_export_for_wave(path: Path) -> None:
    """Refuse a file that is not a wave description where a wave folder is expected.

    An export is the natural thing to pass by mistake; read as a wave description it would
    be reported as a TOML error. A folder, and ``wave.toml`` itself, pass.
    """
    if path.is_file() and path.suffix.lower() != ".toml":
        raise PulsecheckError(
            "CLI_003", option="WAVE_DIR", value=str(path),
            expected="a wave folder (the folder holding wave.toml) or a survey folder of "
                     "waves; an export file on its own is checked with `pulsecheck validate "
                     "FILE --instrument DIR`")


def refuse_raw_out(out: Path) -> None:
    """Refuse an output folder inside raw data (RAW_003)."""
    raw = raw_folder_of(out)
    if raw is not None:
        raise PulsecheckError("RAW_003", path=str(out), raw=str(raw))


def refuse_exports_out(out: Path, wave_dir: Path) -> None:
    """Refuse an output folder inside the ``exports_dir`` of a wave (or of the waves of a
    survey folder) that keeps its exports outside the project (RAW_003).

    Only the wave descriptions are read; a folder that is not a wave is left to the command.
    """
    from pipeline.ingest.readers import read_wave

    wave_dir = Path(wave_dir)
    folders = [wave_dir] if (wave_dir / "wave.toml").is_file() else \
        sorted(p.parent for p in wave_dir.glob("*/wave.toml")) if wave_dir.is_dir() else []
    resolved = Path(out).resolve()
    for folder in folders:
        exports = read_wave(folder).exports_dir
        if exports is None:
            continue
        base = Path(exports).resolve()
        if resolved == base or base in resolved.parents:
            raise PulsecheckError("RAW_003", path=str(out), raw=str(exports))


def refuse_overwrite(outputs: Iterable[Path], inputs: Iterable[Path | None]) -> None:
    """Refuse when an output file would be one of the inputs (RAW_002)."""
    sources = {Path(p).resolve(): Path(p) for p in inputs if p is not None}
    for output in outputs:
        source = sources.get(Path(output).resolve())
        if source is not None:
            raise PulsecheckError("RAW_002", path=str(output), input=str(source))


def recorded_changes(folder: Path, contents: dict[str, bytes]) -> list[str]:
    """Files of ``contents`` (name → new bytes) that would replace a different recorded file.

    A file counts as recorded when the folder's ``SHA256SUMS`` names it or it exists; writing
    the same bytes again changes nothing and is not counted.
    """
    folder = Path(folder)
    recorded = read_checksums(folder) if (folder / CHECKSUMS_FILE).is_file() else {}
    changed = []
    for name, data in contents.items():
        target = folder / name
        known = name in recorded or target.exists()
        if known and (not target.is_file() or target.read_bytes() != data):
            changed.append(name)
    return changed


def set_aside(folder: Path, names: Iterable[str]) -> Path:
    """Move ``names`` and the folder's ``SHA256SUMS`` into a new ``replaced/<n>/`` folder.

    Returns the folder they were moved to. Nothing is deleted; ``n`` is the first free number.
    """
    folder = Path(folder)
    base = folder / REPLACED_DIR
    base.mkdir(exist_ok=True)
    number = 1
    while (base / str(number)).exists():
        number += 1
    aside = base / str(number)
    aside.mkdir()
    for name in [*names, CHECKSUMS_FILE]:
        source = folder / name
        if source.is_file():
            target = aside / name
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
    return aside


def copy_checksums_aside(folder: Path) -> Path | None:
    """Keep a copy of the folder's ``SHA256SUMS`` in ``replaced/<n>/`` (for ``manifest``)."""
    folder = Path(folder)
    if not (folder / CHECKSUMS_FILE).is_file():
        return None
    aside = set_aside(folder, [])
    shutil.copy2(aside / CHECKSUMS_FILE, folder / CHECKSUMS_FILE)
    return aside


def digest_changes(folder: Path, names: Iterable[str], base: Path | None = None) -> list[str]:
    """Recorded files whose bytes no longer match ``SHA256SUMS`` (re-recording would hide it).

    ``names`` are relative to ``base`` (a wave's ``exports_dir``), by default to ``folder``.
    """
    recorded = read_checksums(folder)
    base = Path(base) if base is not None else Path(folder)
    return [name for name in names
            if name in recorded and (base / name).is_file()
            and sha256_file(base / name) != recorded[name]]
