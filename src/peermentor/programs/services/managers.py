"""Who runs a program: adding and removing its managers."""

from __future__ import annotations

from django.db import transaction

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError
from peermentor.core.services import audit_record
from peermentor.programs.models import (
    Program,
    ProgramManager,
)
from peermentor.programs.permissions import (
    can_assign_managers,
)
from peermentor.programs.services._common import _require


# --- managers -------------------------------------------------------------------------------
@transaction.atomic
def program_manager_add(*, actor: User, program: Program, email: str) -> ProgramManager:
    """After the call the user with this e-mail manages the program."""
    _require(can_assign_managers(actor, program), "Only organisation admins choose managers.")
    email = (email or "").strip()
    if not email:
        raise ApplicationError("Enter the e-mail address of the new manager.", field="email")
    user = User.objects.filter(email__iexact=email, is_active=True).first()
    if user is None:
        raise ApplicationError(
            "Nobody with this e-mail address has an account yet: invite them first.",
            field="email",
        )
    if ProgramManager.objects.filter(program=program, user=user).exists():
        raise ApplicationError(f"{user} already manages this program.", field="email")
    link = ProgramManager(program=program, user=user)
    link.full_clean()
    link.save()
    audit_record(
        actor=actor,
        action="program_manager.added",
        target=program,
        program_id=program.pk,
        data={"user_id": user.pk, "email": user.email},
    )
    return link


@transaction.atomic
def program_manager_remove(*, actor: User, program: Program, email: str) -> None:
    """After the call the user with this e-mail no longer manages the program."""
    _require(can_assign_managers(actor, program), "Only organisation admins choose managers.")
    link = (
        ProgramManager.objects.select_related("user")
        .filter(program=program, user__email__iexact=(email or "").strip())
        .first()
    )
    if link is None:
        raise ApplicationError("This person doesn't manage the program.", field="email")
    audit_record(
        actor=actor,
        action="program_manager.removed",
        target=program,
        program_id=program.pk,
        data={"user_id": link.user_id, "email": link.user.email},
    )
    link.delete()
