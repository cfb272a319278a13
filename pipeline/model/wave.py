"""The wave description as frozen data: which instrument, platform and files, and the steps.

Read from ``wave.toml`` by :func:`pipeline.ingest.readers.read_wave`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePath
from types import MappingProxyType
from typing import Any, Mapping

from pipeline.errors import make_issue

#: A wave folder's corrections of answers (see :mod:`pipeline.stages.corrections`).
CORRECTIONS_FILE = "corrections.csv"
#: The columns of ``corrections.csv``, in order.
CORRECTION_COLUMNS = ("respondent", "question", "old_value", "new_value", "reason", "who")
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
    #: The folder of the exports when ``wave.toml`` names one outside the project
    #: (``exports_dir``); ``None`` when they are in the wave folder's project.
    exports_dir: PurePath | None = None
    #: The optional ``[calibration]`` settings (a ``CalibrationSettings``) and the margins
    #: file they name, resolved inside the wave folder; None when the wave is unweighted.
    calibration: Any = None
    margins_path: PurePath | None = None

    @property
    def exports_base(self) -> PurePath:
        """The folder ``files`` are relative to: ``exports_dir``, else the wave folder."""
        return self.exports_dir if self.exports_dir is not None else PurePath(self.path).parent

    def export_name(self, path: PurePath) -> str:
        """An export's name as ``wave.toml`` and ``SHA256SUMS`` give it (relative, posix)."""
        return PurePath(path).relative_to(self.exports_base).as_posix()


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
