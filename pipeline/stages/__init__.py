"""Pure stage functions of one wave: validate, flow, classify, derive, privacy.

``results`` holds what analysing a wave produces (built by :mod:`pipeline.run`, read by
:mod:`pipeline.report`).
"""
