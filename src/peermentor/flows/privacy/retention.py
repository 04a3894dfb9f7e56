"""Retention rules: keep personal data no longer than the organisation decided.

The rules live in one RetentionPolicy row (core), which organisation admins edit on the
retention page; the periodic job (`manage.py run_periodic`, flows/tasks.py) applies them:

- leavers (inactive in the directory) are erased N months after their leaving date, through
  the same erasure an admin runs (flows/privacy/erasure.py), recorded with no actor and the rule
  as the reason;
- private notes are deleted N months after their connection ended.

Both are idempotent: an erased person or a deleted note is not found again. A leaver still in a
current connection is skipped (and counted) until the connection is closed.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from peermentor.accounts.models import User
from peermentor.core.errors import ApplicationError, full_clean
from peermentor.core.models import RetentionPolicy
from peermentor.core.services import audit_record
from peermentor.engagement import privacy as engagement_privacy
from peermentor.flows.privacy.erasure import person_erase
from peermentor.people import privacy as people_privacy
from peermentor.people.permissions import is_org_admin

# One run erases at most this many leavers, so that the first run after a rule is switched on
# stays short; the next runs take the rest.
LEAVERS_PER_RUN = 200


def months_before(day: date, months: int) -> date:
    """The same day `months` months earlier (the month's last day where it has fewer)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    month += 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def retention_policy() -> RetentionPolicy:
    """The policy, or an unsaved one with every rule off before anyone set it."""
    return RetentionPolicy.objects.order_by("pk").first() or RetentionPolicy()


@transaction.atomic
def retention_policy_update(
    *,
    actor: User,
    anonymise_leavers_after_months: int | None,
    delete_private_notes_after_months: int | None,
) -> RetentionPolicy:
    """Afterwards the policy holds the given rules (None: off), with an audit event."""
    if not is_org_admin(actor):
        raise PermissionDenied("Only organisation admins set the retention rules.")
    policy = RetentionPolicy.objects.select_for_update().order_by("pk").first() or RetentionPolicy()
    before = {
        "anonymise_leavers_after_months": policy.anonymise_leavers_after_months,
        "delete_private_notes_after_months": policy.delete_private_notes_after_months,
    }
    policy.anonymise_leavers_after_months = anonymise_leavers_after_months
    policy.delete_private_notes_after_months = delete_private_notes_after_months
    policy.updated_by = actor
    full_clean(policy)
    policy.save()
    after = {
        "anonymise_leavers_after_months": anonymise_leavers_after_months,
        "delete_private_notes_after_months": delete_private_notes_after_months,
    }
    audit_record(
        actor=actor,
        action="retention.updated",
        target=policy,
        data={"before": before, "after": after},
    )
    return policy


@dataclass
class RetentionResult:
    people_erased: int = 0
    people_skipped: int = 0
    notes_deleted: int = 0


def retention_apply(*, today: date | None = None) -> RetentionResult:
    """Apply the policy as of `today`: erase leavers past their time, delete private notes past
    theirs. Safe to run again (it then finds nothing)."""
    today = today or timezone.localdate()
    policy = retention_policy()
    result = RetentionResult()
    months = policy.anonymise_leavers_after_months
    if months:
        cutoff = months_before(today, months)
        reason = f"Retention rule: left more than {months} months ago"
        for person in people_privacy.leavers_left_before(cutoff)[:LEAVERS_PER_RUN]:
            try:
                person_erase(actor=None, person=person, reason=reason)
            except ApplicationError:
                # Still in a current connection: erased on a later run, once it is closed.
                result.people_skipped += 1
            else:
                result.people_erased += 1
    months = policy.delete_private_notes_after_months
    if months:
        ended_before = datetime.combine(
            months_before(today, months), time(), timezone.get_current_timezone()
        )
        result.notes_deleted = engagement_privacy.private_notes_delete(ended_before=ended_before)
    return result
