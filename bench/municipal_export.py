"""The monthly export of the largest municipality's routes: time, queries and peak memory.

    .venv/bin/python bench/municipal_export.py [--routes 10000] [--largest-share 0.3]
        [--steps 8] [--deficits 3] [--runs 3] [--fresh]

A data set of its own (``var/bench-municipal-export.sqlite3`` unless ``DATABASE_URL`` names
another database): the region's directory (62 municipalities, 2,000 schools), 500 events, and
``--routes`` teachers with one route each (``--steps`` steps, ``--deficits`` deficits in
section 2), ``--largest-share`` of them in the first municipality (a region's capital), the
rest spread over every school. Teachers' user names start with ``bench-mexport-``, so the
data set can share a PostgreSQL database with ``bench/run.py``'s.

For the largest municipality and for a small one, the bench writes the XLSX
(:func:`wagtail_iom.reports.municipal_export.write_workbook`) into a temporary file
``--runs`` times and prints the median time and the queries; then once more under
``tracemalloc`` for the peak of Python allocations during the export (the figure that shows
whether memory grows with the number of routes), and the process's peak RSS. The full build
(file into storage, the record) is timed once as well.
"""

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.run import VAR, configure_database, database_description  # noqa: E402

PREFIX = "bench-mexport-"


def export_once(municipality, chunk_size):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from wagtail_iom.reports import municipal_export

    with tempfile.TemporaryFile() as handle, CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        count = municipal_export.write_workbook(municipality, handle, chunk_size=chunk_size)
        elapsed = time.perf_counter() - started
        size = handle.tell()
    return count, elapsed, len(queries.captured_queries), size


def peak_memory(municipality, chunk_size):
    from wagtail_iom.reports import municipal_export

    tracemalloc.start()
    tracemalloc.reset_peak()
    with tempfile.TemporaryFile() as handle:
        municipal_export.write_workbook(municipality, handle, chunk_size=chunk_size)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def rss_mb():
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--routes", type=int, default=10_000)
    parser.add_argument("--largest-share", type=float, default=0.3)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--deficits", type=int, default=3)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--chunk-size", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args(argv)

    VAR.mkdir(exist_ok=True)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{VAR / 'bench-municipal-export.sqlite3'}")
    configure_database(fresh=args.fresh)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import override_settings

    from bench.generate import SIZES, generate_directory, generate_events, generate_routes
    from sandbox.home.demo.site import build_site
    from sandbox.home.models import HomePage
    from wagtail_iom.models import Municipality
    from wagtail_iom.reports import municipal_export

    chunk_size = args.chunk_size or municipal_export.CHUNK_SIZE
    call_command("migrate", verbosity=0, interactive=False)
    if not HomePage.objects.exists():
        build_site()
    region = SIZES["region"]
    directory = generate_directory(region.municipalities, region.schools, seed=args.seed)
    generate_events(500, region.municipalities, seed=args.seed, rebuild=directory["created"])
    routes = generate_routes(
        args.routes,
        seed=args.seed,
        prefix=PREFIX,
        largest_share=args.largest_share,
        steps=args.steps,
        deficits=args.deficits,
    )
    per_place = list(
        Municipality.objects.annotate(n=Count("teachers__routes"))
        .filter(n__gt=0)
        .order_by("-n", "pk")
    )
    largest, smallest = per_place[0], per_place[-1]
    print(f"database:  {database_description(connection)}")
    print(
        f"routes:    {routes['routes']:,} ({'built' if routes['created'] else 'already present'}"
        f" in {routes['seconds']} s), {args.steps} steps and {args.deficits} deficits each; "
        f"{len(per_place)} municipalities"
    )
    print(f"chunk:     {chunk_size} routes per query")
    print()
    print(f"{'municipality':<32} {'routes':>7} {'median s':>9} {'queries':>8} "
          f"{'file KB':>8} {'peak MB':>8}")  # fmt: skip
    rows = []
    for municipality in (largest, smallest):
        timings = []
        for _ in range(args.runs):
            count, elapsed, queries, size = export_once(municipality, chunk_size)
            timings.append(elapsed)
        peak = peak_memory(municipality, chunk_size) / 1024 / 1024
        rows.append((municipality, count, statistics.median(timings), queries, size, peak))
        print(
            f"{municipality.name[:32]:<32} {count:>7,} {statistics.median(timings):>9.2f} "
            f"{queries:>8} {size / 1024:>8.0f} {peak:>8.1f}"
        )
    with tempfile.TemporaryDirectory() as media, override_settings(MEDIA_ROOT=media):
        started = time.perf_counter()
        export = municipal_export.build(largest.pk, municipal_export.current_month())
        built = time.perf_counter() - started
        print(
            f"\nfull build of the largest (file into storage, the record): {built:.2f} s, "
            f"{export.routes:,} routes"
        )
        export.delete()
    print(f"process peak RSS: {rss_mb():.0f} MB (data generation included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
