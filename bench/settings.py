"""Settings of the live-server bench (bench/signup_race.py): the test settings, except that
Celery and e-mail work across processes.

* Celery sends tasks to the broker named by ``CELERY_BROKER_URL`` when it is set (a worker
  process runs them), and runs them in the web process when it is empty, as the demo site does;
  the test settings always run them in place.
* E-mails are written as files into ``BENCH_EMAIL_DIR``, one file per e-mail (see
  bench/mailfiles.py), which the bench, the server and the worker share; the test settings keep
  them in one process's memory.
"""

import os

from sandbox.settings.test import *  # noqa: F403
from sandbox.settings.test import BASE_DIR

CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL

EMAIL_BACKEND = "bench.mailfiles.OneFilePerMessageBackend"
EMAIL_FILE_PATH = os.environ.get("BENCH_EMAIL_DIR") or str(BASE_DIR / "var" / "bench-mail")
