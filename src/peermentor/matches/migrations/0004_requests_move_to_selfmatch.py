"""Self-match requests became their own app: the models leave this app's state only. Their
tables, rows, content types and audit history move to `selfmatch` in its migration 0001,
which runs after this one."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("matches", "0003_match_requests"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="MatchRequest"),
                migrations.DeleteModel(name="SelfMatchSettings"),
            ],
            database_operations=[],
        ),
    ]
