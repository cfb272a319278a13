"""The synthetic sample generator: a tool that writes waves, not a stage of a run.

``profile`` (the calibration, read from TOML), ``answers`` (seeded draws and the generation
kinds), ``generate`` (the whole export, pure) and ``export`` (writing it with its checksum).
"""
