"""Pure stage functions of one wave: validate, flow, classify, derive, privacy."""
