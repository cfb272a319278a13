"""Orchestration: one wave end to end, several waves, and verification of a run folder."""
