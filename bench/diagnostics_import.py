"""Bench of a regional diagnostics import with route drafts, as production runs it:
``python -m bench.diagnostics_import [--rows 51000] [--broker redis://127.0.0.1:6379/15]``.

PostgreSQL only (``DATABASE_URL``). The bench builds, once, the region's directory (62
municipalities, 2,000 schools), 2,000 upcoming events and ``--rows`` registered teachers, and a
CSV of one regional diagnostic: one row per teacher, a score for each of the 18 competencies of
the default framework. Each run first deletes what the previous run imported and drafted.

Then, as the admin does:

1. **upload and preview**, in this process (the web process's part): the file is read,
   checked and planned, and kept with its preview;
2. **apply**, in this process: the invitations and the chunks are created and their tasks
   sent to the broker;
3. a real **Celery worker** (``celery -A sandbox worker``, prefork, 2 processes, as many as the
   machine has cores) writes the chunks and then builds the route drafts.

It reports rows per second end to end (from the apply to the last draft), the time to the
import's end and to the last draft, the peak memory (resident set) of this process during each
step and of the worker's processes, and the queries one chunk makes for two chunk sizes (in
this process, rolled back), which must be the same.
"""

import argparse
import datetime
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.run import BenchFailure, Rollback, configure_database  # noqa: E402
from bench.signup_race import DEFAULT_BROKER, process_tree, start_worker, stop  # noqa: E402

SETTINGS = "bench.settings"


def _status_kb(pid, key):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return 0
    return 0


def reset_peak(pid="self"):
    """Start measuring the peak resident set of ``pid`` anew (Linux: ``clear_refs``)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_mb(pid="self"):
    return _status_kb(pid, "VmHWM") / 1024


def rss_mb(pid="self"):
    return _status_kb(pid, "VmRSS") / 1024


def prepare(rows):
    from django.core.management import call_command

    from bench import generate

    call_command("migrate", verbosity=0)
    directory = generate.generate_directory(62, 2_000)
    generate.generate_events(2_000, 62, rebuild=directory["created"])
    teachers = generate.generate_teachers(rows)
    generate.analyze()
    return teachers


def delete_previous_run():
    """What an earlier run imported and drafted for the bench's teachers, without Django's
    collector (one statement per table)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from wagtail.models import Revision

    from bench.generate import DIAGNOSTICS_USER_PREFIX, _raw_delete
    from wagtail_iom.models import (
        CompetencyScore,
        DiagnosticImport,
        DiagnosticResult,
        Route,
        TeacherLogEntry,
    )

    teachers = {"teacher__user__username__startswith": DIAGNOSTICS_USER_PREFIX}
    with transaction.atomic():
        routes = Route.objects.filter(**teachers)
        route_ids = [str(pk) for pk in routes.values_list("pk", flat=True)]
        content_type = ContentType.objects.get_for_model(Route)
        for start in range(0, len(route_ids), 5_000):
            ids = route_ids[start : start + 5_000]
            Route.objects.filter(pk__in=ids).update(latest_revision=None)
            _raw_delete(Revision.objects.filter(content_type=content_type, object_id__in=ids))
        try:
            from wagtail.search.backends.database.models import IndexEntry
        except ImportError:  # another search backend
            IndexEntry = None
        if IndexEntry is not None:
            _raw_delete(IndexEntry.objects.filter(content_type=content_type))
        _raw_delete(
            TeacherLogEntry.objects.filter(
                teacher__user__username__startswith=DIAGNOSTICS_USER_PREFIX
            )
        )
        for relation in Route._meta.related_objects:
            if relation.one_to_many or relation.one_to_one:
                _raw_delete(
                    relation.related_model.objects.filter(**{f"{relation.field.name}__in": routes})
                )
        _raw_delete(routes)
        _raw_delete(
            CompetencyScore.objects.filter(result__in=DiagnosticResult.objects.filter(**teachers))
        )
        _raw_delete(DiagnosticResult.objects.filter(**teachers))
        DiagnosticImport.objects.all().delete()


