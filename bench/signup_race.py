"""200 teachers press "Sign up" at once for an event with 50 seats, against a live server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wagtail_iom_bench \
        .venv/bin/python bench/signup_race.py [--requests 200] [--seats 50] [--rounds 3]

The server is gunicorn (``pip install gunicorn``; 4 worker processes × 8 threads) when it is
installed, else Django's threaded ``runserver``. Each request is a real POST of the event page's
form by a signed-in teacher (session cookie, CSRF token). Every round resets the event's
sign-ups, fires all requests at once from as many client threads, and prints requests per
second, the median and p95 latency, and how many seats were confirmed: exactly ``--seats``,
the rest on the waiting list, no errors — otherwise the bench stops with a failure.

PostgreSQL only: SQLite serialises writers anyway, so a race there proves nothing.
"""

import argparse
import http.client
import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.run import BenchFailure, configure_database, percentile  # noqa: E402

EVENT_SLUG = "bench-signup-race"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(count, seats):
    """The event with ``seats`` seats, ``count`` teachers and a signed-in session for each."""
    import datetime

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from wagtail.models import Page, Site

    from tests.factories import make_event, make_resource_map, make_teacher
    from wagtail_iom.models import EventPage, ResourceMapPage, TeacherProfile

    call_command("migrate", verbosity=0)
    site = Site.objects.filter(is_default_site=True).first()
    root = site.root_page if site else Page.get_first_root_node()
    resource_map = ResourceMapPage.objects.filter(slug="bench-race-map").first()
    if resource_map is None:
        resource_map = make_resource_map(parent=root, slug="bench-race-map")
    event = EventPage.objects.filter(slug=EVENT_SLUG).first()
    if event is None:
        day = datetime.date.today() + datetime.timedelta(days=30)
        event = make_event(
            resource_map,
            slug=EVENT_SLUG,
            title="Семинар для замера записи",
            capacity=seats,
            sessions=[(day, datetime.time(10), datetime.time(12))],
        )
    elif event.capacity != seats:
        EventPage.objects.filter(pk=event.pk).update(capacity=seats)
    profiles = list(
        TeacherProfile.objects.filter(user__username__startswith="race-").order_by("pk")[:count]
    )
    for number in range(len(profiles), count):
        profiles.append(make_teacher(username=f"race-{number:04d}", last_name=f"Гонка{number}"))
    cookies = []
    for profile in profiles:
        session = SessionStore()
        session[SESSION_KEY] = str(profile.user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = profile.user.get_session_auth_hash()
        session.create()
        cookies.append(session.session_key)
    return event, cookies


def start_server(port):
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    try:
        import gunicorn  # noqa: F401

        command = [
            sys.executable, "-m", "gunicorn", "sandbox.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", "4", "--threads", "8",
            "--worker-class", "gthread", "--log-level", "warning",
        ]  # fmt: skip
        kind = "gunicorn, 4 workers × 8 threads"
    except ImportError:
        command = [
            sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload",
        ]  # fmt: skip
        kind = "Django runserver (threaded)"
    process = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL)  # noqa: S603
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, kind
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise BenchFailure("the server did not start")


def post_signup(port, path, session_key, barrier):
    csrf = secrets.token_hex(16)  # a 32-character secret, accepted as cookie and form value
    body = f"csrfmiddlewaretoken={csrf}"
    headers = {
        "Cookie": f"sessionid={session_key}; csrftoken={csrf}",
        "Content-Type": "application/x-www-form-urlencoded",
        "Host": "localhost",
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.connect()
    barrier.wait()
    started = time.perf_counter()
    connection.request("POST", path, body=body, headers=headers)
    response = connection.getresponse()
    response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    return response.status, elapsed


def run_round(port, event, cookies):
    from django.urls import reverse

    from wagtail_iom.models import Registration

    Registration.objects.filter(event=event).delete()
    path = reverse("wagtail_iom:event_signup", args=[event.pk])
    barrier = threading.Barrier(len(cookies))
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(cookies)) as pool:
        results = list(pool.map(lambda key: post_signup(port, path, key, barrier), cookies))
    wall = time.perf_counter() - started
    statuses = [status for status, _ in results]
    latencies = sorted(elapsed * 1000 for _, elapsed in results)
    counts = dict(
        Registration.objects.filter(event=event)
        .values_list("status")
        .annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("pk"))
    )
    return {
        "rps": len(results) / wall,
        "median": statistics.median(latencies),
        "p95": percentile(latencies, 0.95),
        "errors": sum(1 for s in statuses if s != 302),
        "statuses": sorted(set(statuses)),
        "counts": counts,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seats", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        print("Set DATABASE_URL to a PostgreSQL database: the race needs real concurrency.")
        return 2
    configure_database()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings.test")
    import django

    django.setup()
    event, cookies = prepare(args.requests, args.seats)
    port = free_port()
    os.environ["DJANGO_SETTINGS_MODULE"] = os.environ.get(
        "DJANGO_SETTINGS_MODULE", "sandbox.settings.test"
    )
    process, kind = start_server(port)
    print(f"{args.requests} sign-ups at once for {args.seats} seats; server: {kind}")
    try:
        for number in range(1, args.rounds + 1):
            result = run_round(port, event, cookies)
            confirmed = result["counts"].get("confirmed", 0)
            waiting = result["counts"].get("waitlisted", 0)
            print(
                f"round {number}: {result['rps']:.0f} requests/s, median {result['median']:.0f} ms,"
                f" p95 {result['p95']:.0f} ms, confirmed {confirmed}, waiting {waiting},"
                f" errors {result['errors']}"
            )
            if confirmed != args.seats or waiting != args.requests - args.seats or result["errors"]:
                raise BenchFailure(f"the capacity did not hold: {result}")
    finally:
        process.terminate()
        process.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
