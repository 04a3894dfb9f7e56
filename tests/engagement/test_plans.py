"""Engagement plans: default templates, each connection's copy, members editing it, shadowing."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from peermentor.core.errors import ApplicationError
from peermentor.core.models import AuditEvent
from peermentor.engagement.defaults import DEFAULT_TEMPLATES
from peermentor.engagement.models import Plan, PlanItem, PlanTemplate
from peermentor.engagement.services import (
    assignment_create,
    assignment_feedback,
    assignment_reflect,
    connection_close_early,
    plan_instantiate,
    plan_item_add,
    plan_item_move,
    plan_item_remove,
    plan_item_set_done,
    plan_item_update,
    plan_template_item_add,
    plan_template_item_remove,
    plan_templates_ensure_defaults,
    plans_instantiate_many,
)
from tests.factories import ProgramFactory

pytestmark = pytest.mark.django_db


def titles(plan):
    return list(plan.items.order_by("position", "id").values_list("title", flat=True))


# --- templates --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("program_format", "kinds"),
    [
        ("pairs", ["pair"]),
        ("shadowing", ["shadowing"]),
        ("buddies", ["buddy"]),
        ("circles", ["circle"]),
        ("help_network", ["flash", "pair"]),
    ],
)
def test_defaults_cover_every_format(program_format, kinds):
    program = ProgramFactory(format=program_format)
    templates = plan_templates_ensure_defaults(program=program)
    assert sorted(templates) == kinds
    for kind in kinds:
        name, items = DEFAULT_TEMPLATES[kind]
        assert templates[kind].name == name
        assert templates[kind].items.count() == len(items)


def test_defaults_are_made_once():
    program = ProgramFactory(format="pairs")
    first = plan_templates_ensure_defaults(program=program)
    second = plan_templates_ensure_defaults(program=program)
    assert first["pair"].pk == second["pair"].pk
    assert PlanTemplate.objects.filter(program=program).count() == 1


def test_shipped_peer_plan_has_the_four_stages():
    _, items = DEFAULT_TEMPLATES["pair"]
    names = [item.title for item in items]
    for expected in ("Agree what each", "First meeting", "Mid-point review", "Closing reflection"):
        assert any(name.startswith(expected) for name in names)


def test_shipped_shadowing_plan_has_a_complete_assignment():
    _, items = DEFAULT_TEMPLATES["shadowing"]
    assignments = [item for item in items if item.kind == "assignment"]
    assert assignments
    for item in assignments:
        assert item.effort_hours and item.learning_goal and item.due_after_days
    assert any("Reflect" in item.title for item in items)
    assert any("feedback" in item.title for item in items)


def test_managers_edit_templates(personas):
    template = plan_templates_ensure_defaults(program=personas.program)["pair"]
    item = plan_template_item_add(
        actor=personas.manager,
        template=template,
        kind="task",
        title="Visit each other's team",
        due_after_days=45,
    )
    assert template.items.order_by("position").last() == item
    with pytest.raises(ApplicationError) as error:
        plan_template_item_add(
            actor=personas.manager, template=template, kind="task", title="x", due_after_days=-1
        )
    assert error.value.field == "due_after_days"
    with pytest.raises(ApplicationError) as error:
        plan_template_item_add(actor=personas.manager, template=template, kind="wish", title="x")
    assert error.value.field == "kind"
    for role in ("participant", "other_manager", "outsider"):
        with pytest.raises(PermissionDenied):
            plan_template_item_add(
                actor=personas.user(role), template=template, kind="task", title="x"
            )
        with pytest.raises(PermissionDenied):
            plan_template_item_remove(actor=personas.user(role), item=item)
    plan_template_item_remove(actor=personas.manager, item=item)
    assert not template.items.filter(pk=item.pk).exists()


# --- a connection's plan ----------------------------------------------------------------------
def test_instantiate_copies_the_template_with_due_dates_from_the_start(pair):
    plan = plan_instantiate(connection=pair)
    _, defaults = DEFAULT_TEMPLATES["pair"]
    assert titles(plan) == [item.title for item in defaults]
    started = pair.started_at.date()
    first = plan.items.order_by("position").first()
    assert first.due_on == started + timedelta(days=defaults[0].due_after_days)


def test_instantiate_is_idempotent_and_follows_template_changes_only_for_new_plans(
    personas, pair, partner, connect, make_participant
):
    plan = plan_instantiate(connection=pair)
    assert plan_instantiate(connection=pair).pk == plan.pk
    assert Plan.objects.count() == 1
    template = PlanTemplate.objects.get(program=personas.program, kind="pair")
    plan_template_item_add(actor=personas.manager, template=template, kind="task", title="New")
    assert "New" not in titles(plan)
    other = connect([(personas.other_participant_record, "peer"), (make_participant(), "peer")])
    assert titles(plan_instantiate(connection=other))[-1] == "New"


def test_instantiate_refuses_proposals_and_outsiders(personas, partner, connect, make_participant):
    proposal = connect([(personas.participant_record, "peer"), (partner, "peer")], active=False)
    with pytest.raises(ApplicationError, match="starts when the connection starts"):
        plan_instantiate(connection=proposal)
    active = connect([(personas.other_participant_record, "peer"), (make_participant(), "peer")])
    with pytest.raises(PermissionDenied):
        plan_instantiate(connection=active, actor=personas.participant)


def test_instantiate_many_makes_missing_plans_in_one_go(personas, connect, make_participant):
    connections = [
        connect([(make_participant(), "peer"), (make_participant(), "peer")]) for _ in range(3)
    ]
    # Started connections already have theirs; take two away to see them made again.
    Plan.objects.filter(connection__in=connections[1:]).delete()
    plan_instantiate(connection=connections[0])
    assert plans_instantiate_many(connection_ids=[c.pk for c in connections]) == 2
    assert Plan.objects.count() == 3
    assert PlanItem.objects.count() == 3 * len(DEFAULT_TEMPLATES["pair"][1])
    assert plans_instantiate_many(connection_ids=[c.pk for c in connections]) == 0


def test_connections_have_their_plan_as_soon_as_they_start(personas, connect, make_participant):
    from peermentor.engagement.services import connection_activate

    pair = connect([(make_participant(), "peer"), (make_participant(), "peer")], active=False)
    assert not Plan.objects.exists()
    connection_activate(actor=personas.manager, connection=pair)
    plan = Plan.objects.get(connection=pair)
    _, defaults = DEFAULT_TEMPLATES["pair"]
    assert titles(plan) == [item.title for item in defaults]
    event = AuditEvent.objects.get(action="plan.created", target_id=plan.pk)
    assert event.actor == personas.manager and event.data["connection_id"] == pair.pk


def test_publishing_makes_every_plan_in_a_constant_number_of_queries(personas, make_participant):
    from peermentor.connections.services import ProposalSpec, connections_propose_many
    from peermentor.engagement.services import connections_activate_many

    def publish(run_id, count):
        connections_propose_many(
            actor=personas.manager,
            program=personas.program,
            proposals=[
                ProposalSpec(
                    members=[(make_participant(), "peer"), (make_participant(), "peer")],
                    kind="pair",
                )
                for _ in range(count)
            ],
            source="match_run",
            match_run_id=run_id,
        )
        with CaptureQueriesContext(db_connection) as queries:
            connections_activate_many(
                actor=personas.manager, program=personas.program, match_run_id=run_id
            )
        return len(queries)

    publish(1, 1)  # the program's first start also makes its default template
    # Up to 10 pairs fit in one SQLite INSERT of their plan items (999 parameters).
    assert publish(2, 2) == publish(3, 10)
    assert Plan.objects.count() == 13
    per_plan = len(DEFAULT_TEMPLATES["pair"][1])
    assert PlanItem.objects.count() == 13 * per_plan
    assert AuditEvent.objects.filter(action="plan.created", actor=personas.manager).count() == 13


def test_members_add_complete_reorder_and_remove(personas, partner, pair):
    plan = plan_instantiate(connection=pair)
    item = plan_item_add(
        actor=personas.participant,
        connection=pair,
        kind="goal",
        title="Write a SQL report",
        due_on=timezone.localdate() + timedelta(days=10),
    )
    assert titles(plan)[-1] == "Write a SQL report"
    done = plan_item_set_done(actor=partner.person.user, item=item, is_done=True)
    assert done.is_done and done.done_by == partner.person.user and done.done_at
    reopened = plan_item_set_done(actor=personas.participant, item=item, is_done=False)
    assert not reopened.is_done and reopened.done_at is None
    plan_item_move(actor=personas.participant, item=item, direction="up")
    assert titles(plan)[-2] == "Write a SQL report"
    first = plan.items.order_by("position").first()
    plan_item_move(actor=personas.participant, item=first, direction="up")
    assert titles(plan)[0] == first.title
    plan_item_update(actor=personas.participant, item=item, title="Write two SQL reports")
    assert "Write two SQL reports" in titles(plan)
    plan_item_remove(actor=partner.person.user, item=item)
    assert "Write two SQL reports" not in titles(plan)
    assert list(plan.items.values_list("position", flat=True)) == sorted(
        plan.items.values_list("position", flat=True)
    )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "goal", "title": "   "}, "title"),
        ({"kind": "assignment", "title": "Sneaky"}, "kind"),
        ({"kind": "task", "title": "x" * 201}, "title"),
        ({"kind": "task", "title": "Date", "due_on": "tomorrow"}, "due_on"),
        ({"kind": "task", "title": "Role", "for_role": "boss"}, "for_role"),
    ],
)
def test_plan_item_add_refuses_bad_input(personas, pair, fields, field):
    with pytest.raises(ApplicationError) as error:
        plan_item_add(actor=personas.participant, connection=pair, **fields)
    assert error.value.field == field


def test_plan_item_move_refuses_a_bad_direction(personas, pair):
    item = plan_instantiate(connection=pair).items.first()
    with pytest.raises(ApplicationError) as error:
        plan_item_move(actor=personas.participant, item=item, direction="sideways")
    assert error.value.field == "direction"


@pytest.mark.parametrize("role", ["other_participant", "manager", "admin", "outsider"])
def test_only_members_edit_the_plan(personas, pair, role):
    item = plan_instantiate(connection=pair).items.first()
    actor = personas.user(role)
    with pytest.raises(PermissionDenied):
        plan_item_add(actor=actor, connection=pair, kind="task", title="Mine")
    with pytest.raises(PermissionDenied):
        plan_item_set_done(actor=actor, item=item, is_done=True)
    with pytest.raises(PermissionDenied):
        plan_item_remove(actor=actor, item=item)
    with pytest.raises(PermissionDenied):
        plan_item_update(actor=actor, item=item, title="Hijacked")
    with pytest.raises(PermissionDenied):
        plan_item_move(actor=actor, item=item, direction="down")


def test_plan_item_update_refuses_bad_input(personas, pair):
    item = plan_instantiate(connection=pair).items.first()
    with pytest.raises(ApplicationError) as error:
        plan_item_update(actor=personas.participant, item=item, title="")
    assert error.value.field == "title"
    with pytest.raises(ApplicationError) as error:
        plan_item_update(actor=personas.participant, item=item, title="Ok", due_on="soon")
    assert error.value.field == "due_on"
    item.refresh_from_db()
    assert item.title != "Ok"


def test_an_ended_connection_keeps_its_plan_read_only(personas, pair):
    item = plan_instantiate(connection=pair).items.first()
    connection_close_early(actor=personas.manager, connection=pair, reason_code="no_time")
    with pytest.raises(ApplicationError, match="read but not changed"):
        plan_item_set_done(actor=personas.participant, item=item, is_done=True)


# --- job shadowing ----------------------------------------------------------------------------
@pytest.fixture
def placement(personas, connect, make_participant):
    program = ProgramFactory(format="shadowing")
    host = make_participant(program=program, role="host", name="Hana Host")
    shadow = make_participant(program=program, role="shadow", name="Sam Shadow")
    connection = connect([(host, "host"), (shadow, "shadow")], kind="shadowing", program=program)
    return connection, host.person.user, shadow.person.user


def test_the_assignment_cycle(placement):
    connection, host, shadow = placement
    due = timezone.localdate() + timedelta(days=14)
    item = assignment_create(
        actor=host,
        connection=connection,
        title="Draft the minutes of the Monday stand-up",
        effort_hours="1.5",
        due_on=due,
        learning_goal="How the team decides what to do this week.",
    )
    assert (item.kind, item.effort_hours, item.due_on) == ("assignment", Decimal("1.5"), due)
    assert item.for_role == "shadow"
    with pytest.raises(ApplicationError, match="none yet"):
        assignment_feedback(actor=host, item=item, feedback="Good")
    with pytest.raises(PermissionDenied):
        plan_item_set_done(actor=host, item=item, is_done=True)
    reflected = assignment_reflect(
        actor=shadow, item=item, reflection="Decisions happen in the last five minutes."
    )
    assert reflected.is_done and reflected.reflected_at and reflected.done_by == shadow
    answered = assignment_feedback(actor=host, item=item, feedback="Spot on. Next: run it.")
    assert answered.feedback_at
    with pytest.raises(ApplicationError, match="already answered"):
        assignment_reflect(actor=shadow, item=item, reflection="Changed my mind")


def test_only_the_host_offers_and_only_the_shadow_reflects(placement):
    connection, host, shadow = placement
    arguments = {
        "title": "Review a document",
        "effort_hours": 2,
        "due_on": timezone.localdate() + timedelta(days=3),
        "learning_goal": "What good looks like",
    }
    with pytest.raises(PermissionDenied):
        assignment_create(actor=shadow, connection=connection, **arguments)
    item = assignment_create(actor=host, connection=connection, **arguments)
    with pytest.raises(PermissionDenied):
        assignment_reflect(actor=host, item=item, reflection="Not mine to write")
    with pytest.raises(PermissionDenied):
        assignment_feedback(actor=shadow, item=item, feedback="Self-praise")
    with pytest.raises(PermissionDenied):
        plan_item_remove(actor=shadow, item=item)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"effort_hours": None}, "effort_hours"),
        ({"effort_hours": "-1"}, "effort_hours"),
        ({"effort_hours": "lots"}, "effort_hours"),
        ({"effort_hours": 500}, "effort_hours"),
        ({"due_on": None}, "due_on"),
        ({"learning_goal": ""}, "learning_goal"),
        ({"title": ""}, "title"),
    ],
)
def test_assignment_refuses_bad_input(placement, changes, field):
    connection, host, _ = placement
    arguments = {
        "title": "Review a document",
        "effort_hours": 2,
        "due_on": timezone.localdate() + timedelta(days=3),
        "learning_goal": "What good looks like",
        **changes,
    }
    with pytest.raises(ApplicationError) as error:
        assignment_create(actor=host, connection=connection, **arguments)
    assert error.value.field == field


def test_assignments_belong_to_shadowing(personas, pair):
    with pytest.raises(ApplicationError, match="job-shadowing"):
        assignment_create(
            actor=personas.participant,
            connection=pair,
            title="x",
            effort_hours=1,
            due_on=timezone.localdate(),
            learning_goal="y",
        )


def test_templates_copy_to_the_next_cohort(personas):
    from peermentor.engagement.models import EngagementSettings
    from peermentor.engagement.services import engagement_settings_update, plan_templates_copy
    from tests.factories import ProgramManagerFactory

    source = personas.program
    template = plan_templates_ensure_defaults(program=source)["pair"]
    plan_template_item_add(actor=personas.manager, template=template, kind="task", title="Extra")
    engagement_settings_update(
        actor=personas.manager, program=source, first_check_in_after_days=14, check_in_every_days=28
    )
    target = ProgramFactory(format="pairs")
    ProgramManagerFactory(program=target, user=personas.manager)
    assert plan_templates_copy(actor=personas.manager, source=source, target=target) == 1
    copy = PlanTemplate.objects.get(program=target, kind="pair")
    assert list(copy.items.values_list("title", flat=True)) == list(
        template.items.values_list("title", flat=True)
    )
    assert EngagementSettings.objects.get(program=target).check_in_every_days == 28
    assert plan_templates_copy(actor=personas.manager, source=source, target=target) == 0
    with pytest.raises(PermissionDenied):
        plan_templates_copy(actor=personas.other_manager, source=source, target=target)
