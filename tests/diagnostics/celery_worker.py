"""A real Celery worker for tests/diagnostics/test_import_worker.py, in its own process, as
production runs one: ``python -m tests.diagnostics.celery_worker``.

It uses the test's database (``WAGTAIL_IOM_TEST_DB_NAME``), the broker of
``CELERY_BROKER_URL`` (Redis in CI), and consumes only the queue ``IOM_TEST_QUEUE``, so that
no other worker takes the test's tasks and it takes no one else's.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings.test")

from django.conf import settings  # noqa: E402

settings.DATABASES["default"]["NAME"] = os.environ["WAGTAIL_IOM_TEST_DB_NAME"]

import django  # noqa: E402

django.setup()

from sandbox.celery import app  # noqa: E402

QUEUE = os.environ["IOM_TEST_QUEUE"]
app.conf.task_always_eager = False
app.conf.broker_url = os.environ["CELERY_BROKER_URL"]
app.conf.task_default_queue = QUEUE

if __name__ == "__main__":
    app.worker_main(
        [
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            f"--queues={QUEUE}",
            f"--hostname={QUEUE}@%h",
        ]
    )
