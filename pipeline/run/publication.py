"""Publication: a run folder appears at its place complete, or not at all (the edge).

A run is written into a staging folder beside its destination; only when the staging folder
is complete is it switched into place. Where the operating system can exchange two folders
atomically (Linux ``renameat2(RENAME_EXCHANGE)``), the switch is one step: a reader of the
destination always finds a complete run — the earlier one or the new one — whenever the
process is killed. Elsewhere the earlier run is renamed aside, then the new one into place;
a kill between those two renames is repaired by the next publication, which puts the
earlier run back before anything else.

Staging and retired folders are named ``.<name>.tmp-<pid>-<token>`` and
``.<name>.old-<pid>-<token>``; those whose process has ended (killed, power cut) are removed
by the next publication to the same place.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import os
import re
import secrets
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from pipeline.errors import PulsecheckError

#: Marker file that says a folder was written by pulsecheck (so it may be replaced).
RUN_MANIFEST = "run.json"
#: Staging folders of another naming (no process id) are stale after this many seconds.
STALE_SECONDS = 24 * 60 * 60
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
#: Files named in a RUN_004 message before "and N more".
_SHOWN_FILES = 10
_SIDE = re.compile(r"\.(?P<name>.+)\.(?P<kind>tmp|old)-(?:(?P<pid>\d+)-)?[^/]*")


def check_writable_path(path: Path) -> None:
    """Refuse an output path that cannot become a folder, before any work is done.

    ``path`` must be a folder or not exist, and its nearest existing ancestor a folder.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise PulsecheckError("CLI_002", path=str(path), reason="it is a file, not a folder")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise PulsecheckError("CLI_002", path=str(path),
                                      reason=f"'{parent}' is a file, not a folder")
            break


def check_out(out: Path) -> None:
    """Refuse a run folder destination that publication would refuse, before any work.

    Raises CLI_002 when ``out`` (or an ancestor) is a file, RUN_001 when it is a folder with
    content that pulsecheck did not write, and RUN_004 when it is an earlier run folder that
    also holds files its run did not write (:func:`unrecorded_files`): replacing it would
    delete them.
    """
    out = Path(out)
    check_writable_path(out)
    if out.is_dir() and any(out.iterdir()) and not (out / RUN_MANIFEST).exists():
        raise PulsecheckError("RUN_001", path=str(out))
    if out.is_dir():
        foreign = unrecorded_files(out)
        if foreign:
            shown = ", ".join(foreign[:_SHOWN_FILES]) + \
                (f" and {len(foreign) - _SHOWN_FILES} more" if len(foreign) > _SHOWN_FILES
                 else "")
            raise PulsecheckError("RUN_004", path=str(out), n=len(foreign), files=shown)


