"""Check-ins: a member's pulse ("how is it going?", 1 to 5), and the program's rhythm."""

from datetime import date

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.connections.models import Connection
from peermentor.core.errors import ApplicationError, full_clean
from peermentor.core.services import audit_record
from peermentor.core.timezones import day_of
from peermentor.core.timezones import today as utc_today
from peermentor.engagement.health import (
    CHECK_IN_EVERY_DAYS,
    FIRST_CHECK_IN_AFTER_DAYS,
    check_in_period,
)
from peermentor.engagement.models import CheckIn, EngagementSettings
from peermentor.engagement.services._common import (
    clean_int,
    clean_text,
    lock_connection,
    require_writer,
)
from peermentor.programs.models import Program
from peermentor.programs.permissions import can_manage_program


def check_in_rhythm(program: Program) -> tuple[int, int]:
    """(days to the first check-in, days between the next ones) for the program."""
    settings = EngagementSettings.objects.filter(program_id=program.pk).first()
    if settings is None:
        return FIRST_CHECK_IN_AFTER_DAYS, CHECK_IN_EVERY_DAYS
    return settings.first_check_in_after_days, settings.check_in_every_days


@transaction.atomic
def check_in_submit(
    *,
    actor: User,
    connection: Connection,
    rating: int,
    comment: str = "",
    today: date | None = None,
) -> CheckIn:
    """Afterwards the member's pulse for the current period is stored (one per period: the
    first check-in falls due 30 days after the start, then every 60, unless the program says
    otherwise; a pulse before the first is allowed once). The comment stays with the members."""
    connection = lock_connection(connection)
    member = require_writer(actor, connection)
    rating = clean_int(rating, field="rating", label="The rating", low=1, high=5)
    today = today or utc_today()
    started_on = day_of(connection.started_at or timezone.now())
    first, every = check_in_rhythm(connection.program)
    period, due_on = check_in_period(started_on, today, first=first, every=every)
    check_in = CheckIn(
        connection=connection,
        participant_id=member.participant_id,
        period=period,
        due_on=due_on,
        rating=rating,
        comment=clean_text(
            comment, field="comment", label="The comment", max_length=2000, required=False
        ),
    )
    full_clean(check_in, exclude=["connection", "participant"], validate_constraints=False)
    try:
        with transaction.atomic():
            check_in.save()
    except IntegrityError:
        raise ApplicationError(
            "You have already checked in for this period. The next check-in opens later."
        ) from None
    audit_record(
        actor=actor,
        action="check_in.submitted",
        target=check_in,
        program_id=connection.program_id,
        # Neither rating nor comment: the trail is read by managers, the pulse is the member's.
        data={"connection_id": connection.pk, "period": period},
    )
    return check_in


@transaction.atomic
def engagement_settings_update(
    *, actor: User, program: Program, first_check_in_after_days: int, check_in_every_days: int
) -> EngagementSettings:
    """Afterwards the program's connections are asked for a pulse after
    `first_check_in_after_days` days and then every `check_in_every_days`."""
    if not can_manage_program(actor, program):
        raise PermissionDenied("Only the program's managers set its check-in rhythm.")
    first = clean_int(
        first_check_in_after_days,
        field="first_check_in_after_days",
        label="The first check-in",
        low=1,
        high=365,
    )
    every = clean_int(
        check_in_every_days,
        field="check_in_every_days",
        label="The time between check-ins",
        low=7,
        high=365,
    )
    settings, _ = EngagementSettings.objects.select_for_update().get_or_create(program=program)
    before = {
        "first_check_in_after_days": settings.first_check_in_after_days,
        "check_in_every_days": settings.check_in_every_days,
    }
    settings.first_check_in_after_days = first
    settings.check_in_every_days = every
    full_clean(settings, exclude=["program"])
    settings.save()
    audit_record(
        actor=actor,
        action="engagement_settings.updated",
        target=program,
        program_id=program.pk,
        data={"before": before, "first_check_in_after_days": first, "check_in_every_days": every},
    )
    return settings
