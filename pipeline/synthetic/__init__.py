"""The synthetic sample generator: a tool that writes waves, not a stage of a run."""
