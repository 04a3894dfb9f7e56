"""A person's pseudonym becomes a 60-bit integer (counted distinct much faster than a 64-character
string), and every answer carries its response's survey, pseudonym and breakdown fields so that
aggregates read one table. Existing rows are converted losslessly: the integer is the first 15
hex digits of the old HMAC, exactly what keys.person_number computes now."""

import django.db.models.deletion
from django.db import migrations, models


def forwards(apps, schema_editor):
    SurveyResponse = apps.get_model("surveys", "SurveyResponse")
    SurveyAnswer = apps.get_model("surveys", "SurveyAnswer")
    for response in SurveyResponse.objects.all().iterator():
        response.person_number = int(response.person_key[:15], 16)
        response.save(update_fields=["person_number"])
        SurveyAnswer.objects.filter(response_id=response.pk).update(
            survey_id=response.survey_id,
            person_number=response.person_number,
            department_id=response.department_id,
            site_id=response.site_id,
            track_id=response.track_id,
            month=response.month,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("people", "0001_initial"),
        ("programs", "0003_created_by_optional"),
        ("surveys", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="surveyresponse",
            name="person_number",
            field=models.BigIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="surveyanswer",
            name="survey",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="surveys.survey",
            ),
        ),
        migrations.AddField(
            model_name="surveyanswer",
            name="person_number",
            field=models.BigIntegerField(default=0),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="surveyanswer",
            name="department",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="people.department",
            ),
        ),
        migrations.AddField(
            model_name="surveyanswer",
            name="site",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="people.site",
            ),
        ),
        migrations.AddField(
            model_name="surveyanswer",
            name="track",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to="programs.track",
            ),
        ),
        migrations.AddField(
            model_name="surveyanswer",
            name="month",
            field=models.DateField(null=True),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="surveyresponse", name="surveys_sur_survey__161417_idx"),
        migrations.RemoveField(model_name="surveyresponse", name="person_key"),
        migrations.AlterField(
            model_name="surveyanswer",
            name="survey",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE, related_name="+", to="surveys.survey"
            ),
        ),
        migrations.AlterField(
            model_name="surveyanswer",
            name="month",
            field=models.DateField(),
        ),
        migrations.AddIndex(
            model_name="surveyanswer",
            index=models.Index(fields=["survey", "question"], name="surveys_sur_survey__cc9a4c_idx"),
        ),
        migrations.AddIndex(
            model_name="surveyresponse",
            index=models.Index(
                fields=["survey", "person_number"], name="surveys_sur_survey__2bbe48_idx"
            ),
        ),
    ]
