"""The instrument, its expressions, wave settings and report specifications as frozen data."""
