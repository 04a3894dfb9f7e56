"""The `peermentor` command line: matching and recommendations from CSV and TOML files.

    peermentor match PEOPLE.csv --policy POLICY.toml --out MATCHES.csv [--report REPORT.json]
                     [--seed N]
    peermentor recommend PEOPLE.csv --policy POLICY.toml --for ID [--top 10]

Exit 0 on success, 2 on bad input with one line on stderr naming the file, line and field; on
bad input nothing is written. This module never imports Django.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from typing import TextIO

# The engine runs its whole-population passes on all cores itself; BLAS threads on top of that
# would only compete for the same cores. Must be set before numpy is first imported.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

EXIT_OK = 0
EXIT_BAD_INPUT = 2

DESCRIPTION = """\
Peermentor's matching engine on files.

  match      group the people of PEOPLE.csv as POLICY.toml says (pairs, bipartite or circles)
             and write MATCHES.csv, plus REPORT.json with the total, a certified upper bound
             on the best possible total, and why each person left out was left out.
  recommend  print the best allowed partners of one person as CSV, best first.

Scores, rules and file formats are described in docs/matching.md.
"""

MATCH_EPILOG = """\
PEOPLE.csv: UTF-8 with a header row; `id` is required and unique. Other columns are attributes
the policy refers to; multi-valued cells separate values with ';'. Reserved columns: role,
capacity (bipartite), manager_id, avoid.

POLICY.toml: format (pairs | bipartite | circles), objective (quality | participation),
min_score, [[criterion]] tables (same, different, overlap, complement, near) and [[constraint]]
tables (must_differ, must_match, max_gap, not_in_reporting_line).

MATCHES.csv columns: group_id,participant_id,role,score,reasons.
REPORT.json: total_score, upper_bound, gap, placed, unmatched [{id, reason}], seconds, stats.

The same files and seed always give the same output. Exit status: 0 done, 2 bad input (one
line on stderr naming the file, line and field; nothing written).
"""

RECOMMEND_EPILOG = """\
Prints participant_id,score,reasons to stdout, best first (ties by id), allowed partners only.
For a bipartite policy the partners are people of the other side, scored with the side-a
person as side a. With no allowed partner only the header is printed and the reason goes to
stderr (exit 0).
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="peermentor",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    match = commands.add_parser(
        "match",
        help="group people and write MATCHES.csv (and REPORT.json)",
        description="Group people as the policy says and write the result.",
        epilog=MATCH_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    match.add_argument("people", metavar="PEOPLE.csv", help="the people file")
    match.add_argument("--policy", required=True, metavar="POLICY.toml", help="the policy file")
    match.add_argument("--out", required=True, metavar="MATCHES.csv", help="where to write groups")
    match.add_argument(
        "--report", metavar="REPORT.json", help="where to write totals, bound and reasons"
    )
    match.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default 0)")

    recommend = commands.add_parser(
        "recommend",
        help="print the best allowed partners of one person",
        description="Print the best allowed partners of one person as CSV.",
        epilog=RECOMMEND_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    recommend.add_argument("people", metavar="PEOPLE.csv", help="the people file")
    recommend.add_argument("--policy", required=True, metavar="POLICY.toml", help="the policy file")
    recommend.add_argument("--for", dest="person", required=True, metavar="ID", help="person id")
    recommend.add_argument(
        "--top", type=int, default=10, metavar="K", help="how many partners (default 10)"
    )
    return parser


class _ProgressBar:
    """A one-line progress bar on stderr; silent unless stderr is a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.started = time.monotonic()
        self.shown = ""

    def __call__(self, stage: str, fraction: float) -> None:
        if not self.enabled:
            return
        fraction = min(1.0, max(0.0, fraction))
        filled = int(fraction * 30)
        line = (
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {fraction * 100:3.0f}% "
            f"{stage[:40]:<40} {time.monotonic() - self.started:6.1f}s"
        )
        if line != self.shown:
            self.stream.write(line)
            self.stream.flush()
            self.shown = line

    def close(self) -> None:
        if self.enabled and self.shown:
            self.stream.write("\n")
            self.stream.flush()


def _run_match(arguments: argparse.Namespace) -> int:
    from peermentor.matching import api

    api.check_writable(arguments.out)
    if arguments.report:
        api.check_writable(arguments.report)
    people = api.load_people_csv(arguments.people)
    policy = api.load_policy_toml(arguments.policy, people=people)
    progress = _ProgressBar(sys.stderr)
    try:
        result = api.match(people, policy, seed=arguments.seed, progress=progress)
    finally:
        progress.close()
    from pathlib import Path

    files = {Path(arguments.out): api.matches_csv_text(result)}
    if arguments.report:
        files[Path(arguments.report)] = api.report_json_text(result, policy=policy)
    api.write_files(files)
    return EXIT_OK


def _run_recommend(arguments: argparse.Namespace) -> int:
    from peermentor.matching import api

    if arguments.top < 0:
        raise _usage_error("--top must be 0 or more")
    people = api.load_people_csv(arguments.people)
    policy = api.load_policy_toml(arguments.policy, people=people)
    recommendations = api.recommend(people, policy, arguments.person, top=arguments.top)
    sys.stdout.write(api.recommendations_csv_text(recommendations))
    sys.stdout.flush()
    if not recommendations.items and recommendations.reason_if_empty:
        sys.stderr.write(f"{arguments.person}: {recommendations.reason_if_empty}\n")
    return EXIT_OK


class _UsageError(Exception):
    pass


def _usage_error(message: str) -> _UsageError:
    return _UsageError(message)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    arguments = _parser().parse_args(argv)
    from peermentor.matching.model import InputError

    try:
        if arguments.command == "match":
            return _run_match(arguments)
        return _run_recommend(arguments)
    except InputError as error:
        sys.stderr.write(f"peermentor: error: {error}\n")
        return EXIT_BAD_INPUT
    except _UsageError as error:
        sys.stderr.write(f"peermentor: error: {error}\n")
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        sys.stderr.write("peermentor: interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
