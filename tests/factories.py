"""factory_boy factories shared by every test module. Add a section per app."""

import factory
from factory.django import DjangoModelFactory

from peermentor.accounts.models import User
from peermentor.people.models import Department, Person, Site, Skill

PASSWORD = "correct-horse-battery"


# --- accounts -----------------------------------------------------------------------------
class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["email"]

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    full_name = factory.Faker("name")
    password = factory.django.Password(PASSWORD)


# --- people -------------------------------------------------------------------------------
class DepartmentFactory(DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Department {n}")


class SiteFactory(DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ["name"]

    name = factory.Sequence(lambda n: f"Site {n}")
    time_zone = "Europe/London"


class SkillFactory(DjangoModelFactory):
    class Meta:
        model = Skill

    name = factory.Sequence(lambda n: f"Skill {n}")


class PersonFactory(DjangoModelFactory):
    class Meta:
        model = Person

    external_id = factory.Sequence(lambda n: f"E{n:05d}")
    full_name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"person{n}@example.com")
    department = factory.SubFactory(DepartmentFactory)
    site = factory.SubFactory(SiteFactory)
    level = "L2"
    time_zone = "Europe/London"


# --- programs -----------------------------------------------------------------------------
class ProgramFactory(DjangoModelFactory):
    class Meta:
        model = "programs.Program"

    name = factory.Sequence(lambda n: f"Program {n}")
    description = "Peers learn from each other."
    goals = factory.LazyFunction(lambda: ["skill_learning"])
    format = "pairs"
    status = "enrolling"


class ProgramManagerFactory(DjangoModelFactory):
    class Meta:
        model = "programs.ProgramManager"

    program = factory.SubFactory(ProgramFactory)
    user = factory.SubFactory(UserFactory)


class TrackFactory(DjangoModelFactory):
    class Meta:
        model = "programs.Track"

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Track {n}")


class ProfileQuestionFactory(DjangoModelFactory):
    class Meta:
        model = "programs.ProfileQuestion"

    program = factory.SubFactory(ProgramFactory)
    key = factory.Sequence(lambda n: f"question_{n}")
    label = factory.Sequence(lambda n: f"Question {n}?")
    kind = "single_choice"
    choices = factory.LazyFunction(lambda: ["Yes", "No"])
    position = factory.Sequence(lambda n: n)


class TrainingModuleFactory(DjangoModelFactory):
    class Meta:
        model = "programs.TrainingModule"

    program = factory.SubFactory(ProgramFactory)
    title = factory.Sequence(lambda n: f"Module {n}")
    body = "Read this before you are matched."
    kind = "acknowledge"
    position = factory.Sequence(lambda n: n)


# --- enrollment ---------------------------------------------------------------------------
class ParticipantFactory(DjangoModelFactory):
    class Meta:
        model = "enrollment.Participant"

    program = factory.SubFactory(ProgramFactory)
    person = factory.SubFactory(PersonFactory, user=factory.SubFactory(UserFactory))
    status = "enrolled"
    role = "peer"


class InvitationFactory(DjangoModelFactory):
    class Meta:
        model = "enrollment.Invitation"

    program = factory.SubFactory(ProgramFactory)
    person = factory.SubFactory(PersonFactory)


class AnswerFactory(DjangoModelFactory):
    class Meta:
        model = "enrollment.Answer"

    participant = factory.SubFactory(ParticipantFactory)
    question = factory.SubFactory(
        ProfileQuestionFactory, program=factory.SelfAttribute("..participant.program")
    )
    value = "Yes"


class TrainingCompletionFactory(DjangoModelFactory):
    class Meta:
        model = "enrollment.TrainingCompletion"

    participant = factory.SubFactory(ParticipantFactory)
    module = factory.SubFactory(
        TrainingModuleFactory, program=factory.SelfAttribute("..participant.program")
    )


# --- connections --------------------------------------------------------------------------
class ConnectionFactory(DjangoModelFactory):
    """A bare connection row (no members): tests that bypass the services start here."""

    class Meta:
        model = "connections.Connection"

    program = factory.SubFactory(ProgramFactory)
    kind = "pair"
    source = "manual"
    score = 0.8
    reasons = "Both want to learn SQL; different departments."


class ConnectionMemberFactory(DjangoModelFactory):
    class Meta:
        model = "connections.ConnectionMember"

    connection = factory.SubFactory(ConnectionFactory)
    participant = factory.SubFactory(
        ParticipantFactory, program=factory.SelfAttribute("..connection.program")
    )
    role = factory.SelfAttribute("participant.role")
    is_current = True
    uses_capacity = factory.LazyAttribute(lambda o: o.role in ("host", "buddy"))
    slot = 1


class BlockFactory(DjangoModelFactory):
    class Meta:
        model = "connections.Block"

    blocker = factory.SubFactory(PersonFactory)
    blocked = factory.SubFactory(PersonFactory)


# --- matches ------------------------------------------------------------------------------
def _now():
    from django.utils import timezone

    return timezone.now()


class ReadyParticipantFactory(ParticipantFactory):
    """An enrolled participant whose profile and training are done: a match run places them."""

    is_profile_complete = True
    is_training_complete = True
    ready_at = factory.LazyFunction(_now)


class MatchRunFactory(DjangoModelFactory):
    class Meta:
        model = "matches.MatchRun"

    program = factory.SubFactory(ProgramFactory)
    status = "succeeded"
    progress = 1.0
    parameters = factory.LazyFunction(dict)


class ProposalFactory(DjangoModelFactory):
    class Meta:
        model = "matches.Proposal"

    run = factory.SubFactory(MatchRunFactory)
    group_key = factory.Sequence(lambda n: f"g{n}")
    score = 0.5
    reasons = "Both want to learn SQL."


# --- engagement ---------------------------------------------------------------------------
class MeetingFactory(DjangoModelFactory):
    """A proposed meeting row; tests that need a real flow use the engagement services."""

    class Meta:
        model = "engagement.Meeting"

    connection = factory.SubFactory(ConnectionFactory)
    title = "Peer meeting"
    time_zone = "Europe/London"


class NoteFactory(DjangoModelFactory):
    class Meta:
        model = "engagement.Note"

    connection = factory.SubFactory(ConnectionFactory)
    author = factory.SubFactory(
        ParticipantFactory, program=factory.SelfAttribute("..connection.program")
    )
    visibility = "shared"
    body = factory.Sequence(lambda n: f"Note {n}: we talked about SQL window functions.")


class CheckInFactory(DjangoModelFactory):
    class Meta:
        model = "engagement.CheckIn"

    connection = factory.SubFactory(ConnectionFactory)
    participant = factory.SubFactory(
        ParticipantFactory, program=factory.SelfAttribute("..connection.program")
    )
    period = 0
    rating = 4


# --- helpnetwork ----------------------------------------------------------------------------
def _in_days(days):
    import datetime

    from django.utils import timezone

    return timezone.now() + datetime.timedelta(days=days)


class HelpAskFactory(DjangoModelFactory):
    """An open ask row; tests of the flow use peermentor.helpnetwork.services."""

    class Meta:
        model = "helpnetwork.HelpAsk"

    program = factory.SubFactory(ProgramFactory, format="help_network", status="running")
    asker = factory.SubFactory(ParticipantFactory, program=factory.SelfAttribute("..program"))
    skill = factory.SubFactory(SkillFactory)
    description = "I am stuck with window functions in a report."
    expires_at = factory.LazyFunction(lambda: _in_days(14))


class HelpOfferFactory(DjangoModelFactory):
    class Meta:
        model = "helpnetwork.HelpOffer"

    ask = factory.SubFactory(HelpAskFactory)
    helper = factory.SubFactory(ParticipantFactory, program=factory.SelfAttribute("..ask.program"))
    message = "Happy to help."


# --- notifications --------------------------------------------------------------------------
class NotificationFactory(DjangoModelFactory):
    class Meta:
        model = "notifications.Notification"

    recipient = factory.SubFactory(UserFactory)
    kind = "stalled_connection"
    title = factory.Sequence(lambda n: f"Reminder {n}")
    body = "Propose a few times that suit you."
    url = "/connections/"
    dedupe_key = factory.Sequence(lambda n: f"test:{n}")


# --- surveys --------------------------------------------------------------------------------
def _today():
    from django.utils import timezone

    return timezone.now().date()


def _days_after(day, days):
    import datetime

    return day + datetime.timedelta(days=days)


class SurveyFactory(DjangoModelFactory):
    """A draft survey sent on a date; tests that answer it open it with survey_open."""

    class Meta:
        model = "surveys.Survey"

    program = factory.SubFactory(ProgramFactory)
    title = factory.Sequence(lambda n: f"Survey {n}")
    is_anonymous = True
    audience = "participants"
    schedule = "on_date"
    send_on = factory.LazyFunction(_today)


class SurveyQuestionFactory(DjangoModelFactory):
    class Meta:
        model = "surveys.SurveyQuestion"

    survey = factory.SubFactory(SurveyFactory)
    key = factory.Sequence(lambda n: f"question_{n}")
    text = factory.Sequence(lambda n: f"How was it ({n})?")
    kind = "rating"
    position = factory.Sequence(lambda n: n)


class SurveyInvitationFactory(DjangoModelFactory):
    class Meta:
        model = "surveys.SurveyInvitation"

    survey = factory.SubFactory(SurveyFactory)
    participant = factory.SubFactory(
        ParticipantFactory, program=factory.SelfAttribute("..survey.program")
    )
    occurrence_key = "program"
    due_on = factory.LazyFunction(_today)
    closes_on = factory.LazyAttribute(lambda o: _days_after(o.due_on, 21))
    created_at = factory.LazyFunction(_now)
