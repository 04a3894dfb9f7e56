"""Data protection: a person's export, erasure, retention rules and the audit log
(flows/privacy, docs/privacy.md)."""

import csv
import io
import json
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from peermentor.connections.models import Connection, ConnectionStatus
from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent, RetentionPolicy
from peermentor.core.services import audit_record
from peermentor.engagement.models import Note
from peermentor.enrollment.models import ParticipantStatus
from peermentor.flows.privacy import export, retention
from peermentor.flows.privacy.erasure import person_erase
from peermentor.flows.tasks import periodic_tasks
from peermentor.helpnetwork.models import AskStatus, OfferStatus
from peermentor.selfmatch.models import MatchRequest, RequestStatus
from peermentor.surveys.models import SurveyAnswer
from peermentor.surveys.services import survey_answer, survey_open
from tests.factories import (
    PASSWORD,
    ConnectionFactory,
    ConnectionMemberFactory,
    HelpAskFactory,
    HelpOfferFactory,
    NoteFactory,
    NotificationFactory,
    PersonFactory,
    SurveyFactory,
    SurveyInvitationFactory,
    SurveyQuestionFactory,
)

SECRET = "my private thoughts about the mentoring"


@pytest.fixture
def pair(personas):
    """The participant and the other participant in a completed pair, with a private note,
    a shared note and an anonymous survey answered with free text."""
    connection = ConnectionFactory(
        program=personas.program,
        status=ConnectionStatus.COMPLETED,
        started_at=timezone.now() - timedelta(days=90),
        ended_at=timezone.now() - timedelta(days=10),
    )
    ConnectionMemberFactory(
        connection=connection, participant=personas.participant_record, is_current=False
    )
    ConnectionMemberFactory(
        connection=connection, participant=personas.other_participant_record, is_current=False
    )
    NoteFactory(
        connection=connection,
        author=personas.participant_record,
        visibility="private",
        body=SECRET,
    )
    NoteFactory(
        connection=connection,
        author=personas.participant_record,
        visibility="shared",
        body="Shared: agenda for next time",
    )
    survey = SurveyFactory(program=personas.program, created_by=personas.manager)
    SurveyQuestionFactory(survey=survey, key="comment", kind="text", is_required=False)
    survey_open(actor=personas.manager, survey=survey)
    invitation = SurveyInvitationFactory(survey=survey, participant=personas.participant_record)
    survey_answer(
        actor=personas.participant, invitation=invitation, answers={"comment": "Loved it, Ana"}
    )
    return connection


# --- export -----------------------------------------------------------------------------------
def test_own_export_has_everything_the_person_wrote(personas, pair):
    person = personas.participant_record.person
    data = export.person_export(viewer=personas.participant, person=person)
    document = json.loads(data.as_json())
    assert document["is_complete"] is True
    assert document["directory_entry"][0]["email"] == person.email
    assert document["account"][0]["email"] == personas.participant.email
    assert {note["body"] for note in document["notes"]} == {SECRET, "Shared: agenda for next time"}
    assert [a["text"] for a in document["survey_answers"]] == ["Loved it, Ana"]
    partners = document["connections"][0]["partners"]
    assert partners == [personas.other_participant_record.person.full_name]
    assert document["participations"][0]["program_name"] == "Skills Exchange"


def test_export_runs_the_same_queries_whatever_the_number_of_rows(personas, pair):
    person = personas.participant_record.person

    def queries():
        with CaptureQueriesContext(db_connection) as captured:
            export.person_export(viewer=personas.participant, person=person).as_json()
        return len(captured)

    before = queries()
    NoteFactory.create_batch(5, connection=pair, author=personas.participant_record)
    NotificationFactory.create_batch(5, recipient=personas.participant)
    assert queries() == before


def test_admin_export_withholds_what_admins_never_read(personas, pair):
    person = personas.participant_record.person
    text = export.person_export(viewer=personas.admin, person=person).as_json()
    assert SECRET not in text
    assert "Loved it" not in text
    document = json.loads(text)
    assert document["is_complete"] is False
    assert document["notes"][0]["withheld"] == 2
    assert document["directory_entry"][0]["full_name"] == person.full_name


