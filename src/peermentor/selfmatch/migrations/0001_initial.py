"""Self-match requests move here from the matches app without losing a row.

The models enter this app's state as they were in matches (their tables still named
matches_*); then the tables and their indexes are renamed to this app's names, and the rows
that name the models by their app (content types, so that permissions and admin history stay
attached; audit events' target type; background tasks still queued under the old module path)
follow. Every step runs backwards too.
"""

import django.core.validators
import django.db.models.deletion
import django.db.models.functions.comparison
import django.utils.timezone
from django.db import migrations, models

MOVED_MODELS = ("matchrequest", "selfmatchsettings")
MOVED_TASKS = {
    "peermentor.matches.tasks_requests.request_notices_task": (
        "peermentor.selfmatch.notices.request_notices_task"
    ),
    "peermentor.matches.tasks_requests.requests_expire_task": (
        "peermentor.selfmatch.tasks.requests_expire_task"
    ),
}
RENAMED_INDEXES = [
    ("matches_mat_recipie_a2cda7_idx", "selfmatch_m_recipie_486bf2_idx"),
    ("matches_mat_request_8f68dd_idx", "selfmatch_m_request_fa52a4_idx"),
    ("matches_mat_program_97782f_idx", "selfmatch_m_program_5c35f2_idx"),
    ("matches_mat_status_ee4266_idx", "selfmatch_m_status_6e963f_idx"),
]


def _relabel(apps, schema_editor, *, old, new, tasks):
    database = schema_editor.connection.alias
    content_type = apps.get_model("contenttypes", "ContentType")
    audit_event = apps.get_model("core", "AuditEvent")
    task_result = apps.get_model("django_tasks_database", "DBTaskResult")
    for model in MOVED_MODELS:
        # A content type under the new label exists only if one was created by hand; then
        # the old one is left as it is rather than merged.
        if not content_type.objects.using(database).filter(app_label=new, model=model).exists():
            content_type.objects.using(database).filter(app_label=old, model=model).update(
                app_label=new
            )
        audit_event.objects.using(database).filter(target_type=f"{old}.{model}").update(
            target_type=f"{new}.{model}"
        )
    for before, after in tasks.items():
        task_result.objects.using(database).filter(task_path=before).update(task_path=after)


def forwards(apps, schema_editor):
    _relabel(apps, schema_editor, old="matches", new="selfmatch", tasks=MOVED_TASKS)