def recorded_outputs(folder: Path) -> set[str] | None:
    """The files a run folder's ``run.json`` says its run wrote (``outputs``), with ``run.json``.

    ``None`` when ``run.json`` is absent, unreadable or records no file list: then nothing is
    known about the folder's files beyond that pulsecheck made it. Files that pulsecheck writes
    into a run folder later (``pulsecheck report``) are added to the list when they are
    written.
    """
    try:
        manifest = json.loads((Path(folder) / RUN_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    outputs = manifest.get("outputs") if isinstance(manifest, dict) else None
    if not isinstance(outputs, dict):
        return None
    return {str(name) for name in outputs} | {RUN_MANIFEST}


def unrecorded_files(folder: Path) -> list[str]:
    """Files in a run folder that its run did not write (relative, sorted).

    Compared with the file list of its ``run.json`` (:func:`recorded_outputs`); a folder whose
    ``run.json`` lists no files has none that can be told apart.
    """
    recorded = recorded_outputs(folder)
    if recorded is None:
        return []
    folder = Path(folder)
    return sorted(name for name in (path.relative_to(folder).as_posix()
                                    for path in folder.rglob("*")
                                    if path.is_file() or path.is_symlink())
                  if name not in recorded)


def publish(out: Path, write: Callable[[Path], None]) -> None:
    """Write a run folder and switch it into place without a moment with no run folder.

    ``write`` fills a fresh staging folder on the same file system; only when it returns is
    the folder switched to ``out`` (an earlier run there is replaced, anything else refused).
    A failure of the file system while writing (disk full, permissions) stops with RUN_002:
    the staging folder and any parent folder made for it are removed, and an earlier run at
    ``out`` is left as it was.
    """
    out = Path(out)
    check_out(out)
    made = _missing_parents(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        clean_stale(out)
        check_out(out)
        staging = _side_path(out, "tmp")
        staging.mkdir(mode=0o700)
    except OSError as error:
        _remove_empty(made)
        raise PulsecheckError("CLI_002", path=str(out),
                              reason=error.strerror or str(error)) from error
    try:
        write(staging)
        os.chmod(staging, 0o755)
        _switch(staging, out)
    except OSError as error:
        raise PulsecheckError("RUN_002", path=str(out),
                              reason=error.strerror or str(error)) from error
    finally:
        if staging.exists():
            _remove(staging)
        if not out.exists():
            _remove_empty(made)


def clean_stale(out: Path) -> list[Path]:
    """Repair and remove what killed publications to ``out`` left beside it.

    When ``out`` is missing and an earlier run was renamed aside (a kill between the two
    renames of the fallback switch), that run is put back first. Staging and retired folders
    whose process has ended are then removed; those of a live process (a concurrent run) are
    left alone. Returns the folders removed.
    """
    out = Path(out)
    sides = []
    for path in sorted(out.parent.glob(f".{out.name}.*")):
        found = _SIDE.fullmatch(path.name)
        if found and found["name"] == out.name and path.is_dir() and not _in_use(path, found):
            sides.append((found["kind"], path))
    if not out.exists():
        retired = [path for kind, path in sides
                   if kind == "old" and (path / RUN_MANIFEST).exists()]
        if retired:
            latest = max(retired, key=lambda path: path.stat().st_mtime)
            _rename(latest, out)
            sides = [(kind, path) for kind, path in sides if path != latest]
    for _, path in sides:
        _remove(path)
    return [path for _, path in sides]


# --------------------------------------------------------------------------------------------
# File-system steps (module functions, so that a test can interrupt each of them)
# --------------------------------------------------------------------------------------------

def _switch(staging: Path, out: Path) -> None:
    """Put the complete ``staging`` folder at ``out``."""
    if not out.exists():
        _rename(staging, out)
        return
    if _exchange(staging, out):
        # ``staging`` now holds the earlier run.
        _remove(staging)
        return
    retired = _side_path(out, "old")
    _rename(out, retired)
    _rename(staging, out)
    _remove(retired)


def _exchange(first: Path, second: Path) -> bool:
    """Swap two folders in one atomic step; ``False`` where the system cannot."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]
    renameat2.restype = ctypes.c_int
    if renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second),
                 _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV):
        return False  # this file system has no atomic exchange
    raise OSError(code, os.strerror(code), str(second))


def _rename(source: Path, target: Path) -> None:
    os.replace(source, target)


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _side_path(out: Path, kind: str) -> Path:
    return out.parent / f".{out.name}.{kind}-{os.getpid()}-{secrets.token_hex(4)}"


def _in_use(path: Path, found: re.Match) -> bool:
    """Whether the process that made a staging or retired folder is still running."""
    if found["pid"] is None:
        return time.time() - path.stat().st_mtime < STALE_SECONDS
    pid = int(found["pid"])
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _missing_parents(out: Path) -> list[Path]:
    """The ancestors of ``out`` that do not exist yet, deepest first."""
    missing = []
    for parent in out.parents:
        if parent.exists():
            break
        missing.append(parent)
    return missing


def _remove_empty(folders: list[Path]) -> None:
    """Remove folders made for a publication that did not happen, if still empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return
