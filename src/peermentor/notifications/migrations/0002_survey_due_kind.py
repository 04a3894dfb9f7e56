from django.db import migrations, models

KINDS = [
    ("stalled_connection", "Connections that have not met for a while"),
    ("request_waiting", "Requests and proposals waiting for your answer"),
    ("plan_behind", "Plans falling behind"),
    ("ending_soon", "Connections ending soon"),
    ("check_in_due", "Check-ins due"),
    ("survey_due", "Surveys to answer"),
    ("help_network", "Help network: asks, offers and thanks"),
]


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="notification",
            name="kind",
            field=models.CharField(choices=KINDS, max_length=30),
        ),
        migrations.RemoveConstraint(
            model_name="notification",
            name="notifications_notification_kind_valid",
        ),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.CheckConstraint(
                condition=models.Q(("kind__in", [value for value, _ in KINDS])),
                name="notifications_notification_kind_valid",
            ),
        ),
    ]
