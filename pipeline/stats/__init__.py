"""Statistics: survey designs, intervals and tests, tables and disclosure control.

``design`` (designs and linearisation variances), ``methods`` (method names, result types),
``intervals``, ``contingency`` (tests of association and trend), ``fisher``, ``comparisons``
(adjusted p-values, pairwise column tests), ``quantiles``, ``tabulate`` (report-ready tables)
and ``disclosure`` (small-cell protection).
"""
