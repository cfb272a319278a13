"""pulsecheck: a reproducible pipeline for the Pulse Check survey of multi-sector partnerships.

The package is organised by stage, so that the file list reads like the data flow:
``ingest`` → ``validate`` → ``classify`` → ``tabulate``/``stats`` → ``render``, with ``run``
orchestrating them and ``cli`` as the command-line edge.
"""

__version__ = "0.1.0"
