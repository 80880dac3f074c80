"""Run the benchmarks: ``python bench/run.py [--size region] [--runs 7]``.

Sets Django up against a database of its own (``var/bench.sqlite3``, or whatever
``DATABASE_URL`` names), migrates it, builds the data set of the chosen size (see
``bench/generate.py``) and times each scenario. See bench/README.md.
"""

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VAR = REPO / "var"
RESULTS_FILE = VAR / "bench-results.json"

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def configure_database(fresh=False):
    """Point Django at the bench database; create a missing PostgreSQL database.

    With ``fresh`` the bench database is dropped first (the SQLite file deleted), e.g. after
    the package's migrations were rewritten.
    """
    VAR.mkdir(exist_ok=True)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{VAR / 'bench.sqlite3'}")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sandbox.settings.test")

    import dj_database_url

    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    if "sqlite" in config["ENGINE"]:
        if fresh and config["NAME"] not in ("", ":memory:"):
            Path(config["NAME"]).unlink(missing_ok=True)
        return
    if "postgresql" not in config["ENGINE"]:
        return
    import psycopg
    from psycopg import sql

    params = {
        "dbname": "postgres",
        "user": config.get("USER") or None,
        "password": config.get("PASSWORD") or None,
        "host": config.get("HOST") or None,
        "port": config.get("PORT") or None,
    }
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True) as conn:
        name = sql.Identifier(config["NAME"])
        if fresh:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(name))


class BenchFailure(RuntimeError):
    """A scenario did not do what it should; the bench stops."""


@dataclass
class Scenario:
    name: str
    run: object  # a callable taking no arguments


class Rollback(Exception):  # noqa: N818 - a signal, not an error
    pass


def check_response(response, url):
    if response.status_code != 200:
        raise BenchFailure(f"GET {url} answered {response.status_code}, expected 200")
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def admin_index_url(model):
    """The admin listing of ``model``, wherever its ModelViewSet is mounted."""
    from django.urls import reverse
    from wagtail.admin.viewsets import viewsets
    from wagtail.admin.viewsets.model import ModelViewSet

    reverse("wagtailadmin_home")  # loads the admin URLconf, which registers the viewsets
    for viewset in viewsets.viewsets:
        if isinstance(viewset, ModelViewSet) and viewset.model is model:
            return reverse(viewset.get_url_name("index"))
    raise BenchFailure(f"no admin ModelViewSet is registered for {model.__name__}")


def build_scenarios(client, size):
    """The scenarios, in the order they are run and printed. Later layers add theirs here."""
    from django.db import transaction
    from django.utils.http import urlencode

    from bench.generate import make_directory_csv
    from wagtail_iom.models import Municipality, School
    from wagtail_iom.services.directory_import import (
        apply_directory_import,
        plan_directory_import,
    )

    def get(url, must_contain=None):
        def run():
            content = check_response(client.get(url), url)
            if must_contain and must_contain.encode() not in content:
                raise BenchFailure(f"GET {url}: the page does not contain {must_contain!r}")

        return run

    schools = admin_index_url(School)
    municipality = Municipality.objects.order_by("pk").first()
    preview_csv = make_directory_csv(2_000, size.municipalities)
    apply_csv = make_directory_csv(500, size.municipalities)

    def import_preview():
        plan = plan_directory_import(preview_csv, "bench.csv")
        if plan.counts["schools_created"] != 2_000:
            raise BenchFailure(f"import preview planned {plan.counts}, expected 2000 new schools")

    def import_apply():
        try:
            with transaction.atomic():
                plan = apply_directory_import(apply_csv, "bench.csv")
                if plan.counts["schools_created"] != 500:
                    raise BenchFailure(f"import applied {plan.counts}, expected 500 new schools")
                raise Rollback
        except Rollback:
            pass

    return [
        Scenario("admin: schools, first page", get(schools)),
        Scenario(
            "admin: schools, search «Гимназия»",
            # «Гимназия № …» is in the names of the rows found, not in the echoed query.
            get(f"{schools}?{urlencode({'q': 'Гимназия'})}", "«Гимназия №"),
        ),
        Scenario(
            "admin: schools of one municipality",
            get(f"{schools}?municipality={municipality.pk}"),
        ),
        Scenario("admin: schools, CSV export", get(f"{schools}?export=csv")),
        Scenario("admin: schools, XLSX export", get(f"{schools}?export=xlsx")),
        Scenario("import: preview 2,000 rows", import_preview),
        Scenario("import: apply 500 rows (rolled back)", import_apply),
        Scenario("site: home page", get("/")),
    ]


