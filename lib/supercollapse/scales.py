"""The three scales a chapter runs at. A scale only chooses configs; it never changes what a config means."""
from __future__ import annotations

SCALES = ("smoke", "cpu", "gpu")


def check_scale(scale: str) -> str:
    """`scale` itself, or ValueError naming the valid scales."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}; valid: {', '.join(SCALES)}")
    return scale
