"""Across waves: partnership histories and trend tests."""
