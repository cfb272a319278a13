"""Column names used across stages, defined once.

After ingest, data frames carry the instrument's question names plus these bookkeeping
columns; platform column names never travel further.
"""

#: The export file a row came from.
FILE_COLUMN = "_file"
#: The row number a spreadsheet shows for the row (header rows included).
ROW_COLUMN = "_row"
#: Platform roles that the pipeline understands, mapped from each platform's own columns.
ROLES = ("response_id", "submitted_at", "finished", "progress", "channel")
#: The phase group of an analysed partnership.
PHASE_COLUMN = "phase_group"
#: Separator between a select-multiple question and a choice in column names (``q/choice``).
MULTI_SEPARATOR = "/"
#: The phase answer of a partnership in the wave a synthetic sample links to (the column
#: :func:`pipeline.run.waves.read_linked_partnerships` adds and the sample generator reads).
LINKED_PHASE_COLUMN = "_linked_phase"