def backwards(apps, schema_editor):
    tasks = {after: before for before, after in MOVED_TASKS.items()}
    _relabel(apps, schema_editor, old="selfmatch", new="matches", tasks=tasks)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("connections", "0002_facilitators_take_capacity"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0001_initial"),
        ("django_tasks_database", "0001_initial"),
        ("enrollment", "0003_facilitator_capacity"),
        ("matches", "0004_requests_move_to_selfmatch"),
        ("programs", "0004_allow_repeat_pairs"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The models as matches had them (migration matches 0003), tables included.
            state_operations=[
                migrations.CreateModel(
                    name="MatchRequest",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("message", models.TextField(blank=True, max_length=1000)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("pending", "Waiting for an answer"),
                                    ("accepted", "Accepted"),
                                    ("declined", "Declined"),
                                    ("withdrawn", "Withdrawn"),
                                    ("expired", "Expired"),
                                    ("cancelled", "No longer possible"),
                                ],
                                default="pending",
                                max_length=20,
                            ),
                        ),
                        ("score", models.FloatField(blank=True, null=True)),
                        ("reasons", models.TextField(blank=True)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("expires_at", models.DateTimeField()),
                        ("responded_at", models.DateTimeField(blank=True, null=True)),
                        ("response_note", models.TextField(blank=True, max_length=1000)),
                        ("notified_status", models.CharField(blank=True, max_length=20)),
                        (
                            "connection",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="+",
                                to="connections.connection",
                            ),
                        ),
                        (
                            "program",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="match_requests",
                                to="programs.program",
                            ),
                        ),
                        (
                            "recipient",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="match_requests_received",
                                to="enrollment.participant",
                            ),
                        ),
                        (
                            "requester",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="match_requests_sent",
                                to="enrollment.participant",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created_at", "-id"],
                        "db_table": "matches_matchrequest",
                        "indexes": [
                            models.Index(
                                fields=["recipient", "status", "-created_at"],
                                name="matches_mat_recipie_a2cda7_idx",
                            ),
                            models.Index(
                                fields=["requester", "status", "-created_at"],
                                name="matches_mat_request_8f68dd_idx",
                            ),
                            models.Index(
                                fields=["program", "status", "-created_at"],
                                name="matches_mat_program_97782f_idx",
                            ),
                            models.Index(
                                fields=["status", "expires_at"],
                                name="matches_mat_status_ee4266_idx",
                            ),
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("requester", models.F("recipient")), _negated=True
                                ),
                                name="matches_request_not_self",
                            ),
                            models.UniqueConstraint(
                                django.db.models.functions.comparison.Least(
                                    "requester", "recipient"
                                ),
                                django.db.models.functions.comparison.Greatest(
                                    "requester", "recipient"
                                ),
                                condition=models.Q(("status", "pending")),
                                name="matches_request_one_pending_per_pair",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    (
                                        "status__in",
                                        [
                                            "pending",
                                            "accepted",
                                            "declined",
                                            "withdrawn",
                                            "expired",
                                            "cancelled",
                                        ],
                                    )
                                ),
                                name="matches_request_status_valid",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    models.Q(("status", "pending"), ("responded_at__isnull", True)),
                                    models.Q(
                                        models.Q(("status", "pending"), _negated=True),
                                        ("responded_at__isnull", False),
                                    ),
                                    _connector="OR",
                                ),
                                name="matches_request_responded_when_closed",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("expires_at__gt", models.F("created_at"))),
                                name="matches_request_expires_after_creation",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("connection__isnull", True),
                                    ("status", "accepted"),
                                    _connector="OR",
                                ),
                                name="matches_request_connection_only_when_accepted",
                            ),
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="SelfMatchSettings",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "request_expiry_days",
                            models.PositiveSmallIntegerField(
                                default=7,
                                help_text="Days a request waits for an answer before it expires (1 to 60).",
                                validators=[
                                    django.core.validators.MinValueValidator(1),
                                    django.core.validators.MaxValueValidator(60),
                                ],
                            ),
                        ),
                        (
                            "max_pending_incoming",
                            models.PositiveSmallIntegerField(
                                default=3,
                                help_text="Unanswered requests one person can hold at a time (1 to 20). Beyond it they are not offered to others until they answer, so popular people are not flooded.",
                                validators=[
                                    django.core.validators.MinValueValidator(1),
                                    django.core.validators.MaxValueValidator(20),
                                ],
                            ),
                        ),
                        (
                            "max_pending_outgoing",
                            models.PositiveSmallIntegerField(
                                default=3,
                                help_text="Requests one person can have waiting for answers at a time (1 to 20).",
                                validators=[
                                    django.core.validators.MinValueValidator(1),
                                    django.core.validators.MaxValueValidator(20),
                                ],
                            ),
                        ),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        (
                            "program",
                            models.OneToOneField(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="self_match_settings",
                                to="programs.program",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "matches_selfmatchsettings",
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("request_expiry_days__gte", 1),
                                    ("request_expiry_days__lte", 60),
                                ),
                                name="matches_selfmatch_expiry_range",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("max_pending_incoming__gte", 1),
                                    ("max_pending_incoming__lte", 20),
                                ),
                                name="matches_selfmatch_incoming_range",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(
                                    ("max_pending_outgoing__gte", 1),
                                    ("max_pending_outgoing__lte", 20),
                                ),
                                name="matches_selfmatch_outgoing_range",
                            ),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name="matchrequest", table=None),
        migrations.AlterModelTable(name="selfmatchsettings", table=None),
        *(
            migrations.RenameIndex(model_name="matchrequest", old_name=old, new_name=new)
            for old, new in RENAMED_INDEXES
        ),
        migrations.RunPython(forwards, backwards),
    ]
