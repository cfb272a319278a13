"""Sample profiles: the calibration of a synthetic sample, read from TOML beside the instrument.

Which question uses which generation kind, and every calibration number, live in the profile
(see :mod:`pipeline.synthetic.generate`), so the code holds no question name, label, code or
published figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

from pipeline.errors import PulsecheckError
from pipeline.ingest.config import parse_toml

#: The profile's default file name inside an instrument folder.
PROFILE_FILE = "sample_profile.toml"
#: Key of the fall-back entry in tables keyed by phase group or by answer.
DEFAULT_KEY = "default"
#: ``by`` value that keys a categorical table by phase group.
BY_PHASE = "phase"
_REQUIRED_SECTIONS = ("seed", "platform", "file", "phase", "screener", "partial", "previews",
                      "duplicates", "timing", "people", "metadata", "questions")


@dataclass(frozen=True)
class SampleProfile:
    """A sample profile as read from TOML (see ``sample_profile.toml``).

    Attributes
    ----------
    seed : int
        Root seed of every random draw.
    platform : str
        Name of the platform profile whose export layout is written.
    file : str
        File name of the export inside the output folder.
    sections : mapping
        The profile's remaining tables (``phase``, ``screener``, ``partial``, ``previews``,
        ``duplicates``, ``timing``, ``people``, ``metadata``), as read.
    questions : tuple of mapping
        The ``[[questions]]`` entries, in generation order.
    injections : tuple of mapping
        The ``[[injections]]`` entries: bad cells planted among the analysed rows.
    path : str
        Where the profile was read from (for messages).
    """

    seed: int
    platform: str
    file: str
    sections: Mapping[str, Any]
    questions: tuple[Mapping[str, Any], ...]
    injections: tuple[Mapping[str, Any], ...] = ()
    path: str = ""

    def section(self, name: str) -> Mapping[str, Any]:
        """One of the profile's tables (empty when absent)."""
        return self.sections.get(name, MappingProxyType({}))


def parse_profile(data: Mapping[str, Any], path: str = "") -> SampleProfile:
    """Build a :class:`SampleProfile` from parsed TOML (pure).

    Raises
    ------
    PulsecheckError
        ``SAMPLE_002`` when a required table or field is missing.
    """
    missing = [key for key in _REQUIRED_SECTIONS if key not in data]
    if missing:
        raise PulsecheckError("SAMPLE_002", file=path,
                              problem=f"missing {', '.join(missing)}")
    if not isinstance(data["file"], str) or Path(data["file"]).name != data["file"]:
        raise PulsecheckError("SAMPLE_002", file=path,
                              problem="'file' must be a plain file name")
    sections = {key: value for key, value in data.items()
                if key not in ("seed", "platform", "file", "questions", "injections")}
    return SampleProfile(
        seed=int(data["seed"]),
        platform=str(data["platform"]),
        file=str(data["file"]),
        sections=MappingProxyType(sections),
        questions=tuple(MappingProxyType(dict(entry)) for entry in data["questions"]),
        injections=tuple(MappingProxyType(dict(entry)) for entry in data.get("injections", [])),
        path=path,
    )


def read_profile(path: Path) -> SampleProfile:
    """Read a sample profile file.

    Raises
    ------
    PulsecheckError
        ``SAMPLE_001`` when the file is missing, ``CONF_001`` when it is not valid TOML,
        ``SAMPLE_002`` when it lacks a required table.
    """
    path = Path(path)
    if not path.is_file():
        raise PulsecheckError("SAMPLE_001", path=str(path))
    return parse_profile(parse_toml(path), str(path))
