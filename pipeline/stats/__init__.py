"""Statistics: survey designs, intervals and tests, tables and disclosure control."""
