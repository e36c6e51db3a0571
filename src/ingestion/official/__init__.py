"""Figures from the statistical agencies themselves (BLS, FRED/ALFRED, ECB).

Pure building blocks, no database and no network: per-agency parsers (bytes in,
typed observations out), the transformations from a series to the figure a calendar
prints, the series specification the indicator catalogue references
(``series.yaml``), and the HTTP request builders. docs/sources/{bls,fred,ecb}.md.
"""
