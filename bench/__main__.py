"""`python -m bench` (or `make bench`): run the benchmark sections and write bench/REPORT.md.

python -m bench                 # every section, full sizes
python -m bench --quick         # small sizes: checks the harness in a minute or two
python -m bench --only pairs    # some sections (repeat or comma-separate); the others'
                                # parts of REPORT.md are kept as they were
python -m bench --list          # what sections exist
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import sys
import tempfile
import time
import traceback
from importlib import metadata
from pathlib import Path

from bench.registry import Options, Section, discover

REPORT = Path(__file__).resolve().parent / "REPORT.md"
_MARK = re.compile(r"^<!-- section: (?P<name>[\w-]+) -->$", re.MULTILINE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, a fast check")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="SECTION",
        help="run only these sections (repeatable, or comma-separated)",
    )
    parser.add_argument("--list", action="store_true", help="list the sections and exit")
    parser.add_argument("--out", type=Path, default=REPORT, help=f"report file (default {REPORT})")
    args = parser.parse_args(argv)

    sections = discover()
    if args.list:
        for s in sections:
            print(f"{s.name:16} {s.title}")
        return 0
    wanted = {name.strip() for value in args.only for name in value.split(",") if name.strip()}
    unknown = wanted - {s.name for s in sections}
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))} (see --list)")
    chosen = [s for s in sections if not wanted or s.name in wanted]

    work_dir = Path(tempfile.mkdtemp(prefix="peermentor-bench-"))
    bodies: dict[str, str] = {}
    failed = False
    started = time.perf_counter()
    try:
        options = Options(quick=args.quick, work_dir=work_dir)
        for s in chosen:
            print(f"[bench] {s.name}: {s.title} ...", file=sys.stderr, flush=True)
            tick = time.perf_counter()
            try:
                body = s.run(options)
            except Exception:
                failed = True
                body = "Failed:\n\n```\n" + traceback.format_exc() + "```"
            took = time.perf_counter() - tick
            bodies[s.name] = _section_text(s, body, took, args.quick)
            print(f"[bench] {s.name} done in {took:.0f} s", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    _write(args.out, sections, bodies, time.perf_counter() - started, args.quick)
    print(f"[bench] wrote {args.out}", file=sys.stderr)
    return 1 if failed else 0


def _section_text(s: Section, body: str, seconds: float, quick: bool) -> str:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    run = "quick run" if quick else "full run"
    return (
        f"<!-- section: {s.name} -->\n## {s.title}\n\n"
        f"_{run}, {when}, {seconds:.0f} s_\n\n{body.strip()}\n"
    )


def _existing_sections(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    text = path.read_text(encoding="utf-8")
    marks = list(_MARK.finditer(text))
    result: dict[str, str] = {}
    for k, mark in enumerate(marks):
        end = marks[k + 1].start() if k + 1 < len(marks) else len(text)
        result[mark.group("name")] = text[mark.start() : end].rstrip() + "\n"
    return result


def _write(
    path: Path, sections: list[Section], bodies: dict[str, str], seconds: float, quick: bool
) -> None:
    kept = _existing_sections(path)
    kept.update(bodies)
    order = [s.name for s in sections] + sorted(set(kept) - {s.name for s in sections})
    parts = [_header(seconds, quick, sorted(bodies))]
    parts.extend(kept[name] for name in order if name in kept)
    path.write_text("\n".join(parts), encoding="utf-8")


def _header(seconds: float, quick: bool, ran: list[str]) -> str:
    versions = ", ".join(
        f"{package} {_version(package)}"
        for package in ("numpy", "scipy", "rustworkx", "networkx", "mentor-match")
    )
    return (
        "# Peermentor benchmarks\n\n"
        "Written by `make bench` (`python -m bench`); see bench/engine.py for what each row "
        "measures. Regenerate one section with `python -m bench --only NAME`.\n\n"
        f"- machine: {_cpu()}, {os.cpu_count()} cores, {_memory()}; "
        f"Python {platform.python_version()}; {versions}\n"
        f"- last run: {', '.join(ran) or 'nothing'} ({'quick' if quick else 'full'}, "
        f"{seconds:.0f} s)\n"
    )


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "missing"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB RAM"
    except OSError:
        pass
    return "unknown RAM"


if __name__ == "__main__":
    sys.exit(main())
