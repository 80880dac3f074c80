"""200 teachers press "Sign up" at once for an event with 50 seats, against a live server.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wagtail_iom_bench \
        .venv/bin/python bench/signup_race.py [--requests 200] [--seats 50] [--rounds 3]
        [--warmup 1] [--workers 4] [--threads 8]
        [--broker redis://127.0.0.1:6379/14 | --eager] [--drain-timeout 60]

The server is gunicorn (``pip install gunicorn``; ``--workers`` processes × ``--threads``
threads, 4 × 8) when it is installed, else Django's threaded ``runserver``. Each request is a
real POST of the event page's form by a signed-in teacher (session cookie, CSRF token, and the
page to come back to as ``next``).

E-mails leave the request, as in production: the bench starts a Celery worker
(``celery -A sandbox worker``, prefork, 2 processes) on the broker given by ``--broker``
(default: ``CELERY_BROKER_URL``, else Redis database 14 on this machine), waits until it
answers a ping, and gives the server and the worker the same broker and database. With
``--eager`` there is no broker and no worker: the server sends each e-mail inside the request
(the demo site's way, and the figures before the worker was used). Settings are
``bench.settings``: the test settings, with e-mails written one file each into a temporary
folder that the server, the worker and the bench share.

Every round resets the event's sign-ups, fires all requests at once from as many client
threads, and prints requests per second, the median and p95 latency, how many seats were
confirmed, how long after the last response the worker had sent every e-mail (the
confirmations and the waiting-list notices: one per sign-up), and the CPU time the server, the
worker, the database, the bench and the rest of the machine used meanwhile. The bench stops
with a failure unless exactly ``--seats`` are confirmed, the rest wait, every response is the
redirect back to the event, and each sign-up's e-mail was sent, once, within
``--drain-timeout`` seconds. The ``--warmup`` rounds come first and are checked but not counted:
each server thread connects and loads what it needs on its first request.

PostgreSQL only: SQLite serialises writers anyway, so a race there proves nothing.
"""

import argparse
import http.client
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.run import BenchFailure, configure_database, percentile  # noqa: E402

