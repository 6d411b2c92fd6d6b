"""The promotion rule, apart from the registry: which checks pass, and whether a model with
figures nobody could compute may be promoted (never, not even when forced)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Verdict:
    passed: bool
    promoted: bool
    forced: bool
    undefined: list[str]  # figures that are NaN or infinite


def undefined_figures(figures: Mapping[str, Any]) -> list[str]:
    """Figures that could not be computed: an AUC without defaults, a ratio without
    approvals. Missing evidence, not a failed threshold."""
    return sorted(
        k
        for k, v in figures.items()
        if isinstance(v, float | int) and not isinstance(v, bool) and not math.isfinite(v)
    )


def verdict(checks: Mapping[str, bool], figures: Mapping[str, Any], force: bool) -> Verdict:
    """Passed when every check passes and every figure is defined; a forced promotion
    overrides failed thresholds, never undefined figures."""
    undefined = undefined_figures(figures)
    passed = all(checks.values()) and not undefined
    promoted = passed or (force and not undefined)
    return Verdict(passed, promoted, promoted and not passed, undefined)
