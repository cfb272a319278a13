"""Verify: prove that a run folder can be rebuilt byte for byte from what it records.

``pulsecheck verify RUN_DIR`` re-hashes every input that ``run.json`` names (raw exports and
instrument files), runs the wave again into a temporary folder with the recorded settings, and
compares every output file byte for byte. It reads the run folder and the inputs; it writes
only in a temporary folder that it removes.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from pipeline.errors import PulsecheckError
from pipeline.ingest.readers import find_root, read_wave, sha256_file
from pipeline.paths import contained
from pipeline.resources import data_root, project_root
from pipeline.run.analyse import RUN_MANIFEST, run_wave


@dataclass(frozen=True)
class Verification:
    """The outcome of a verification.

    Attributes
    ----------
    inputs_checked : int
        Raw and instrument files whose sha256 matched ``run.json``.
    identical : tuple of str
        Output files rebuilt byte for byte.
    different : tuple of str
        Output files whose bytes differ on rebuild.
    missing : tuple of str
        Files recorded in ``run.json`` that the rebuild did not produce, or that are absent
        from the run folder.
    extra : tuple of str
        Files the rebuild produced that ``run.json`` does not record.
    unrecorded : tuple of str
        Files in the run folder that the run did not write (``run.json`` does not record
        them): a copy of raw data or a page planted beside the outputs fails verification.
    """

    inputs_checked: int
    identical: tuple[str, ...]
    different: tuple[str, ...]
    missing: tuple[str, ...]
    extra: tuple[str, ...]
    unrecorded: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not (self.different or self.missing or self.extra or self.unrecorded)


def _files(folder: Path) -> dict[str, Path]:
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*"))
            if p.is_file()}


def _project_of(run_dir: Path) -> Path:
    root = find_root(run_dir)
    return root if (root / "survey_instrument").is_dir() else project_root()


def verify_run(run_dir: Path, progress: Callable[[str], None] = lambda message: None
               ) -> Verification:
    """Check a run folder's inputs and rebuild it; see the module docstring."""
    run_dir = Path(run_dir)
    manifest_path = run_dir / RUN_MANIFEST
    if not manifest_path.exists():
        raise PulsecheckError("VERIFY_001", file=str(run_dir), name=RUN_MANIFEST)
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        wave_file = manifest["wave_description"]["path"]
        recorded = manifest["outputs"]
        instrument = manifest.get("instrument", {})
        # Every recorded input as (path, sha256), checked for shape before any is used.
        inputs = [(str(entry["path"]), str(entry["sha256"]))
                  for entry in manifest.get("inputs", []) if not entry.get("exports_dir")]
        # Exports kept outside the project (wave.toml's exports_dir), by their name there.
        outside = [(str(entry["path"]), str(entry["sha256"]))
                   for entry in manifest.get("inputs", []) if entry.get("exports_dir")]
        inputs += [(f"{instrument['path']}/{name}", str(digest))
                   for name, digest in instrument.get("files", {}).items()]
        settings = manifest.get("settings", {})
        if not isinstance(wave_file, str) or not isinstance(recorded, dict) or \
                not isinstance(settings, dict):
            raise TypeError("wave_description.path, outputs or settings has the wrong type")
    except UnicodeDecodeError as error:
        raise PulsecheckError("VERIFY_002", file=str(manifest_path),
                              reason=f"it is not UTF-8 text (byte {error.start})") from error
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
        raise PulsecheckError("VERIFY_002", file=str(manifest_path),
                              reason=f"{type(error).__name__}: {error}") from error
    root = _project_of(run_dir)
    where = str(manifest_path)
    # Every path in run.json is the project's: one that leads outside it is refused (PATH_001).
    wave_path = contained(root, wave_file, what="wave description", file=where)
    checked = 0
    for path, digest in inputs:
        _check_hash(contained(root, path, what="input", file=where), digest)
        checked += 1
    if outside:
        exports = read_wave(wave_path.parent).exports_dir
        if exports is None:
            raise PulsecheckError("VERIFY_003", path=outside[0][0])
        for path, digest in outside:
            _check_hash(contained(Path(exports), path, what="export file", file=where), digest)
            checked += 1
    for name, digest in manifest.get("configuration", {}).items():
        # Files pulsecheck ships (report wording, platform profiles) live beside its code.
        base = root if (root / name).exists() else data_root()
        _check_hash(contained(base, name, what="configuration file", file=where), digest)
        checked += 1
    progress(f"{checked} input file(s) match run.json")

    scratch = Path(tempfile.mkdtemp(prefix=".verify-"))
    try:
        rebuilt = scratch / "run"
        run_wave(wave_path.parent, rebuilt,
                 keep_personal=bool(settings.get("keep_personal", False)),
                 phase_basis=settings.get("phase_basis"),
                 partner_reports=bool(settings.get("partner_reports", False)),
                 pdf=bool(settings.get("pdf", True)),
                 notebook=bool(settings.get("notebook", True)),
                 progress=lambda message: progress(f"rebuilding: {message}"))
        progress("rebuilt the run in a temporary folder")
        original, again = _files(run_dir), _files(rebuilt)
        identical, different, missing = [], [], []
        for name in sorted(set(recorded) | {RUN_MANIFEST}):
            if name not in original or name not in again:
                missing.append(name)
            elif original[name].read_bytes() == again[name].read_bytes():
                identical.append(name)
            else:
                different.append(name)
        extra = sorted(set(again) - set(recorded) - {RUN_MANIFEST})
        unrecorded = sorted(set(original) - set(recorded) - {RUN_MANIFEST})
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Verification(inputs_checked=checked, identical=tuple(identical),
                        different=tuple(different), missing=tuple(missing),
                        extra=tuple(extra), unrecorded=tuple(unrecorded))


def _check_hash(path: Path, expected: str) -> None:
    if not path.exists():
        raise PulsecheckError("VERIFY_003", path=path.name)
    actual = sha256_file(path)
    if actual != expected:
        raise PulsecheckError("VERIFY_004", path=path.name, actual=actual[:12] + "…",
                              expected=expected[:12] + "…")
