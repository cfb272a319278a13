"""Paths taken from data or configuration, kept inside the folder they belong to (pure).

A wave description, an instrument manifest, a run folder's ``run.json`` and ``report.json``
and the answers themselves (partnership ids) all name files. None of them may lead a command
outside its folder — ``../../etc/passwd``, an absolute path, or a link that points out:

* :func:`contained` resolves a path against its root folder and refuses (``PATH_001``, exit 2)
  one that ends up outside it;
* :func:`plain_name` refuses a name that is meant to be one folder or file name but holds a
  separator or ``..`` (``PATH_001``);
* :func:`file_names` turns ids from data into safe file names (:func:`safe_slug`) and refuses
  two ids that would share one (``PATH_002``).

Resolving follows symbolic links, so a link inside the folder that points outside is refused
too; no file is opened.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path, PurePath

from pipeline.errors import PulsecheckError

#: Characters kept in a file name made from data; every other run of characters becomes ``_``.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: Longest file name made from data (most file systems allow 255 bytes; room for suffixes).
MAX_SLUG_CHARS = 100


def contained(root: Path | str, relative: Path | str, *, what: str,
              file: str | None = None) -> Path:
    """``root / relative``, refused unless it resolves to a place inside ``root``.

    Parameters
    ----------
    root : path
        The folder the path must stay in (project, wave, instrument or run folder).
    relative : path
        The path as written in the data or configuration.
    what : str
        What the path names, for the message (``"platform profile"``, ``"table"``, …).
    file : str, optional
        The file the path was read from, for the message's location.

    Returns
    -------
    Path
        ``root / relative`` (not resolved, so messages keep the names the user wrote).

    Raises
    ------
    PulsecheckError
        ``PATH_001`` when the resolved path is outside the resolved ``root``.
    """
    text = str(relative)
    if "\x00" in text:
        raise PulsecheckError("PATH_001", file=file, what=what, path=text.replace("\x00", "\\0"),
                              root=str(root))
    target = Path(root) / relative
    try:
        target.resolve().relative_to(Path(root).resolve())
    except ValueError:
        raise PulsecheckError("PATH_001", file=file, what=what, path=text, root=str(root)) from None
    return target


def plain_name(name: str, *, what: str, file: str | None = None) -> str:
    """``name`` when it is a single, ordinary file or folder name; ``PATH_001`` otherwise."""
    text = str(name)
    if not text or text in (".", "..") or PurePath(text).name != text or "\\" in text \
            or "\x00" in text or text.startswith("."):
        raise PulsecheckError("PATH_001", file=file, what=what,
                              path=text.replace("\x00", "\\0"),
                              root="its folder (a plain name, without '/', '\\' or '..', "
                                   "is expected)")
    return text


def safe_slug(text: str) -> str:
    """A file name made from ``text``: letters, digits, ``.``, ``_`` and ``-`` only.

    Runs of other characters become ``_``; leading dots are dropped (no hidden files, no
    ``..``); the result is at most :data:`MAX_SLUG_CHARS` long and never empty.
    """
    slug = _UNSAFE.sub("_", str(text)).lstrip(".")[:MAX_SLUG_CHARS]
    return slug or "_"


def file_names(ids: Iterable[str], *, what: str) -> dict[str, str]:
    """Id → safe file name (:func:`safe_slug`) for ids from data, with a collision check.

    Names are compared without regard to case, as on case-insensitive file systems.

    Raises
    ------
    PulsecheckError
        ``PATH_002`` when two different ids would be written under one name.
    """
    names: dict[str, str] = {}
    seen: dict[str, str] = {}
    for given in ids:
        identifier = str(given)
        if identifier in names:
            continue
        slug = safe_slug(identifier)
        other = seen.get(slug.lower())
        if other is not None:
            raise PulsecheckError("PATH_002", what=what, first=other, second=identifier,
                                  name=slug)
        seen[slug.lower()] = identifier
        names[identifier] = slug
    return names
