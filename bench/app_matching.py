"""App benchmark: a match run for a 10,000-participant program end to end, then publishing.

Measures, on SQLite and on PostgreSQL (issue 5 aims: run < 60 s, publish < 30 s):
- `run`: MatchRun created → profiles read from the database (adapter) → engine → every proposal
  stored, exactly what the worker's task does;
- `publish`: the run's 5,000 proposals become active connections in one transaction (e-mail
  tasks enqueued, not sent).

Each database is set up in a child process (Django reads DATABASE_URL once at start-up): a
temporary SQLite file, or a throwaway PostgreSQL database (`bench_peermentor`) created on the
server of DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) and dropped after.

    python -m bench.app_matching [--people 10000] [--databases sqlite,postgres]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.databases import postgres, server_url, with_database

NAME = "app_matching"
DESCRIPTION = "Match run for a 10,000-participant program end to end, and publishing 5,000"
BENCH_DATABASE = "bench_peermentor"
RUN_AIM_SECONDS = 60.0
PUBLISH_AIM_SECONDS = 30.0

SITE_ZONES = {
    "London": "Europe/London",
    "New York": "America/New_York",
    "Berlin": "Europe/Berlin",
    "Bangalore": "Asia/Kolkata",
    "San Francisco": "America/Los_Angeles",
    "Singapore": "Asia/Singapore",
    "Sao Paulo": "America/Sao_Paulo",
    "Sydney": "Australia/Sydney",
    "Remote": "Europe/Athens",
}


# --- the parent: one child process per database -------------------------------------------
def _child(database_url: str, people: int) -> dict[str, Any]:
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
        [sys.executable, "-m", "bench.app_matching", "--child", "--people", str(people)],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[1],
    )
    if completed.returncode != 0:
        lines = (completed.stderr or completed.stdout).strip().splitlines()
        return {"error": lines[-1] if lines else f"exit status {completed.returncode}"}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def run(*, people: int = 10_000, databases: tuple[str, ...] = ("sqlite", "postgres")) -> dict:
    """Figures per database: seconds for the run and for publishing, and what they produced."""
    results: dict[str, Any] = {}
    for database in databases:
        if database == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                results["sqlite"] = _child(f"sqlite:///{folder}/bench.sqlite3", people)
        elif database == "postgres":
            try:
                postgres(f"DROP DATABASE IF EXISTS {BENCH_DATABASE}")
                postgres(f"CREATE DATABASE {BENCH_DATABASE}")
            except Exception as error:  # the server is optional on a developer machine
                results["postgres"] = {"error": f"PostgreSQL not reachable: {error}"}
                continue
            try:
                results["postgres"] = _child(with_database(server_url(), BENCH_DATABASE), people)
            finally:
                postgres(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
    return results


def report(results: dict[str, Any]) -> str:
    """Markdown lines for bench/REPORT.md."""
    lines = [
        f"### {DESCRIPTION}",
        "",
        "| database | people | run (s) | engine (s) | proposals | gap | publish (s) "
        "| connections |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for database, figures in results.items():
        if "error" in figures:
            lines.append(f"| {database} | error: {figures['error']} |||||||")
            continue
        gap = figures["gap"]
        lines.append(
            f"| {database} | {figures['people']} | {figures['run_seconds']:.1f} "
            f"(aim < {RUN_AIM_SECONDS:.0f}) | {figures['engine_seconds']:.1f} | "
            f"{figures['proposals']} | {'—' if gap is None else f'{gap:.3%}'} | "
            f"{figures['publish_seconds']:.1f} (aim < {PUBLISH_AIM_SECONDS:.0f}) | "
            f"{figures['connections']} |"
        )
    return "\n".join(lines)


# --- the child: set up Django on one database and measure -----------------------------------
def _setup_django() -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def _build_program(people: int) -> tuple[Any, Any]:
    """A pairs program of `people` ready participants with skills and interests answers,
    from a realistic synthetic organisation (bench/orgs.py)."""
    from django.utils import timezone

    from bench.orgs import generate
    from peermentor.accounts.models import User
    from peermentor.enrollment.models import Answer, Participant
    from peermentor.people.models import Department, Person, Site
    from peermentor.programs.defaults import default_policy
    from peermentor.programs.models import ProfileQuestion, Program, ProgramManager

    organisation = generate(people, seed=7)
    rows = organisation.rows
    departments = {
        name: Department.objects.create(name=name)
        for name in sorted({r["department"] for r in rows})
    }
    sites = {
        name: Site.objects.create(name=name, time_zone=SITE_ZONES.get(name, "UTC"))
        for name in sorted({r["site"] for r in rows})
    }
    today = dt.date(2026, 6, 1)
    index_of = {row["id"]: index for index, row in enumerate(rows)}

    def depth(index: int) -> int:
        steps, seen = 0, {index}
        manager = index_of.get(rows[index]["manager_id"])
        while manager is not None and manager not in seen:
            seen.add(manager)
            steps += 1
            manager = index_of.get(rows[manager]["manager_id"])
        return steps

    # Managers first, one level of the tree at a time, so every row is written once.
    by_depth: dict[int, list[int]] = {}
    for index in range(len(rows)):
        by_depth.setdefault(depth(index), []).append(index)
    created: dict[int, Person] = {}
    for level in sorted(by_depth):
        batch = [
            Person(
                external_id=rows[index]["id"],
                full_name=rows[index]["name"],
                email=f"{rows[index]['id'].lower()}@bench.example",
                department=departments[rows[index]["department"]],
                site=sites[rows[index]["site"]],
                level=f"L{rows[index]['level']}",
                time_zone=SITE_ZONES.get(rows[index]["site"], "UTC"),
                hire_date=today
                - dt.timedelta(days=int(float(rows[index]["years_experience"]) * 365)),
                languages=["English"] + (["French"] if index % 5 == 0 else []),
                manager=created.get(index_of.get(rows[index]["manager_id"], -1)),
            )
            for index in by_depth[level]
        ]
        for index, person in zip(
            by_depth[level], Person.objects.bulk_create(batch, batch_size=2000), strict=True
        ):
            created[index] = person
    persons = [created[index] for index in range(len(rows))]

    admin = User.objects.create_user(
        email="bench-admin@bench.example", password="x", full_name="Bench", is_org_admin=True
    )
    program = Program.objects.create(
        name="Bench skills exchange",
        goals=["skill_learning", "networking"],
        format="pairs",
        status="matching",
    )
    ProgramManager.objects.create(program=program, user=admin)
    questions = {
        key: ProfileQuestion.objects.create(program=program, key=key, label=key, kind=kind)
        for key, kind in (
            ("skills_offered", "skills_offered"),
            ("skills_wanted", "skills_wanted"),
            ("interests", "multiple_choice"),
        )
    }
    program.matching_policy = default_policy(program.goals, "pairs")
    program.save(update_fields=["matching_policy"])
    now = timezone.now()
    participants = Participant.objects.bulk_create(
        [
            Participant(
                program=program,
                person=person,
                role="peer",
                status="enrolled",
                is_profile_complete=True,
                is_training_complete=True,
                ready_at=now,
            )
            for person in persons
        ],
        batch_size=2000,
    )
    Answer.objects.bulk_create(
        [
            Answer(participant=participant, question=question, value=row[key].split(";"))
            for participant, row in zip(participants, rows, strict=True)
            for key, question in questions.items()
        ],
        batch_size=2000,
    )
    return program, admin


def _measure(people: int) -> dict[str, Any]:
    _setup_django()
    from django.db import transaction

    from peermentor.connections.models import Connection
    from peermentor.flows import publish
    from peermentor.matches import services
    from peermentor.matches.models import MatchRun

    started = time.perf_counter()
    program, admin = _build_program(people)
    setup_seconds = time.perf_counter() - started

    started = time.perf_counter()
    with transaction.atomic():
        run = services.match_run_start(actor=admin, program=program)
    # What the worker does with the task (the db_worker's own polling is not part of the run).
    status = services.match_run_execute(run_id=run.pk)
    run_seconds = time.perf_counter() - started
    run = MatchRun.objects.get(pk=run.pk)
    if status != "succeeded":
        raise SystemExit(f"the run {status}: {run.error_message}")

    started = time.perf_counter()
    count = publish.match_run_publish(actor=admin, run=run)
    publish_seconds = time.perf_counter() - started
    return {
        "people": people,
        "setup_seconds": round(setup_seconds, 2),
        "run_seconds": round(run_seconds, 2),
        "engine_seconds": round(run.engine_seconds or 0.0, 2),
        "proposals": run.proposal_count,
        "unmatched": run.unmatched_count,
        "gap": run.gap,
        "publish_seconds": round(publish_seconds, 2),
        "connections": count,
        "active_connections": Connection.objects.filter(status="active").count(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_measure(args.people)))
        return
    results = run(people=args.people, databases=tuple(args.databases.split(",")))
    print(report(results))


if __name__ == "__main__":
    main()
