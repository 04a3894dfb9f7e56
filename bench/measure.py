"""Run one measurement in a fresh Python process: wall time and peak memory of that process.

Peak memory is the child's maximum resident set size as the kernel reports it to `wait4` for that
one child (so it includes the interpreter, numpy and everything the run touched, and nothing of
the parent). The child prints its figures as JSON on the last line of its standard output.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Measured:
    wall_seconds: float
    peak_mib: float
    figures: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def run_worker(arguments: list[str], *, timeout: float = 1800.0) -> Measured:
    """`python -m bench.worker <arguments>` in a child process, measured."""
    return run_command([sys.executable, "-m", "bench.worker", *arguments], timeout=timeout)


def run_command(command: list[str], *, timeout: float = 1800.0) -> Measured:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=ROOT, env=env)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                os.kill(process.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(process.pid, 0)
                break
            time.sleep(0.02)
        wall = time.perf_counter() - started
        # wait4 reaped the child; tell Popen so that it does not try again.
        process.returncode = os.waitstatus_to_exitcode(status)
        peak_mib = usage.ru_maxrss / 1024.0  # Linux reports KiB
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if time.perf_counter() > deadline:
        return Measured(wall, peak_mib, error=f"timed out after {timeout:.0f} s")
    if process.returncode != 0:
        last = stderr.strip().splitlines()[-1] if stderr.strip() else f"exit {process.returncode}"
        return Measured(wall, peak_mib, error=last)
    lines = stdout.strip().splitlines()
    try:
        figures = json.loads(lines[-1]) if lines else {}
    except json.JSONDecodeError:
        return Measured(wall, peak_mib, error=f"no figures in the output: {lines[-1][:200]}")
    return Measured(wall, peak_mib, figures=figures)
