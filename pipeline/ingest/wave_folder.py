"""Load a wave folder: the one sequence that turns ``raw/<survey>/<wave>/`` into its inputs.

Every command that reads a wave — ``pulsecheck run`` on one wave or on a survey's waves, its
``verify`` rebuild, and the benchmarks — goes through :func:`load_wave`, so that each reads
the same files with the same settings: the wave description, its raw files checked against
``SHA256SUMS``, the instrument, the platform profile, the input limits (the project's, then
the wave's ``[limits]``), the version in which each choice was added, and the exports.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import pandas as pd

from pipeline.ingest.adapters.text import Limits
from pipeline.ingest.readers import (
    Export,
    Platform,
    read_choice_versions,
    read_corrections,
    read_export,
    read_instrument,
    read_limits,
    read_platform,
    read_wave,
    sha256_file,
    verify_checksums,
)
from pipeline.model.instrument import Instrument
from pipeline.model.wave import CORRECTIONS_FILE, Wave


@dataclass(frozen=True)
class LoadedWave:
    """A wave folder read and checked: everything the analysis needs, nothing computed.

    Attributes
    ----------
    wave : Wave
        The wave description (``wave.toml``).
    instrument : Instrument
        The instrument version the wave names.
    platform : Platform
        The wave's platform profile.
    limits : Limits
        The input limits the exports were read under.
    choice_versions : mapping
        ``(list_name, choice)`` → the instrument version that added the choice.
    exports : tuple of Export
        One canonical export per raw file, in the order of ``wave.toml``.
    input_sums : mapping
        Raw file name (relative to the wave folder) → sha256, as checked; the wave's
        ``corrections.csv`` too, when it has one.
    corrections : DataFrame or None
        The wave's ``corrections.csv`` (strings), applied by
        :func:`pipeline.stages.corrections.apply_corrections` after reading.
    """

    wave: Wave
    instrument: Instrument
    platform: Platform
    limits: Limits
    choice_versions: Mapping[tuple[str, str], str]
    exports: tuple[Export, ...]
    input_sums: Mapping[str, str]
    corrections: pd.DataFrame | None = None

    @property
    def n_rows(self) -> int:
        """Data rows read from every export."""
        return sum(export.n_rows for export in self.exports)


def load_wave(folder: Path, progress: Callable[[str], None] = lambda message: None,
              wave: Wave | None = None) -> LoadedWave:
    """Read a wave folder and everything it names, checking as it goes.

    Parameters
    ----------
    folder : Path
        A wave folder (holding ``wave.toml``) or the ``wave.toml`` itself.
    progress : callable, optional
        Called with a short message after each step.
    wave : Wave, optional
        The wave description already read from ``folder`` (it is not read again).

    Returns
    -------
    LoadedWave

    Raises
    ------
    PulsecheckError
        With the catalogue code of the first problem: a missing or malformed ``wave.toml``,
        a raw file whose checksum differs, an instrument with problems, an unknown platform,
        or an export that breaks the limits or cannot be read.
    """
    wave = wave if wave is not None else read_wave(Path(folder))
    progress(f"wave {wave.survey} {wave.wave}: {wave.title}")
    input_sums = verify_checksums(wave)
    progress(f"checked {len(input_sums)} raw file(s) against SHA256SUMS")
    instrument = read_instrument(wave.instrument_path)
    progress(f"instrument {instrument.id} {instrument.version}: "
             f"{len(instrument.questions)} questions")
    platform = read_platform(wave.platform, wave.root)
    limits = read_limits(wave.root, wave.config.get("limits"))
    versions = read_choice_versions(wave.instrument_path)
    progress(f"reading {len(wave.files)} export file(s)")
    exports = tuple(read_export(path, instrument, platform, choice_versions=versions,
                                root=wave.root, limits=limits) for path in wave.files)
    corrections = read_corrections(wave.path.parent)
    if corrections is not None:
        # Its hash goes into run.json with the exports', so that verify replays it.
        input_sums = {**input_sums,
                      CORRECTIONS_FILE: sha256_file(wave.path.parent / CORRECTIONS_FILE)}
        progress(f"{len(corrections)} correction(s) in {CORRECTIONS_FILE}")
    loaded = LoadedWave(wave=wave, instrument=instrument, platform=platform, limits=limits,
                        choice_versions=versions, exports=exports, input_sums=input_sums,
                        corrections=corrections)
    progress(f"read {loaded.n_rows} rows ({platform.title})")
    return loaded