EVENT_SLUG = "bench-signup-race"
SETTINGS = "bench.settings"
DEFAULT_BROKER = "redis://127.0.0.1:6379/14"
# The e-mail a sign-up sends, by the status it ends in (see wagtail_iom.cabinet.views).
EMAIL_KINDS = {"confirmed": "registered", "waitlisted": "waitlisted"}


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
    if any(not profile.user.email for profile in profiles):
        raise BenchFailure("every teacher of the race needs an e-mail address")
    cookies = []
    for profile in profiles:
        session = SessionStore()
        session[SESSION_KEY] = str(profile.user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = profile.user.get_session_auth_hash()
        session.create()
        cookies.append(session.session_key)
    return event, [profile.user_id for profile in profiles], cookies


def child_env():
    """The server's and the worker's environment: this process's (database, broker, settings,
    e-mail folder), with the repository importable."""
    return {**os.environ, "PYTHONPATH": str(REPO)}


def stop(process, timeout=30):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def start_server(port, workers=4, threads=8):
    try:
        import gunicorn  # noqa: F401

        command = [
            sys.executable, "-m", "gunicorn", "sandbox.wsgi:application",
            "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads),
            "--worker-class", "gthread", "--log-level", "warning",
        ]  # fmt: skip
        kind = f"gunicorn, {workers} workers × {threads} threads"
    except ImportError:
        command = [
            sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload",
        ]  # fmt: skip
        kind = "Django runserver (threaded)"
    process = subprocess.Popen(  # noqa: S603
        command, cwd=REPO, env=child_env(), stdout=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, kind
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.2)
    stop(process)
    raise BenchFailure("the server did not start")


def start_worker(log_path):
    """A Celery worker of the demo site's app on the bench's broker; returns once it answers
    a ping (at most 60 s)."""
    from celery import current_app

    # What an interrupted run left in the queue would be sent now, and counted in this run.
    current_app.control.purge()
    hostname = f"signup-race-{os.getpid()}@%h"
    command = [
        sys.executable, "-m", "celery", "-A", "sandbox", "worker", "--pool", "prefork",
        "--concurrency", "2", "--loglevel", "warning", "--hostname", hostname,
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    with open(log_path, "w") as log:  # the worker keeps its own copy of the file
        process = subprocess.Popen(  # noqa: S603
            command, cwd=REPO, env=child_env(), stdout=log, stderr=subprocess.STDOUT
        )
    destination = [hostname.replace("%h", socket.gethostname())]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        if current_app.control.ping(destination=destination, timeout=0.5):
            return process
    stop(process)
    raise BenchFailure(f"the Celery worker did not start:\n{Path(log_path).read_text()[-3000:]}")


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_tree(pid):
    """``pid`` and all its descendants (Linux: /proc)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo.extend(int(child) for child in task.read_text().split())
            except OSError:
                pass
    return found


def cpu_seconds(pids):
    """``{pid: CPU time (user + system) used so far}`` of the processes ``pids`` that run."""
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime
    return found


def machine_busy_seconds():
    """CPU time all processes of the machine used so far, summed over its cores."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / CLOCK_TICKS


def cpu_snapshot(processes):
    """CPU seconds used so far by part, each ``{pid: seconds}``: ``processes`` maps a name to a
    Popen (with its children); "database" is the PostgreSQL backends of the bench database,
    "bench" this process (its client threads), "machine" all processes of the machine."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
        backends = [pid for (pid,) in cursor.fetchall()]
    times = os.times()
    snapshot = {name: cpu_seconds(process_tree(p.pid)) for name, p in processes.items()}
    snapshot["database"] = cpu_seconds(backends)
    snapshot["bench"] = {0: times.user + times.system}
    snapshot["machine"] = {0: machine_busy_seconds()}
    return snapshot


def cpu_used(before, after):
    """Seconds of CPU by part between two snapshots (a process started in between counts
    from 0; one that ended is left out)."""
    return {
        part: sum(seconds - before[part].get(pid, 0) for pid, seconds in after[part].items())
        for part in after
    }


def post_signup(port, path, back, session_key, barrier):
    csrf = secrets.token_hex(16)  # a 32-character secret, accepted as cookie and form value
    # What the event page's form sends: the token and the page to come back to.
    body = urlencode({"csrfmiddlewaretoken": csrf, "next": back})
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


def expected_emails(event):
    """``{(kind, registration pk)}`` of the e-mails the round's sign-ups must have sent."""
    from wagtail_iom.models import Registration

    return {
        (EMAIL_KINDS[status], pk)
        for pk, status in Registration.objects.filter(event=event).values_list("pk", "status")
        if status in EMAIL_KINDS
    }


def sent_emails(user_ids, since):
    """``[(kind, registration pk)]`` of the sign-up e-mails sent to the race's teachers since
    ``since`` (one SentNotification each: ``<kind>:<registration pk>:<occasion>``)."""
    from wagtail_iom.core.models import SentNotification

    keys = SentNotification.objects.filter(
        kind__in=EMAIL_KINDS.values(), user_id__in=user_ids, sent_at__gte=since
    ).values_list("key", flat=True)
    return [(kind, int(pk)) for kind, pk, _occasion in (key.split(":", 2) for key in keys)]


def wait_for_emails(expected, user_ids, since, mail_dir, responded, timeout):
    """Seconds from ``responded`` (the last response) until every expected e-mail is recorded
    as sent and written out."""
    deadline = time.perf_counter() + timeout
    while True:
        sent = sent_emails(user_ids, since)
        files = sum(1 for _ in mail_dir.glob("*.eml"))
        if set(sent) >= expected and files >= len(expected):
            break
        if time.perf_counter() > deadline:
            raise BenchFailure(
                f"after {timeout} s, {len(set(sent) & expected)} of {len(expected)} e-mails"
                f" were sent ({files} files written)"
            )
        time.sleep(0.05)
    drained = time.perf_counter() - responded
    if len(sent) != len(set(sent)) or set(sent) != expected or files != len(expected):
        raise BenchFailure(
            f"{len(expected)} e-mails expected, {len(sent)} sent"
            f" ({len(set(sent) - expected)} unexpected), {files} files written"
        )
    return drained


def run_round(port, event, user_ids, cookies, mail_dir, drain_timeout, processes):
    from django.db.models import Count
    from django.urls import reverse
    from django.utils import timezone

    from wagtail_iom.models import Registration

    Registration.objects.filter(event=event).delete()
    for path in mail_dir.iterdir():
        path.unlink()
    since = timezone.now()
    path = reverse("wagtail_iom:event_signup", args=[event.pk])
    back = event.url
    barrier = threading.Barrier(len(cookies))
    cpu_before = cpu_snapshot(processes)
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(cookies)) as pool:
        results = list(pool.map(lambda key: post_signup(port, path, back, key, barrier), cookies))
    responded = time.perf_counter()
    cpu_after = cpu_snapshot(processes)
    wall = responded - started
    statuses = [status for status, _ in results]
    latencies = sorted(elapsed * 1000 for _, elapsed in results)
    counts = dict(
        Registration.objects.filter(event=event).values_list("status").annotate(n=Count("pk"))
    )
    expected = expected_emails(event)
    drained = wait_for_emails(expected, user_ids, since, mail_dir, responded, drain_timeout)
    return {
        "rps": len(results) / wall,
        "median": statistics.median(latencies),
        "p95": percentile(latencies, 0.95),
        "errors": sum(1 for s in statuses if s != 302),
        "statuses": sorted(set(statuses)),
        "counts": counts,
        "emails": len(expected),
        "drained": drained,
        "wall": wall,
        "cpu": cpu_used(cpu_before, cpu_after),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seats", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="rounds run and checked first but not counted: the server's processes and"
        " threads connect and load what they need on their first requests",
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn's worker processes")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn's threads per worker")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--broker",
        default=os.environ.get("CELERY_BROKER_URL") or DEFAULT_BROKER,
        help="the Celery broker of the server and the worker (default: CELERY_BROKER_URL,"
        f" else {DEFAULT_BROKER})",
    )
    mode.add_argument(
        "--eager", action="store_true", help="no broker, no worker: e-mails sent in the request"
    )
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=60,
        help="seconds the e-mails of a round may take to be sent after its last response",
    )
    args = parser.parse_args(argv)
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        print("Set DATABASE_URL to a PostgreSQL database: the race needs real concurrency.")
        return 2
    # Read by this process's settings and inherited by the server's and the worker's.
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    os.environ["CELERY_BROKER_URL"] = "" if args.eager else args.broker
    mail_dir = Path(tempfile.mkdtemp(prefix="signup-race-mail-"))
    os.environ["BENCH_EMAIL_DIR"] = str(mail_dir)
    processes = {}
    try:
        configure_database()
        import django

        django.setup()
        from django.conf import settings

        if settings.CELERY_TASK_ALWAYS_EAGER != args.eager:
            raise BenchFailure(f"{SETTINGS} did not take the broker from CELERY_BROKER_URL")
        event, user_ids, cookies = prepare(args.requests, args.seats)
        if args.eager:
            tasks = "Celery eager: e-mails sent inside the request"
        else:
            processes["worker"] = start_worker(mail_dir.with_name(mail_dir.name + "-worker.log"))
            tasks = f"Celery worker (prefork, 2 processes) on {args.broker}"
        port = free_port()
        processes["server"], kind = start_server(port, args.workers, args.threads)
        print(f"{args.requests} sign-ups at once for {args.seats} seats; server: {kind}; {tasks}")
        for number in range(1 - args.warmup, args.rounds + 1):
            result = run_round(
                port, event, user_ids, cookies, mail_dir, args.drain_timeout, processes
            )
            confirmed = result["counts"].get("confirmed", 0)
            waiting = result["counts"].get("waitlisted", 0)
            label = f"round {number}" if number > 0 else "warm-up"
            print(
                f"{label}: {result['rps']:.0f} requests/s, median {result['median']:.0f} ms,"
                f" p95 {result['p95']:.0f} ms, confirmed {confirmed}, waiting {waiting},"
                f" errors {result['errors']}; {result['emails']} e-mails sent"
                f" {result['drained']:.1f} s after the last response"
            )
            cpu = result["cpu"]
            others = cpu["machine"] - sum(v for k, v in cpu.items() if k != "machine")
            print(
                f"  CPU during the requests ({result['wall']:.1f} s × {os.cpu_count()} cores"
                f" = {result['wall'] * os.cpu_count():.1f} s): "
                + ", ".join(f"{k} {v:.1f} s" for k, v in cpu.items() if k != "machine")
                + f", other processes {others:.1f} s"
            )
            if confirmed != args.seats or waiting != args.requests - args.seats or result["errors"]:
                raise BenchFailure(f"the capacity did not hold: {result}")
    finally:
        for process in reversed(processes.values()):
            stop(process)
        shutil.rmtree(mail_dir, ignore_errors=True)
        mail_dir.with_name(mail_dir.name + "-worker.log").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