def test_nobody_else_may_export(personas, pair):
    person = personas.participant_record.person
    for viewer in (personas.other_participant, personas.manager, personas.outsider):
        with pytest.raises(export.PermissionDenied):
            export.person_export(viewer=viewer, person=person)


def test_participant_downloads_their_data_as_json_and_sees_a_summary(client, personas, pair):
    client.force_login(personas.participant)
    assert reverse("my_data") in client.get(reverse("preferences")).content.decode()
    page = client.get(reverse("my_data"))
    assert page.status_code == 200
    assert SECRET in page.content.decode()
    download = client.get(reverse("my_data_download", args=["json"]))
    assert download["Content-Type"].startswith("application/json")
    assert "attachment" in download["Content-Disposition"]
    assert json.loads(download.content)["notes"]
    assert client.get(reverse("my_data_download", args=["xml"])).status_code == 404


def test_person_data_pdf_is_a_pdf(client, personas, pair):
    client.force_login(personas.participant)
    response = client.get(reverse("my_data_download", args=["pdf"]))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")


def test_admin_sees_a_person_s_data_from_the_directory(client, personas, pair):
    person = personas.participant_record.person
    client.force_login(personas.admin)
    detail = client.get(reverse("person_detail", args=[person.pk])).content.decode()
    assert reverse("person_data", args=[person.pk]) in detail
    page = client.get(reverse("person_data", args=[person.pk])).content.decode()
    assert person.email in page
    assert SECRET not in page


# --- erasure ----------------------------------------------------------------------------------
def test_erasure_anonymises_the_person_and_keeps_partners_records(client, personas, pair):
    person = personas.participant_record.person
    old_name, user = person.full_name, personas.participant
    Connection.objects.filter(pk=pair.pk).update(reasons=f"{old_name} offered to help with SQL.")
    NotificationFactory(recipient=personas.other_participant, title=f"{old_name} wrote a note")
    person_erase(actor=personas.admin, person=person, reason="Erasure request, ticket 12")

    person.refresh_from_db()
    user.refresh_from_db()
    assert person.full_name == f"Former employee #{person.pk}"
    assert person.email.endswith("@erased.invalid") and not person.is_active
    assert not user.is_active and not user.has_usable_password()
    assert user.email.endswith("@erased.invalid") and user.full_name == person.full_name
    assert not client.login(username=user.email, password=PASSWORD)
    # Everything they wrote is gone, the rows (and so the counts) stay.
    assert set(Note.objects.filter(author__person=person).values_list("body", flat=True)) == {
        "(erased)"
    }
    assert list(SurveyAnswer.objects.values_list("text", flat=True)) == ["(erased)"]
    # The partner still sees the connection, with the placeholder name.
    client.force_login(personas.other_participant)
    page = client.get(reverse("connection_detail", args=[pair.pk])).content.decode()
    assert person.full_name in page and old_name not in page
    assert personas.other_participant.notifications.get().title.startswith("Former employee #")
    connection = Connection.objects.get(pk=pair.pk)
    assert connection.members.count() == 2
    assert connection.reasons == f"{person.full_name} offered to help with SQL."
    event = AuditEvent.objects.get(action="person.erased")
    assert (event.actor, event.target_id, event.reason) == (
        personas.admin,
        person.pk,
        "Erasure request, ticket 12",
    )
    assert old_name not in json.dumps(event.data)


