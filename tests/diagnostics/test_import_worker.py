"""An import of diagnostics results applied by a real Celery worker on the broker, in its own
process, as in production: the web process only enqueues the chunks; the worker writes the
results, finishes the import and drafts the route (PostgreSQL and a broker: the CI run)."""

import datetime
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from celery import current_app
from django.db import connection
from django.utils import timezone

from tests.factories import SchoolFactory, UserFactory, make_teacher
from wagtail_iom.diagnostics import importing
from wagtail_iom.models import DiagnosticImport, DiagnosticImportStatus, DiagnosticResult, Route

ROOT = Path(__file__).resolve().parents[2]

# transaction: the worker must see what the test creates, so it is committed.
# serialized_rollback: the flush after the test would also empty what the migrations created.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (
            os.environ.get("CELERY_BROKER_URL")
            and os.environ.get("DATABASE_URL", "").startswith("postgres")
        ),
        reason="A real worker needs PostgreSQL and a broker: run with DATABASE_URL=postgres://… "
        "and CELERY_BROKER_URL=redis://…",
    ),
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

WAIT_SECONDS = 120


@pytest.fixture
def worker(tmp_path):
    broker = os.environ["CELERY_BROKER_URL"]
    queue = f"iom-test-{uuid.uuid4().hex[:10]}"
    log = tmp_path / "worker.log"
    env = {
        **os.environ,
        "WAGTAIL_IOM_TEST_DB_NAME": connection.settings_dict["NAME"],
        "IOM_TEST_QUEUE": queue,
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.diagnostics.celery_worker"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    conf = current_app.conf
    saved = (conf.task_always_eager, conf.task_default_queue, conf.broker_url)
    conf.task_always_eager, conf.task_default_queue, conf.broker_url = False, queue, broker
    try:
        yield {"process": process, "log": log}
    finally:
        conf.task_always_eager, conf.task_default_queue, conf.broker_url = saved
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def wait_for(job, log):
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (DiagnosticImportStatus.APPLIED, DiagnosticImportStatus.FAILED):
            return job
        time.sleep(0.5)
    pytest.fail(f"the import was not applied in {WAIT_SECONDS} s:\n{log.read_text()[-4000:]}")


def test_a_real_worker_applies_the_import_and_drafts_the_route(worker, settings):
    settings.WAGTAIL_IOM = {"DIAGNOSTICS_IMPORT_CHUNK_SIZE": 2}
    school = SchoolFactory()
    teachers = [
        make_teacher(username=f"w{index}", school=school, municipality=school.municipality)
        for index in range(3)
    ]
    for index, teacher in enumerate(teachers):
        teacher.user.email = f"worker-{index}@example.org"
        teacher.user.save()
    day = (timezone.localdate() - datetime.timedelta(days=2)).strftime("%d.%m.%Y")
    rows = "".join(f"worker-{i}@example.org;regional;{day};35;low;20\n" for i in range(3))
    content = ("email;procedure;date;total score;level;SUBJ-1\n" + rows).encode()
    job = importing.create_preview(content, "results.csv", UserFactory(username="importer"))

    importing.start_apply(job)  # enqueues two chunks on commit (autocommit here: at once)
    # The web process only enqueued: nothing is written before the worker takes the chunks.
    job = wait_for(DiagnosticImport.objects.get(pk=job.pk), worker["log"])

    assert job.status == DiagnosticImportStatus.APPLIED, worker["log"].read_text()[-4000:]
    assert importing.progress(job)["percent"] == 100
    assert DiagnosticResult.objects.filter(teacher__in=teachers).count() == 3
    log = worker["log"].read_text()
    assert log.count("apply_diagnostic_import_chunk") >= 2
    # The worker drafts the routes after the last chunk (a task it enqueues itself).
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if Route.objects.filter(teacher__in=teachers, source="diagnostics").count() == 3:
            break
        time.sleep(0.5)
    assert Route.objects.filter(teacher__in=teachers, source="diagnostics").count() == 3, worker[
        "log"
    ].read_text()[-4000:]