def chunk_queries(content, file_name, sizes):
    """The queries of one chunk for each chunk size of ``sizes``, each in a transaction rolled
    back: the import of the first rows of ``content`` is previewed, applied and its first chunk
    written, as the worker would write it."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext, override_settings

    from wagtail_iom.diagnostics import importing

    lines = content.decode("utf-8").splitlines()
    found = {}
    for size in sizes:
        sample = "\n".join(lines[: size + 1]).encode("utf-8")
        try:
            with (
                transaction.atomic(),
                override_settings(WAGTAIL_IOM={"DIAGNOSTICS_IMPORT_CHUNK_SIZE": size}),
            ):
                job = importing.create_preview(sample, file_name, None)
                job = importing.start_apply(job)
                with CaptureQueriesContext(connection) as queries:
                    importing.apply_chunk(job.pk, 0)
                found[size] = len(queries.captured_queries)
                raise Rollback
        except Rollback:
            pass
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=51_000)
    parser.add_argument(
        "--broker",
        default=os.environ.get("CELERY_BROKER_URL") or DEFAULT_BROKER,
        help=f"the Celery broker (default: CELERY_BROKER_URL, else {DEFAULT_BROKER})",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=3_600,
        help="seconds to wait for the last draft; the bench then reports the rate so far",
    )
    args = parser.parse_args(argv)
    if "postgres" not in os.environ.get("DATABASE_URL", ""):
        print("Set DATABASE_URL to a PostgreSQL database.")
        return 2
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS
    os.environ["CELERY_BROKER_URL"] = args.broker
    mail_dir = Path(tempfile.mkdtemp(prefix="diagnostics-import-mail-"))
    os.environ["BENCH_EMAIL_DIR"] = str(mail_dir)
    worker_log = mail_dir.with_name(mail_dir.name + "-worker.log")
    worker = None
    try:
        configure_database()
        import django

        django.setup()
        from django.conf import settings

        from bench.generate import make_diagnostics_csv
        from wagtail_iom.conf import iom_settings
        from wagtail_iom.diagnostics import importing
        from wagtail_iom.models import (
            DiagnosticImport,
            DiagnosticImportStatus,
            Route,
            RouteSource,
        )

        if settings.CELERY_TASK_ALWAYS_EAGER:
            raise BenchFailure(f"{SETTINGS} did not take the broker from CELERY_BROKER_URL")
        started = time.perf_counter()
        prepare(args.rows)
        delete_previous_run()
        print(f"data ready in {time.perf_counter() - started:.0f} s")
        date = datetime.date.today() - datetime.timedelta(days=3)
        content, with_deficits = make_diagnostics_csv(
            args.rows, _competency_codes(), date, iom_settings.DIAGNOSTICS_DEFICIT_BELOW
        )
        print(
            f"{args.rows} rows × {len(_competency_codes())} competencies,"
            f" {len(content) / 1e6:.1f} MB; {with_deficits} teachers with deficits"
        )
        chunk_size = iom_settings.DIAGNOSTICS_IMPORT_CHUNK_SIZE
        per_chunk = chunk_queries(content, "bench.csv", (chunk_size // 2, chunk_size))
        print(
            "queries per chunk: "
            + ", ".join(f"{n} for {size} rows" for size, n in per_chunk.items())
        )
        worker = start_worker(worker_log)
        worker_pids = process_tree(worker.pid)

        baseline = rss_mb()
        reset_peak()
        mark = time.perf_counter()
        job = importing.create_preview(content, "bench.csv", None)
        preview_seconds = time.perf_counter() - mark
        preview_peak = peak_mb()
        counts = job.report["counts"]
        print(
            f"upload and preview: {preview_seconds:.1f} s, web process {baseline:.0f} MB before,"
            f" peak {preview_peak:.0f} MB; {counts}"
        )
        reset_peak()
        applied_at = time.perf_counter()
        importing.start_apply(job)
        apply_seconds = time.perf_counter() - applied_at
        print(
            f"apply (invitations, chunks, tasks sent): {apply_seconds:.1f} s, peak {peak_mb():.0f} MB"
        )
        del content

        drafts = Route.objects.filter(source=RouteSource.DIAGNOSTICS, source_diagnostic__date=date)
        import_done = last_draft = None
        drafted = 0
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            time.sleep(1)
            if import_done is None:
                state = DiagnosticImport.objects.filter(pk=job.pk).values("status").get()
                if state["status"] == DiagnosticImportStatus.APPLIED:
                    import_done = time.perf_counter() - applied_at
                    print(f"import applied after {import_done:.1f} s")
            now = drafts.count()
            if now != drafted:
                drafted = now
                last_draft = time.perf_counter() - applied_at
            if drafted >= with_deficits:
                break
        worker_pids = process_tree(worker.pid)
        worker_peaks = {pid: peak_mb(pid) for pid in worker_pids}
        if import_done is None:
            raise BenchFailure(f"the import was not applied after {args.timeout} s")
        print(f"import alone: {args.rows / import_done:.0f} rows per second")
        if drafted >= with_deficits:
            print(f"last draft after {last_draft:.1f} s: {drafted} drafts")
            print(f"end to end: {args.rows / last_draft:.0f} rows per second")
        else:
            # Stopped by --timeout: the rate so far, and where it would end.
            elapsed = time.perf_counter() - applied_at
            rate = drafted / max(elapsed - import_done, 1e-9)
            print(
                f"stopped after {elapsed:.0f} s: {drafted} of {with_deficits} drafts,"
                f" {rate:.1f} drafts per second since the import's end; at that rate the last"
                f" draft would come {import_done + with_deficits / max(rate, 1e-9):.0f} s after"
                f" the apply ({args.rows / (import_done + with_deficits / max(rate, 1e-9)):.0f}"
                " rows per second end to end)"
            )
        print(
            "worker peak resident memory: "
            + ", ".join(f"{mb:.0f} MB" for mb in sorted(worker_peaks.values(), reverse=True))
            + " (the main process and its 2 children)"
        )
        job.refresh_from_db()
        if job.failed_rows:
            raise BenchFailure(f"{job.failed_rows} rows in failed chunks")
    finally:
        if worker is not None:
            stop(worker)
        shutil.rmtree(mail_dir, ignore_errors=True)
        worker_log.unlink(missing_ok=True)
    return 0


def _competency_codes():
    from wagtail_iom.models import Competency

    return list(Competency.objects.order_by("code").values_list("code", flat=True)[:18])


if __name__ == "__main__":
    sys.exit(main())
