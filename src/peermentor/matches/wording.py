"""The engine's explanations in the app's words. The engine speaks of its own columns and
sides ("capacity of side a exhausted", "similar years experience"); participants and managers
read the program's roles and plain names. Applied where the app stores or shows them."""

from __future__ import annotations

import re

_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"capacity of side a exhausted: every allowed (\w+) is full"),
        r"every \1 they could be matched with is full",
    ),
    (re.compile(r"capacity of side a exhausted: every (\w+) is full"), r"every \1 is full"),
    (re.compile(r"nobody is on side a \((\w+)\)"), r"nobody takes part as a \1"),
    (re.compile(r"scores at least min_score"), "scores at least the minimum score"),
    (
        re.compile(r"\b(similar|the same) years experience \(([^)]*)\)"),
        r"\1 time in the organisation (\2 years)",
    ),
    (re.compile(r"\byears experiences\b"), "times in the organisation"),
    (re.compile(r"\byears experience\b"), "time in the organisation"),
)


def plain_words(text: str) -> str:
    """`text` with the engine's terms replaced by the app's."""
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    return text
