"""The benchmark sections `python -m bench` knows, and how a new one joins.

A section is a function that takes the run's `Options` and returns the Markdown body of its part
of bench/REPORT.md (usually one table plus a few lines of notes). Register it in any module of
this package with the decorator:

    from bench.registry import Options, section

    @section("dashboards", "Dashboards at 20,000 connections", order=80)
    def dashboards(options: Options) -> str:
        ...
        return table(["page", "queries", "ms"], rows)

Modules named `bench/app_*.py` are imported automatically. An app module may instead expose
`NAME`, `DESCRIPTION`, `run(**kwargs) -> results` and `report(results) -> str`; it is then
adapted as a section (a quick run passes `people=QUICK_PEOPLE` when `run` accepts it, or the
module's own `QUICK_ARGS` dict).
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

QUICK_PEOPLE = 1_000


@dataclass(frozen=True)
class Options:
    """What every section receives."""

    quick: bool  # a small, fast run that checks the harness rather than the targets
    work_dir: Path  # scratch space for generated files, removed after the run


@dataclass(frozen=True)
class Section:
    name: str  # what --only selects
    title: str  # the heading in REPORT.md
    run: Callable[[Options], str]  # returns the section's Markdown body
    order: int = 50  # sections appear in this order, then by name


_SECTIONS: dict[str, Section] = {}


def section(
    name: str, title: str, *, order: int = 50
) -> Callable[[Callable[[Options], str]], Callable[[Options], str]]:
    """Register a section function under `name` (unique)."""

    def register(function: Callable[[Options], str]) -> Callable[[Options], str]:
        if name in _SECTIONS and _SECTIONS[name].run is not function:
            raise ValueError(f"two benchmark sections are named {name!r}")
        _SECTIONS[name] = Section(name=name, title=title, run=function, order=order)
        return function

    return register


def discover() -> list[Section]:
    """Every registered section, engine sections first; imports bench.engine and bench/app_*."""
    importlib.import_module("bench.engine")
    folder = Path(__file__).resolve().parent
    for info in pkgutil.iter_modules([str(folder)]):
        if info.name.startswith("app_"):
            module = importlib.import_module(f"bench.{info.name}")
            before = set(_SECTIONS)
            if not any(s.run.__module__ == module.__name__ for s in _SECTIONS.values()):
                _adapt(module)
            del before
    return sorted(_SECTIONS.values(), key=lambda s: (s.order, s.name))


def _adapt(module: ModuleType) -> None:
    """Register a module exposing NAME, DESCRIPTION, run() and report() as a section."""
    name = getattr(module, "NAME", None)
    run = getattr(module, "run", None)
    report = getattr(module, "report", None)
    if not (isinstance(name, str) and callable(run) and callable(report)):
        return
    title = str(getattr(module, "DESCRIPTION", name))

    def adapted(options: Options) -> str:
        kwargs: dict[str, Any] = {}
        if options.quick:
            quick_args = getattr(module, "QUICK_ARGS", None)
            if isinstance(quick_args, dict):
                kwargs.update(quick_args)
            elif "people" in inspect.signature(run).parameters:
                kwargs["people"] = QUICK_PEOPLE
        body = str(report(run(**kwargs)))
        lines = body.splitlines()
        # The module's own heading would repeat the section title.
        if lines and lines[0].startswith("#"):
            lines = lines[1:]
        return "\n".join(lines).strip()

    adapted.__module__ = module.__name__
    _SECTIONS[name] = Section(name=name, title=title, run=adapted, order=80)


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; numbers are shown as given (format them before)."""
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines.extend("| " + " | ".join(str(cell) for cell in row) + " |" for row in rows)
    return "\n".join(lines)
