"""The one reader of TOML files: every configuration file pulsecheck reads comes through here.

Reading a TOML file can fail in three ways a user can fix, and each becomes a catalogue
message with exit code 2 instead of a traceback:

* the bytes are not UTF-8 or not TOML (``CONF_001``, with the line and column tomllib gives);
* the nesting is so deep that the parser runs out of stack (``CONF_001``; 5,000 nested
  brackets are a damaged or hostile file, never configuration);
* the parsed table breaks the file's schema (``CONF_003`` listing every problem; see
  :mod:`pipeline.model.schemas`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from pipeline.errors import PulsecheckError
from pipeline.model.schema_check import validate_config

Model = TypeVar("Model", bound=BaseModel)


def _display(path: Path, root: Path | None) -> str:
    """The path as the user should see it: relative to the project when inside it."""
    if root is not None:
        try:
            return Path(path).resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            pass
    return str(path)


def parse_toml(path: Path, *, root: Path | None = None) -> dict[str, Any]:
    """Parse a TOML file; raise ``CONF_001`` when it cannot be read as TOML.

    Parameters
    ----------
    path : Path
        The file (must exist; a missing file is the caller's message to give).
    root : Path, optional
        Folder the file is named relative to in messages (the project root).
    """
    shown = _display(path, root)
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise PulsecheckError("CONF_001", file=shown,
                              reason=f"not UTF-8 text (byte {error.start})") from None
    except IsADirectoryError:
        raise PulsecheckError("CONF_001", file=shown, reason="it is a folder") from None
    except OSError as error:
        raise PulsecheckError("CONF_001", file=shown,
                              reason=error.strerror or type(error).__name__) from None
    try:
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as error:
        raise PulsecheckError("CONF_001", file=shown, reason=str(error)) from None
    except RecursionError:
        raise PulsecheckError("CONF_001", file=shown,
                              reason="its tables or lists are nested too deeply to read"
                              ) from None


def read_toml(path: Path, schema: type[Model], *, root: Path | None = None,
              ) -> tuple[Model, dict[str, Any]]:
    """Read a TOML configuration file and check it against its schema.

    Returns
    -------
    tuple
        The validated model and the parsed table it was built from (the table keeps only
        what the file says, for consumers that apply their own documented defaults).

    Raises
    ------
    PulsecheckError
        ``CONF_001`` (not TOML) or :class:`pipeline.model.schema_check.ConfigError` (``CONF_003``).
    """
    data = parse_toml(path, root=root)
    try:
        model = validate_config(data, schema, _display(path, root))
    except RecursionError:
        raise PulsecheckError("CONF_001", file=_display(path, root),
                              reason="its tables or lists are nested too deeply to read"
                              ) from None
    return model, data