def test_erasure_leaves_nothing_waiting_on_the_person(personas):
    person = personas.participant_record.person
    request = MatchRequest.objects.create(
        program=personas.program,
        requester=personas.participant_record,
        recipient=personas.other_participant_record,
        message="Shall we meet? I love SQL.",
        expires_at=timezone.now() + timedelta(days=7),
    )
    ask = HelpAskFactory(description="Help me with my divorce paperwork")
    ask.asker.person = person
    ask.asker.save()
    offer = HelpOfferFactory(helper=personas.participant_record, message="I can help")

    person_erase(actor=personas.admin, person=person, reason="Asked by e-mail")

    personas.participant_record.refresh_from_db()
    assert personas.participant_record.status == ParticipantStatus.WITHDRAWN
    request.refresh_from_db()
    assert (request.status, request.message) == (RequestStatus.CANCELLED, "")
    ask.refresh_from_db()
    assert (ask.status, ask.description) == (AskStatus.CLOSED, "(erased)")
    offer.refresh_from_db()
    assert (offer.status, offer.message) == (OfferStatus.WITHDRAWN, "")


def test_erasure_is_refused_during_a_current_connection(personas):
    connection = ConnectionFactory(
        program=personas.program, status=ConnectionStatus.ACTIVE, started_at=timezone.now()
    )
    ConnectionMemberFactory(connection=connection, participant=personas.participant_record)
    with pytest.raises(ApplicationError, match="current connection"):
        person_erase(
            actor=personas.admin, person=personas.participant_record.person, reason="Asked"
        )


def test_erasure_needs_a_reason_an_admin_and_is_done_once(personas):
    person = personas.participant_record.person
    with pytest.raises(ApplicationError):
        person_erase(actor=personas.admin, person=person, reason="  ")
    for actor in (personas.manager, personas.participant):
        with pytest.raises(export.PermissionDenied):
            person_erase(actor=actor, person=person, reason="Asked")
    admin_person = PersonFactory(user=personas.admin)
    with pytest.raises(export.PermissionDenied):
        person_erase(actor=personas.admin, person=admin_person, reason="Myself")
    person_erase(actor=personas.admin, person=person, reason="Asked")
    with pytest.raises(ApplicationError, match="already"):
        person_erase(actor=personas.admin, person=person, reason="Again")


def test_admin_erases_through_the_confirmation_page(client, personas, pair):
    person = personas.participant_record.person
    client.force_login(personas.admin)
    url = reverse("person_erase", args=[person.pk])
    page = client.get(url).content.decode()
    assert "What will happen" in page and "cannot be undone" in page
    refused = client.post(url, {"reason": "Asked"})
    assert refused.status_code == 200  # the box was not ticked
    person.refresh_from_db()
    assert person.is_active
    done = client.post(url, {"reason": "Asked", "confirm": "on"}, follow=True)
    assert "Erased" in done.content.decode()
    person.refresh_from_db()
    assert person.full_name == f"Former employee #{person.pk}"


# --- retention --------------------------------------------------------------------------------
def test_retention_erases_leavers_after_their_time_once(personas, pair):
    today = timezone.localdate()
    leaver = personas.participant_record.person
    leaver.is_active = False
    leaver.leaving_date = today - timedelta(days=200)
    leaver.save()
    recent = PersonFactory(is_active=False, leaving_date=today - timedelta(days=20))
    RetentionPolicy.objects.create(anonymise_leavers_after_months=6)

    result = retention.retention_apply(today=today)
    assert (result.people_erased, result.people_skipped) == (1, 0)
    leaver.refresh_from_db()
    recent.refresh_from_db()
    assert leaver.full_name == f"Former employee #{leaver.pk}"
    assert not recent.full_name.startswith("Former employee")
    event = AuditEvent.objects.get(action="person.erased")
    assert event.actor is None and "6 months" in event.reason
    assert retention.retention_apply(today=today).people_erased == 0


def test_retention_deletes_private_notes_after_the_connection_ended(personas, pair):
    RetentionPolicy.objects.create(delete_private_notes_after_months=1)
    today = timezone.localdate()
    assert retention.retention_apply(today=today).notes_deleted == 0  # ended 10 days ago
    later = today + timedelta(days=40)
    assert retention.retention_apply(today=later).notes_deleted == 1
    assert list(Note.objects.values_list("visibility", flat=True)) == ["shared"]
    assert retention.retention_apply(today=later).notes_deleted == 0


