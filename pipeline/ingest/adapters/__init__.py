"""Adapters: every survey platform's export, read into one canonical frame.

See ``pipeline/ingest/adapters/README.md`` for the canonical form and each platform's conventions.
:func:`pipeline.ingest.readers.read_export` is the entry point; it detects the platform, reads the
file (:mod:`.text`, :mod:`.spss`), classifies its columns (:mod:`.generic`,
:mod:`.surveymonkey`, :mod:`.mapping`) and assembles the frame (:mod:`.assemble`).
"""

from __future__ import annotations

from pipeline.ingest.adapters import generic, surveymonkey

#: Column classifiers by the ``adapter`` key of a platform profile.
CLASSIFIERS = {
    "columns": generic.read_columns,
    "surveymonkey": surveymonkey.read_columns,
}

#: Platform families accepted by ``--platform``, besides ``auto``.
SOURCES = ("qualtrics", "surveymonkey", "redcap", "kobo", "odk", "googleforms", "msforms",
           "spss", "csv")