def percentile(values, fraction):
    """Nearest-rank percentile: with fewer than 20 runs p95 is the slowest run."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def measure(scenario, runs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    scenario.run()  # warm-up: caches, compiled templates, connection
    timings, queries = [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            scenario.run()
            elapsed = time.perf_counter() - started
        timings.append(elapsed * 1000)
        queries.append(len(captured.captured_queries))
    return {
        "scenario": scenario.name,
        "runs": runs,
        "median_ms": round(statistics.median(timings), 1),
        "p95_ms": round(percentile(timings, 0.95), 1),
        "queries": max(queries),
        "timings_ms": [round(t, 1) for t in timings],
        "queries_per_run": queries,
    }


COLUMNS = [
    ("scenario", "scenario", "<"),
    ("runs", "runs", ">"),
    ("median_ms", "median ms", ">"),
    ("p95_ms", "p95 ms", ">"),
    ("queries", "queries", ">"),
]


def format_table(results):
    cells = [[str(result[key]) for key, _title, _align in COLUMNS] for result in results]
    titles = [title for _key, title, _align in COLUMNS]
    widths = [max(len(row[i]) for row in [titles, *cells]) for i in range(len(COLUMNS))]

    def line(row):
        return "  ".join(
            f"{value:{align}{width}}"
            for value, width, (_k, _t, align) in zip(row, widths, COLUMNS, strict=True)
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(titles), rule, *(line(row) for row in cells)])


def database_description(connection):
    if connection.vendor == "postgresql":
        version = connection.pg_version
        return (
            f"postgresql {version // 10000}.{version % 10000} ({connection.settings_dict['NAME']})"
        )
    if connection.vendor == "sqlite":
        import sqlite3

        return f"sqlite {sqlite3.sqlite_version} ({connection.settings_dict['NAME']})"
    return connection.vendor


def main(argv=None):
    from bench.generate import SIZES

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", choices=sorted(SIZES), default="region")
    parser.add_argument("--runs", type=int, default=7, help="measured runs per scenario")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--fresh", action="store_true", help="drop the bench database first and build it anew"
    )
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    configure_database(fresh=args.fresh)
    import django

    django.setup()

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from wagtail import __version__ as wagtail_version

    from bench.generate import generate
    from sandbox.home.demo.site import build_site
    from sandbox.home.models import HomePage

    call_command("migrate", verbosity=0, interactive=False)
    if not HomePage.objects.exists():
        build_site()
    dataset = generate(args.size, seed=args.seed)
    directory = dataset["directory"]

    user, _created = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    if not (user.is_staff and user.is_superuser and user.is_active):
        user.is_staff = user.is_superuser = user.is_active = True
        user.save()
    client = Client()
    client.force_login(user)

    from wagtail_iom.models import School

    size = SIZES[args.size]
    meta = {
        "school_listing": admin_index_url(School),
        "database": database_description(connection),
        "size": args.size,
        "dataset": dataset,
        "python": platform.python_version(),
        "django": django.get_version(),
        "wagtail": wagtail_version,
        "runs": args.runs,
        "seed": args.seed,
    }
    print(f"database:  {meta['database']}")
    print(
        f"dataset:   {args.size}: {directory['municipalities']:,} municipalities, "
        f"{directory['schools']:,} schools "
        f"({'built' if directory['created'] else 'already present'} in {directory['seconds']} s)"
    )
    print(f"listing:   {meta['school_listing']}")
    print(f"versions:  Python {meta['python']}, Django {meta['django']}, Wagtail {wagtail_version}")
    print()

    results = []
    for scenario in build_scenarios(client, size):
        results.append(measure(scenario, args.runs))
    table = format_table(results)
    print(table)

    RESULTS_FILE.write_text(
        json.dumps({"meta": meta, "results": results}, ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8",
    )
    print(f"\nwritten to {RESULTS_FILE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
