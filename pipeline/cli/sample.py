"""The ``pulsecheck sample`` command: write the synthetic sample export of an instrument."""

from __future__ import annotations

from pathlib import Path

import click

from pipeline.cli.raw_guard import REPLACED_DIR, recorded_changes, set_aside
from pipeline.errors import PulsecheckError
from pipeline.ingest.readers import CHECKSUMS_FILE, read_instrument, read_platform
from pipeline.paths import contained
from pipeline.synthetic.export import render_csv, write_sample
from pipeline.synthetic.generate import generate_sample
from pipeline.synthetic.profile import PROFILE_FILE, read_profile


@click.command("sample")
@click.argument("instrument_dir", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Raw folder to write the export into (its SHA256SUMS is updated).")
@click.option("--profile", "profile_path", type=click.Path(path_type=Path), default=None,
              help=f"Sample profile (default: INSTRUMENT_DIR/{PROFILE_FILE}).")
@click.option("--replace", is_flag=True, default=False,
              help="Replace an export already recorded in OUT/SHA256SUMS; the old export and "
                   "SHA256SUMS are moved to OUT/replaced/<n>/ first.")
def sample(instrument_dir: Path, out_dir: Path, profile_path: Path | None,
           replace: bool) -> None:
    """Generate the seeded synthetic sample export of an instrument.

    The same instrument and profile always give the same bytes. Every partnership, person
    and address in the output is invented. A recorded export (raw data) is never replaced
    unless --replace is given; writing the same bytes again changes nothing.

    \b
    Examples:
      pulsecheck sample survey_instrument/pulse_check/2016 --out raw/pulse_check/2016
      pulsecheck sample survey_instrument/pulse_check/2016 --out /tmp/trial \\
          --profile my_profile.toml
    """
    instrument = read_instrument(instrument_dir)
    profile_file = Path(profile_path or Path(instrument_dir) / PROFILE_FILE)
    profile = read_profile(profile_file)
    platform = read_platform(profile.platform)
    linked = None
    settings = profile.section("linked_wave")
    if settings:
        # Another wave's partnerships recur in this sample: read them (path relative to the
        # profile) so that identifiers, names and carried answers can be reused.
        from pipeline.run.waves import read_linked_partnerships

        linked = read_linked_partnerships(profile_file.parent / settings["wave"],
                                          settings["name"], list(settings.get("carry", ())))
    export = generate_sample(instrument, platform, profile, linked)
    contained(out_dir, profile.file, what="sample file", file=str(profile_file))
    changed = recorded_changes(out_dir, {profile.file: render_csv(export, platform.encoding)})
    if changed and not replace:
        raise PulsecheckError("RAW_001", path=str(Path(out_dir) / changed[0]),
                              manifest=CHECKSUMS_FILE, aside=f"{REPLACED_DIR}/<n>/")
    if changed:
        aside = set_aside(out_dir, changed)
        click.echo(f"moved the recorded {', '.join(changed)} and {CHECKSUMS_FILE} to {aside}")
    target = write_sample(export, out_dir, profile.file, platform.encoding)
    kinds = {kind: export.kinds.count(kind) for kind in dict.fromkeys(export.kinds)}
    summary = ", ".join(f"{n} {kind}" for kind, n in kinds.items())
    click.echo(f"wrote {target} ({len(export.records)} submissions: {summary})")
