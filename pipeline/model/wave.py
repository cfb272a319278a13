"""The wave description as frozen data: which instrument, platform and files, and the steps.

Read from ``wave.toml`` by :func:`pipeline.ingest.readers.read_wave`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath
from types import MappingProxyType
from typing import Any, Mapping

#: Rules an exclusion step may use (see :mod:`pipeline.stages.flow`).
STEP_RULES = ("metadata_in", "incomplete", "answer_in", "quarantine", "deduplicate")


@dataclass(frozen=True)
class Step:
    """One step of the raw → analysed flow, as declared in ``wave.toml``."""

    id: str
    rule: str
    reason: str
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class Wave:
    """A wave description: which instrument, platform and files, and the exclusion steps."""

    path: PurePath
    root: PurePath
    survey: str
    wave: str
    title: str
    synthetic: bool
    instrument_path: PurePath
    platform: str
    files: tuple[PurePath, ...]
    steps: tuple[Step, ...]
    config: Mapping[str, Any]
