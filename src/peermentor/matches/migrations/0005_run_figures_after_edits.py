from django.db import migrations, models
from django.db.models import F


def keep_engine_figures(apps, schema_editor):
    """Runs stored before hand edits were counted: their figures are the engine's own."""
    MatchRun = apps.get_model("matches", "MatchRun")
    MatchRun.objects.update(
        engine_total_score=F("total_score"), engine_placed_count=F("placed_count")
    )


class Migration(migrations.Migration):
    dependencies = [("matches", "0004_requests_move_to_selfmatch")]

    operations = [
        migrations.AddField(
            model_name="matchrun",
            name="engine_total_score",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="matchrun",
            name="engine_placed_count",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="matchrun",
            name="edited_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(keep_engine_figures, migrations.RunPython.noop),
    ]
