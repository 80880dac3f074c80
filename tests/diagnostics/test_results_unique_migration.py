"""The migration that makes results unique per teacher, procedure and date merges the
duplicates a database already holds, keeping what they scored."""

import datetime

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

APP = "wagtail_iom"
BEFORE = (APP, "0013_personal_data_access")
MIGRATION = (APP, "0014_diagnostic_imports")


@pytest.fixture
def executor():
    executor = MigrationExecutor(connection)
    yield executor
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_duplicates_are_merged_into_the_last_entered(executor):
    old = executor.migrate([BEFORE]).apps
    User = old.get_model(settings.AUTH_USER_MODEL)
    Consent = old.get_model(APP, "PersonalDataConsent")
    Profile = old.get_model(APP, "TeacherProfile")
    Result = old.get_model(APP, "DiagnosticResult")
    Score = old.get_model(APP, "CompetencyScore")
    Competency = old.get_model(APP, "Competency")
    user = User.objects.create(username="dup@example.org", email="dup@example.org")
    consent = Consent.objects.create(
        user=user, consent_version="t", consent_text="t", text_sha256="0" * 64
    )
    teacher = Profile.objects.create(user=user, consent=consent, last_name="А", first_name="Б")
    day = datetime.date(2026, 10, 1)
    subj, meth, dig = (Competency.objects.get(code=c) for c in ("SUBJ-1", "METH-1", "DIG-1"))
    values = {"teacher": teacher, "procedure": "regional", "date": day, "level": "basic"}
    first = Result.objects.create(total_score=40, comment="Первый", **values)
    Score.objects.create(result=first, competency=subj, score=10)
    Score.objects.create(result=first, competency=meth, score=20)
    last = Result.objects.create(total_score=60, comment="Второй", **values)
    Score.objects.create(result=last, competency=subj, score=50)
    Score.objects.create(result=last, competency=dig, score=70)
    other_day = Result.objects.create(
        total_score=1, **{**values, "date": day - datetime.timedelta(days=1)}
    )

    executor.loader.build_graph()
    new = executor.migrate([MIGRATION]).apps
    Result = new.get_model(APP, "DiagnosticResult")
    Score = new.get_model(APP, "CompetencyScore")
    assert set(Result.objects.values_list("pk", flat=True)) == {last.pk, other_day.pk}
    kept = Result.objects.get(pk=last.pk)
    assert kept.total_score == 60
    assert kept.comment == "Второй\n\nПервый"
    scores = dict(Score.objects.filter(result_id=last.pk).values_list("competency__code", "score"))
    assert scores == {"SUBJ-1": 50, "METH-1": 20, "DIG-1": 70}
