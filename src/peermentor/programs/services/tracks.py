"""Tracks: cohorts or regions inside a program, each with its own eligibility and matching."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError
from peermentor.core.services import audit_record
from peermentor.programs.models import (
    Program,
    Track,
)
from peermentor.programs.permissions import (
    can_manage_program,
)
from peermentor.programs.services._common import _require, validate_eligibility


# --- tracks ---------------------------------------------------------------------------------
def _check_track_name(program: Program, name: str, *, exclude_pk: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise ApplicationError("Give the track a name.", field="name")
    taken = Track.objects.filter(program=program, name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ApplicationError("This program already has a track with that name.", field="name")
    return name


@transaction.atomic
def track_create(
    *,
    actor: User,
    program: Program,
    name: str,
    description: str = "",
    eligibility: Mapping[str, Any] | None = None,
) -> Track:
    """After the call the program has a track `name` (unique in the program)."""
    _require(can_manage_program(actor, program))
    track = Track(
        program=program,
        name=_check_track_name(program, name),
        description=description,
        eligibility=validate_eligibility(eligibility),
    )
    track.full_clean()
    track.save()
    audit_record(
        actor=actor,
        action="track.created",
        target=track,
        program_id=program.pk,
        data={"name": track.name},
    )
    return track


@transaction.atomic
def track_update(
    *,
    actor: User,
    track: Track,
    name: str,
    description: str = "",
    eligibility: Mapping[str, Any] | None = None,
) -> Track:
    """After the call the track has the given name, description and eligibility rules."""
    _require(can_manage_program(actor, track.program))
    track.name = _check_track_name(track.program, name, exclude_pk=track.pk)
    track.description = description
    track.eligibility = validate_eligibility(eligibility)
    track.full_clean()
    track.save()
    audit_record(
        actor=actor,
        action="track.updated",
        target=track,
        program_id=track.program_id,
        data={"name": track.name},
    )
    return track


@transaction.atomic
def track_delete(*, actor: User, track: Track) -> int:
    """After the call the track is gone and its participants are in the program without a
    track. Returns how many participants were moved."""
    _require(can_manage_program(actor, track.program))
    moved = track.participants.count()
    audit_record(
        actor=actor,
        action="track.deleted",
        target=track,
        program_id=track.program_id,
        data={"name": track.name, "participants_moved": moved},
    )
    track.delete()
    return moved
