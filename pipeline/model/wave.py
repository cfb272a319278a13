"""The wave description as frozen data: which instrument, platform and files, and the steps.

Read from ``wave.toml`` by :func:`pipeline.ingest.readers.read_wave`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath
from types import MappingProxyType
from typing import Any, Mapping

from pipeline.errors import make_issue

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
    #: The optional ``[calibration]`` settings (a ``CalibrationSettings``) and the margins
    #: file they name, resolved inside the wave folder; None when the wave is unweighted.
    calibration: Any = None
    margins_path: PurePath | None = None


#: Steps every wave is expected to have, with what is analysed without them (CONF_006).
EXPECTED_STEPS = (
    ("incomplete", ("partial responses and screen-outs the platform marks unfinished are "
                    "analysed")),
    ("deduplicate", "a partnership that answered twice is analysed twice"),
)


def missing_step_warnings(wave: Wave) -> list[dict]:
    """A warning (``CONF_006``) for each expected exclusion step the wave does not declare.

    A minimal ``wave.toml`` is valid, but it analyses every row it does not exclude; the
    warning names what is missing so that this is a choice, not an accident.
    """
    declared = {step.rule for step in wave.steps}
    return [make_issue("CONF_006", file=PurePath(wave.path).name, rule=rule,
                       consequence=consequence)
            for rule, consequence in EXPECTED_STEPS if rule not in declared]
