"""Benchmarks of the pulsecheck pipeline: scaled synthetic waves, stage timings, baselines."""
