"""A separate Django process for tests/events/test_feeds_processes.py, as a gunicorn worker is.

Run as ``python -m tests.events.feed_worker`` from the project's root, with
``WAGTAIL_IOM_TEST_DB_NAME`` naming the database the test prepared. Its cache is Django's
per-process memory (LocMemCache), whatever the settings say. It reads one JSON command a
line on stdin and answers one JSON line on stdout:

``{"op": "get", "url": …, "etag": …}``
    a GET through Django's whole stack (If-None-Match when ``etag`` is given): the status,
    ETag, Last-Modified, the SUMMARY of each VEVENT, and the feed version this process reads;
``{"op": "publish", "pk": …, "title": …}``
    a new revision of the event with that title, published as the admin does;
``{"op": "sign_up", "pk": …, "username": …}``
    a new user signs up for the event through the sign-up service;
``{"op": "quit"}``.
"""

import json
import os
import sys
import traceback

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings.test")

from django.conf import settings  # noqa: E402

settings.DATABASES["default"]["NAME"] = os.environ["WAGTAIL_IOM_TEST_DB_NAME"]
settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402
from icalendar import Calendar  # noqa: E402

from wagtail_iom.events import calendar, signup  # noqa: E402
from wagtail_iom.models import EventPage  # noqa: E402

client = Client()


def get(url, etag=None):
    headers = {"If-None-Match": etag} if etag else {}
    response = client.get(url, headers=headers)
    summaries = None
    if response.status_code == 200:
        summaries = sorted(
            str(vevent["SUMMARY"]) for vevent in Calendar.from_ical(response.content).walk("VEVENT")
        )
    return {
        "status": response.status_code,
        "etag": response.get("ETag"),
        "last_modified": response.get("Last-Modified"),
        "summaries": summaries,
        "version": calendar.feed_version(),
    }


def publish(pk, title):
    page = EventPage.objects.get(pk=pk)
    page.title = title
    page.save_revision().publish()
    return {"version": calendar.feed_version()}


def sign_up(pk, username):
    user = get_user_model().objects.create_user(username=username, password="-")
    result = signup.register(EventPage.objects.get(pk=pk), user)
    return {"outcome": str(result.outcome)}


OPERATIONS = {"get": get, "publish": publish, "sign_up": sign_up}


def main():
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        op = command.pop("op")
        if op == "quit":
            break
        try:
            answer = OPERATIONS[op](**command)
        except Exception:  # reported to the test, which fails with it
            answer = {"error": traceback.format_exc()}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
