"""App benchmark: the program dashboard and the program report at organisation scale.

A 100,000-person organisation (bench/orgs.py) with a 20,000-participant pairs program: 8,500
connections (active, completed and closed early), about 25,000 meetings, 34,000 plan items,
15,000 check-ins, 5,000 reflections, a match run that left 3,000 people out, and an earlier
program that already paired 4,000 of the same people (so "new ties" has history to check).

Each page is requested through Django's test client as the program's manager (middleware,
selectors, templates, SVG charts: everything but the network), once cold and then five times;
the table shows the median and the fastest of the warm requests and the queries each page ran. Aim
(issue 7): the dashboard and the report each under 1 s on PostgreSQL. The PDF of the report is
timed too (WeasyPrint layout, which does not depend on the program's size).

Each database is set up in a child process, as in bench/app_matching.py: a temporary SQLite file,
or a throwaway PostgreSQL database (`bench_insights`) on the server of DATABASE_URL (default
postgres://postgres@127.0.0.1:5432/postgres), dropped afterwards.

    python -m bench.app_insights [--people 100000] [--participants 20000]
                                 [--databases sqlite,postgres]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.databases import postgres, server_url, with_database

NAME = "app_insights"
DESCRIPTION = "Program dashboard and report: 100,000 people, 20,000 participants"
BENCH_DATABASE = "bench_insights"
AIM_SECONDS = 1.0
QUICK_ARGS = {"people": 2_000, "participants": 600}
PAGES = [
    ("dashboard", "insights_program"),
    ("report", "insights_report"),
    ("outcomes", "insights_outcomes"),
    ("ties", "insights_ties"),
    ("organisation", "insights_organisation"),
    ("funnel CSV", "insights_export"),
]


# --- the parent: one child process per database -------------------------------------------
def _child(database_url: str, people: int, participants: int) -> dict[str, Any]:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "false",
        "SECRET_KEY": "bench-" + "x" * 60,
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "DJANGO_SETTINGS_MODULE": "peermentor.settings",
        "LOG_LEVEL": "WARNING",
    }
    environment.pop("PEERMENTOR_TESTING", None)
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.app_insights",
            "--child",
            "--people",
            str(people),
            "--participants",
            str(participants),
        ],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    if completed.returncode != 0:
        return {"error": (completed.stderr or completed.stdout).strip().splitlines()[-20:]}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run(
    *,
    people: int = 100_000,
    participants: int = 20_000,
    databases: tuple[str, ...] = ("sqlite", "postgres"),
) -> dict[str, Any]:
    """Figures per database: seconds and queries per page, and what the data held."""
    results: dict[str, Any] = {}
    for database in databases:
        if database == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                results["sqlite"] = _child(
                    f"sqlite:///{folder}/bench.sqlite3", people, participants
                )
        elif database == "postgres":
            try:
                postgres(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
                postgres(f"CREATE DATABASE {BENCH_DATABASE}")
            except Exception as error:  # the server is optional on a developer machine
                results["postgres"] = {"error": f"PostgreSQL not reachable: {error}"}
                continue
            try:
                results["postgres"] = _child(
                    with_database(server_url(), BENCH_DATABASE), people, participants
                )
            finally:
                postgres(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
    return results


def report(results: dict[str, Any]) -> str:
    """Markdown for bench/REPORT.md."""
    lines = [f"### {DESCRIPTION}", ""]
    for database, figures in results.items():
        if "error" in figures:
            lines.append(f"- {database}: error: {figures['error']}")
            continue
        size = figures["size"]
        lines.append(
            f"**{database}**: {size['people']:,} people, {size['participants']:,} participants, "
            f"{size['connections']:,} connections, {size['meetings']:,} meetings, "
            f"{size['plan_items']:,} plan items (set up in {figures['setup_seconds']:.0f} s)."
        )
        lines.append("")
        lines.append("| page | warm median (s) | best warm (s) | cold (s) | queries | aim |")
        lines.append("|---|---|---|---|---|---|")
        for page, timing in figures["pages"].items():
            aim = f"< {AIM_SECONDS:.0f} s" if page in ("dashboard", "report") else ""
            lines.append(
                f"| {page} | {timing['warm']:.3f} | {timing['best']:.3f} | {timing['cold']:.3f} "
                f"| {timing['queries']} | {aim} |"
            )
        lines.append("")
    return "\n".join(lines)


# --- the child: set up Django on one database and measure -----------------------------------
def _setup_django() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


class _StampsAsGiven:
    """Let bulk_create keep the timestamps we give (auto_now_add would overwrite them)."""

    def __init__(self, *fields: Any) -> None:
        self.fields = fields

    def __enter__(self) -> None:
        for field in self.fields:
            field.auto_now_add = False

    def __exit__(self, *exc: object) -> None:
        for field in self.fields:
            field.auto_now_add = True


def _build(people: int, participants: int) -> dict[str, Any]:
    import numpy as np
    from django.utils import timezone

    from bench.orgs import generate
    from peermentor.accounts.models import User
    from peermentor.connections.models import Connection, ConnectionMember, Reflection
    from peermentor.engagement.models import CheckIn, Meeting, Plan, PlanItem
    from peermentor.enrollment.models import Invitation, Participant
    from peermentor.matches.models import MatchRun, UnmatchedEntry
    from peermentor.people.models import Department, Person, Site
    from peermentor.programs.defaults import metrics_for
    from peermentor.programs.models import Program, ProgramManager, Track

    rng = np.random.default_rng(11)
    now = timezone.now()
    rows = generate(people, seed=7).rows
    departments = {
        name: Department.objects.create(name=name)
        for name in sorted({r["department"] for r in rows})
    }
    sites = {name: Site.objects.create(name=name) for name in sorted({r["site"] for r in rows})}
    hired_days = rng.integers(30, 12 * 365, size=len(rows))
    leaves = rng.random(len(rows)) < 0.08
    persons = Person.objects.bulk_create(
        [
            Person(
                external_id=row["id"],
                full_name=row["name"],
                email=f"{row['id'].lower()}@bench.example",
                department=departments[row["department"]],
                site=sites[row["site"]],
                level=f"L{row['level']}",
                hire_date=(now - dt.timedelta(days=int(hired_days[index]))).date(),
                leaving_date=(now - dt.timedelta(days=int(rng.integers(1, 29)))).date()
                if leaves[index]
                else None,
                is_active=not leaves[index],
            )
            for index, row in enumerate(rows)
        ],
        batch_size=5000,
    )
    admin = User.objects.create_user(
        email="bench-admin@bench.example", password="x", full_name="Bench", is_org_admin=True
    )
    program = Program.objects.create(
        name="Bench networking",
        goals=["networking", "skill_learning"],
        format="pairs",
        status="running",
        starts_on=(now - dt.timedelta(days=200)).date(),
        success_metrics=metrics_for(
            ["match_rate", "time_to_match_days", "meetings_per_connection", "cross_team_ties"]
        ),
    )
    ProgramManager.objects.create(program=program, user=admin)
    tracks = [Track.objects.create(program=program, name=f"Cohort {n}") for n in (1, 2, 3)]
    chosen = rng.choice(len(persons), size=participants, replace=False)
    enrolled_days = rng.integers(60, 200, size=participants)
    ready = rng.random(participants) < 0.95
    enrolled_at_field = Participant._meta.get_field("enrolled_at")
    with _StampsAsGiven(enrolled_at_field):
        members = Participant.objects.bulk_create(
            [
                Participant(
                    program=program,
                    track=tracks[position % 3],
                    person=persons[int(index)],
                    role="peer",
                    status="enrolled",
                    is_profile_complete=bool(ready[position]),
                    is_training_complete=bool(ready[position]),
                    ready_at=now - dt.timedelta(days=int(enrolled_days[position]) - 1)
                    if ready[position]
                    else None,
                    enrolled_at=now - dt.timedelta(days=int(enrolled_days[position])),
                )
                for position, index in enumerate(chosen)
            ],
            batch_size=5000,
        )
    Invitation.objects.bulk_create(
        [
            Invitation(program=program, person=persons[int(index)], track=tracks[n % 3])
            for n, index in enumerate(chosen[: int(participants * 0.9)])
        ],
        batch_size=5000,
    )
    # Pairs among the ready participants: 85 % of them matched.
    ready_members = [m for m, is_ready in zip(members, ready, strict=True) if is_ready]
    pair_count = int(len(ready_members) * 0.85) // 2
    statuses = rng.choice(
        ["active", "completed", "closed_early"], size=pair_count, p=[0.6, 0.3, 0.1]
    )
    created_at = Connection._meta.get_field("created_at")
    connections = []
    for n in range(pair_count):
        first, second = ready_members[2 * n], ready_members[2 * n + 1]
        started = max(first.enrolled_at, second.enrolled_at) + dt.timedelta(
            days=int(rng.integers(1, 30))
        )
        status = str(statuses[n])
        ended = (
            started + dt.timedelta(days=int(rng.integers(20, 50))) if status != "active" else None
        )
        connections.append(
            Connection(
                program=program,
                track=first.track,
                kind="pair",
                source="match_run",
                status=status,
                started_at=started,
                created_at=started,
                ended_at=min(ended, now) if ended else None,
                end_reason={"completed": "goals_met", "closed_early": "no_time"}.get(status, ""),
            )
        )
    with _StampsAsGiven(created_at):
        connections = Connection.objects.bulk_create(connections, batch_size=5000)
    ConnectionMember.objects.bulk_create(
        [
            ConnectionMember(
                connection=connection,
                participant=member,
                role="peer",
                is_current=connection.status == "active",
            )
            for n, connection in enumerate(connections)
            for member in (ready_members[2 * n], ready_members[2 * n + 1])
        ],
        batch_size=5000,
    )
    meetings = []
    for connection in connections:
        for k in range(int(rng.integers(0, 6))):
            starts = connection.started_at + dt.timedelta(days=7 + 14 * k)
            held = starts < now
            meetings.append(
                Meeting(
                    connection=connection,
                    title="Catch-up",
                    time_zone="UTC",
                    status="held" if held else "scheduled",
                    starts_at=starts,
                    scheduled_at=starts - dt.timedelta(days=3),
                    outcome_logged_at=starts if held else None,
                )
            )
    Meeting.objects.bulk_create(meetings, batch_size=5000)
    plans = Plan.objects.bulk_create([Plan(connection=c) for c in connections], batch_size=5000)
    PlanItem.objects.bulk_create(
        [
            PlanItem(
                plan=plan,
                kind=kind,
                title=kind,
                due_on=(connection.started_at + dt.timedelta(days=30 * (k + 1))).date(),
                is_done=done,
                done_at=now if done else None,
            )
            for plan, connection in zip(plans, connections, strict=True)
            for k, kind in enumerate(("goal", "milestone", "task", "milestone"))
            for done in [bool(rng.random() < 0.55)]
        ],
        batch_size=5000,
    )
    check_in_created = CheckIn._meta.get_field("created_at")
    with _StampsAsGiven(check_in_created):
        CheckIn.objects.bulk_create(
            [
                CheckIn(
                    connection=connection,
                    participant=ready_members[2 * n + side],
                    period=0,
                    rating=int(rng.integers(1, 6)),
                    created_at=connection.started_at + dt.timedelta(days=10),
                )
                for n, connection in enumerate(connections)
                for side in (0, 1)
                if rng.random() < 0.9
            ],
            batch_size=5000,
        )
    Reflection.objects.bulk_create(
        [
            Reflection(
                connection=connection,
                participant=ready_members[2 * n],
                went_well="We met every other week and kept to our plan.",
                learned="How another team plans its quarter.",
                rating=int(rng.integers(3, 6)),
                may_quote=n % 4 == 0,
            )
            for n, connection in enumerate(connections)
            if connection.status != "active"
        ],
        batch_size=5000,
    )
    run = MatchRun.objects.create(program=program, status="succeeded", progress=1.0)
    left_out = ready_members[2 * pair_count :][:3000]
    UnmatchedEntry.objects.bulk_create(
        [
            UnmatchedEntry(run=run, participant=member, reason=reason)
            for member, reason in zip(
                left_out,
                rng.choice(
                    [
                        "no allowed partner under the program's rules",
                        "every allowed partner was placed with someone else",
                        "not chosen: a better overall set of pairs left them out",
                    ],
                    size=len(left_out),
                ),
                strict=True,
            )
        ],
        batch_size=5000,
    )
    # An earlier program that already paired some of the same people.
    earlier = Program.objects.create(name="Earlier cohort", format="pairs", status="closed")
    earlier_members = Participant.objects.bulk_create(
        [
            Participant(program=earlier, person=member.person, role="peer", status="enrolled")
            for member in ready_members[: min(4000, 2 * pair_count)]
        ],
        batch_size=5000,
    )
    with _StampsAsGiven(created_at):
        earlier_connections = Connection.objects.bulk_create(
            [
                Connection(
                    program=earlier,
                    kind="pair",
                    source="match_run",
                    status="completed",
                    started_at=now - dt.timedelta(days=400),
                    created_at=now - dt.timedelta(days=400),
                    ended_at=now - dt.timedelta(days=300),
                    end_reason="goals_met",
                )
                for _ in range(len(earlier_members) // 2)
            ],
            batch_size=5000,
        )
    ConnectionMember.objects.bulk_create(
        [
            ConnectionMember(
                connection=connection,
                participant=earlier_members[2 * n + side],
                role="peer",
                is_current=False,
            )
            for n, connection in enumerate(earlier_connections)
            for side in (0, 1)
        ],
        batch_size=5000,
    )
    return {
        "program": program,
        "admin": admin,
        "size": {
            "people": len(persons),
            "participants": len(members),
            "connections": len(connections),
            "meetings": len(meetings),
            "plan_items": 4 * len(plans),
        },
    }


def _measure(people: int, participants: int) -> dict[str, Any]:
    _setup_django()
    from django.db import connection

    started = time.perf_counter()
    built = _build(people, participants)
    setup_seconds = time.perf_counter() - started
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    pages = time_pages(built["program"], built["admin"])
    return {"setup_seconds": round(setup_seconds, 1), "size": built["size"], "pages": pages}


def time_pages(program: Any, viewer: Any) -> dict[str, Any]:
    """Cold and warm-median seconds and the queries of every insights page for `program`."""
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    # Pages link the stylesheets by name: no collectstatic manifest is needed to time them.
    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    override_settings(STORAGES={"default": plain, "staticfiles": plain}).enable()
    client = Client()
    client.force_login(viewer)
    pages: dict[str, Any] = {}
    for label, name in [*PAGES, ("report PDF", "insights_report_pdf")]:
        if name == "insights_organisation":
            url = reverse(name)
        elif name == "insights_export":
            url = reverse(name, args=[program.pk, "funnel", "csv"])
        else:
            url = reverse(name, args=[program.pk])
        timings = []
        queries = 0
        for _ in range(3 if label == "report PDF" else 6):
            with CaptureQueriesContext(connection) as captured:
                tick = time.perf_counter()
                response = client.get(url, secure=True)
                timings.append(time.perf_counter() - tick)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
            queries = len(captured)
        pages[label] = {
            "cold": round(timings[0], 3),
            "warm": round(statistics.median(timings[1:]), 3),
            # On a shared machine the fastest warm run is the best estimate of the page's own
            # cost; the median shows what a user would have seen at the time.
            "best": round(min(timings[1:]), 3),
            "queries": queries,
        }
    return pages


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--participants", type=int, default=20_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_measure(args.people, args.participants)))
        return
    results = run(
        people=args.people,
        participants=args.participants,
        databases=tuple(args.databases.split(",")),
    )
    print(report(results))


if __name__ == "__main__":
    main()
