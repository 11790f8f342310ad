"""How the side-by-side benchmarks summarise their interleaved rounds."""

import statistics


def spread(values, digits: int = 0) -> str:
    """`median (min-max)` of `values`, with `digits` decimals: the cell every round-based table prints."""
    return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}-{max(values):.{digits}f})"
