"""Feeds stay correct across processes: two real Python processes share one database.

Each process (tests/events/feed_worker.py) has its own in-memory cache, as gunicorn's workers
have with Django's default cache. Process A reads a feed; process B publishes a change, or a
teacher signs up there; A must serve the new feed at once, not its cached one and not a 304
for the old ETag. This fails when the feed version lives in a per-process cache: A never
hears of B's change until its cached feed expires.

On SQLite the test's in-memory database is copied to a file first (SQLite's backup API), so
the workers share it; with DATABASE_URL set to PostgreSQL they use the test database itself.
"""

import json
import os
import queue
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import make_event, make_resource_map

ROOT = Path(__file__).resolve().parents[2]

# transaction: the workers must see what the test creates, so it is committed.
# serialized_rollback: the flush after the test would also empty what the migrations created
# (the root page, the default site, the feed versions); this puts it back for later tests.
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ANSWER_TIMEOUT = 60  # seconds: a worker starts Django, then answers within milliseconds


class Worker:
    """One ``python -m tests.events.feed_worker`` process."""

    def __init__(self, name, database_name, log_dir):
        self.name = name
        self.log = log_dir / f"{name}.log"
        env = {**os.environ, "WAGTAIL_IOM_TEST_DB_NAME": database_name}
        env.pop("DJANGO_SETTINGS_MODULE", None)  # the worker's own default: the test settings
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.events.feed_worker"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        self.answers = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.answers.put(line)
        self.answers.put(None)

    def answer(self):
        try:
            line = self.answers.get(timeout=ANSWER_TIMEOUT)
        except queue.Empty:
            line = None
        if line is None:
            pytest.fail(f"worker {self.name} did not answer:\n{self.log.read_text()[-3000:]}")
        answer = json.loads(line)
        if "error" in answer:
            pytest.fail(f"worker {self.name} failed:\n{answer['error']}")
        return answer

    def __call__(self, op, **arguments):
        self.process.stdin.write(json.dumps({"op": op, **arguments}) + "\n")
        self.process.stdin.flush()
        return self.answer()

    def stop(self):
        if self.process.poll() is None:
            try:
                self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
                self.process.stdin.close()
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


@pytest.fixture
def shared_database(tmp_path):
    """The name of a database that other processes can open, holding what the test made."""

    def share():
        if connection.vendor == "postgresql":
            return connection.settings_dict["NAME"]
        if connection.vendor != "sqlite":
            pytest.skip(f"no way to share a {connection.vendor} test database yet")
        path = tmp_path / "shared.sqlite3"
        connection.ensure_connection()
        target = sqlite3.connect(path)
        try:
            connection.connection.backup(target)
        finally:
            target.close()
        return str(path)

    return share


@pytest.fixture
def workers(shared_database, tmp_path):
    started = []

    def start(*names):
        database_name = shared_database()
        for name in names:
            started.append(Worker(name, database_name, tmp_path))
        for worker in started:
            assert worker.answer() == {"ready": True}
        return started

    yield start
    for worker in started:
        worker.stop()
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_a_change_made_by_one_process_is_served_at_once_by_another(workers):
    resource_map = make_resource_map()
    event = make_event(resource_map, title="Было", capacity=1)
    feed = resource_map.url + resource_map.reverse_subpage("feed")
    free_seats = feed + "?free_seats=on"
    a, b = workers("a", "b")

    first = a("get", url=feed)
    assert first["status"] == 200 and first["summaries"] == ["Было"]
    # Equal feeds built by two processes carry the same validators.
    seen_by_b = b("get", url=feed)
    assert (seen_by_b["etag"], seen_by_b["last_modified"]) == (
        first["etag"],
        first["last_modified"],
    )
    assert a("get", url=free_seats)["summaries"] == ["Было"]

    published = b("publish", pk=event.pk, title="Стало")

    # A's cache holds the old feed; the version it reads from the database has moved.
    after = a("get", url=feed, etag=first["etag"])
    assert after["status"] == 200, "A answered 304 for the feed as it was before B published"
    assert after["summaries"] == ["Стало"]
    assert after["version"] == published["version"] != first["version"]
    assert after["etag"] != first["etag"]
    seen_by_b = b("get", url=feed)
    assert (seen_by_b["etag"], seen_by_b["last_modified"]) == (
        after["etag"],
        after["last_modified"],
    )
    free = a("get", url=free_seats)
    assert free["summaries"] == ["Стало"]

    # A sign-up in B takes the last seat: A's free-seat feed changes, its other feeds do not.
    assert b("sign_up", pk=event.pk, username="teacher")["outcome"] == "confirmed"
    full = a("get", url=free_seats, etag=free["etag"])
    assert full["status"] == 200 and full["summaries"] == []
    assert a("get", url=feed, etag=after["etag"])["status"] == 304