def test_retention_rules_are_off_until_set_and_shown_on_the_settings_page(client, personas):
    assert retention.retention_apply() == retention.RetentionResult()
    client.force_login(personas.admin)
    url = reverse("retention_settings")
    assert "Kept" in client.get(url).content.decode()
    response = client.post(
        url, {"anonymise_leavers_after_months": "24", "delete_private_notes_after_months": ""}
    )
    assert response.status_code == 302
    policy = RetentionPolicy.objects.get()
    assert (policy.anonymise_leavers_after_months, policy.delete_private_notes_after_months) == (
        24,
        None,
    )
    assert "Erased 24 months after they left" in client.get(url).content.decode()
    assert AuditEvent.objects.filter(action="retention.updated", actor=personas.admin).exists()
    bad = client.post(url, {"anonymise_leavers_after_months": "500"})
    assert bad.status_code == 200


def test_months_before_keeps_the_day_or_the_month_s_end():
    assert retention.months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert retention.months_before(date(2026, 1, 15), 13) == date(2024, 12, 15)


def test_the_periodic_schedule_applies_the_retention_rules(personas, pair):
    RetentionPolicy.objects.create(delete_private_notes_after_months=1)
    Connection.objects.filter(pk=pair.pk).update(ended_at=timezone.now() - timedelta(days=70))
    assert "retention" in [name for name, _ in periodic_tasks()]
    out = io.StringIO()
    call_command("run_periodic", "--once", "--now", stdout=out)
    assert "retention: people erased 0, people skipped 0, notes deleted 1" in out.getvalue()
    assert not Note.objects.filter(visibility="private").exists()


# --- audit log --------------------------------------------------------------------------------
def _events(personas, count):
    for number in range(count):
        audit_record(
            actor=personas.manager if number % 2 else personas.admin,
            action="program.updated" if number % 2 else "participant.approved",
            target=personas.program,
            reason='=HYPERLINK("http://evil")' if number == 0 else f"change {number}",
        )


def test_audit_log_filters_and_paginates_in_bounded_queries(
    client, personas, django_assert_max_num_queries
):
    _events(personas, 60)
    client.force_login(personas.admin)
    url = reverse("audit_log")
    with django_assert_max_num_queries(8):
        first = client.get(url)
    _events(personas, 60)
    with django_assert_max_num_queries(8):
        again = client.get(url)
    assert first.status_code == again.status_code == 200
    assert "Page 1 of" in again.content.decode()
    filtered = client.get(url, {"actor": personas.manager.email, "action": "program."})
    assert filtered.context["page"].paginator.count == 60
    assert all(e.actor == personas.manager for e in filtered.context["page"].object_list)
    by_object = client.get(
        url, {"target_type": "programs.program", "target_id": personas.program.pk}
    )
    assert by_object.context["page"].paginator.count == 120
    today = timezone.localdate()
    none = client.get(url, {"until": (today - timedelta(days=1)).isoformat()})
    assert none.context["page"].paginator.count == 0
    nobody = client.get(url, {"actor": "nobody@example.com"})
    assert nobody.context["page"].paginator.count == 0


def test_audit_log_csv_is_safe_in_a_spreadsheet(client, personas):
    _events(personas, 3)
    client.force_login(personas.admin)
    response = client.get(reverse("audit_log_export"), {"actor": personas.admin.email})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][0] == "time (UTC)"
    assert len(rows) == 3  # header + the admin's two events
    reasons = [row[9] for row in rows[1:]]
    assert '\'=HYPERLINK("http://evil")' in reasons


def test_the_operator_exports_a_complete_copy_from_the_command_line(personas, pair):
    person = personas.participant_record.person
    out = io.StringIO()
    call_command("privacy_export", str(person.pk), "--complete", stdout=out)
    assert SECRET in out.getvalue()
    out = io.StringIO()
    call_command("privacy_export", str(person.pk), stdout=out)
    assert SECRET not in out.getvalue() and json.loads(out.getvalue())["person_id"] == person.pk
