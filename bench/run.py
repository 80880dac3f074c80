"""Run the benchmarks: ``python bench/run.py [--size region] [--runs 7] [--only map,feed]``.

Sets Django up against a database of its own (``var/bench.sqlite3``, or whatever
``DATABASE_URL`` names), migrates it, builds the data set of the chosen size (see
``bench/generate.py``) and times each scenario. See bench/README.md.
"""

import argparse
import cProfile
import io
import json
import math
import os
import platform
import pstats
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
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
    run: object  # a callable taking no arguments: what is timed
    # Untimed: ``setup`` once before the warm-up (builds what the scenario needs, checks the
    # result once in full), ``before_each`` before every run (e.g. makes cached feeds stale).
    setup: object = None
    before_each: object = None
    # What the setup found out and the table should say (written to the results file).
    notes: dict = field(default_factory=dict)


class Rollback(Exception):  # noqa: N818 - a signal, not an error
    pass


def check_response(response, url, status=200):
    if response.status_code != status:
        raise BenchFailure(f"GET {url} answered {response.status_code}, expected {status}")
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


def build_scenarios(client, size, dataset=None, visitor=None):
    """The scenarios, in the order they are run and printed. Later layers add theirs here.

    ``client`` is logged in as a superuser (the admin); ``visitor`` is anonymous (the public
    pages and the feeds that calendar apps fetch).
    """
    scenarios = directory_scenarios(client, size)
    if dataset and dataset.get("events"):
        scenarios += event_scenarios(visitor or client, dataset["events"])
    if dataset and dataset.get("routes"):
        scenarios += route_scenarios(client, dataset["routes"])
        scenarios += report_scenarios(client, dataset["routes"])
    return scenarios


def report_scenarios(client, routes):
    """The centre's reports over every route of the region, as the centre head reads them
    (a superuser: the whole region), the page with its chart and table, and one CSV export."""
    from django.urls import reverse

    n = f"{routes['routes']:,}"

    def report(name, **params):
        url = reverse(f"wagtail_iom_reports:{name}")
        if params:
            url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
        return url

    return [
        Scenario(
            f"reports: routes by status, municipalities ({n} routes)",
            get(client, report("routes_by_status"), must_contain="iom-report-table"),
        ),
        Scenario(
            f"reports: routes by status, schools ({n} routes)",
            get(client, report("routes_by_status", group_by="school")),
        ),
        Scenario(
            f"reports: routes by status, CSV ({n} routes)",
            get(client, report("routes_by_status", export="csv")),
        ),
        Scenario(
            f"reports: teacher coverage ({n} routes)", get(client, report("teacher_coverage"))
        ),
        Scenario(f"reports: indicators 004 ({n} routes)", get(client, report("indicators"))),
        Scenario(
            f"reports: routes by source ({n} routes)", get(client, report("routes_by_source"))
        ),
        Scenario(
            f"reports: low results and few routes ({n} routes)",
            get(client, report("low_results_few_routes")),
        ),
        Scenario("reports: coverage of deficits", get(client, report("deficit_coverage"))),
    ]


def route_scenarios(client, routes):
    """The admin's route listing over every route, and one 60-step route: its page in the
    teacher's cabinet, the admin editor, the print view, the PDF and the Word file."""
    from django.test import Client
    from django.urls import reverse

    from bench.generate import BIG_ROUTE_STEPS
    from wagtail_iom.models import Route, RouteLayout
    from wagtail_iom.routes import documents as route_documents

    route = Route.objects.select_related("teacher__user").get(pk=routes["big_route"])
    teacher = Client()
    teacher.force_login(route.teacher.user)
    listing = reverse("wagtail_iom_routes:list")
    n = f"{routes['routes']:,}"
    name = route.teacher.last_name

    def document(fmt):
        def run():
            data = route_documents.route_document(Route.objects.get(pk=route.pk), RouteLayout.FULL)
            body = getattr(route_documents, f"render_{fmt}")(data)
            if not body:
                raise BenchFailure(f"empty {fmt}")

        return run

    return [
        Scenario(
            f"routes: admin listing ({n} routes)", get(client, listing, must_contain=name[:4])
        ),
        Scenario(
            "routes: admin listing, status filter",
            get(client, listing + "?status=implementation"),
        ),
        Scenario(
            f"routes: cabinet route page ({BIG_ROUTE_STEPS} steps)",
            get(teacher, reverse("wagtail_iom:cabinet_route", args=[route.pk]), must_contain=name),
        ),
        Scenario(
            f"routes: admin editor ({BIG_ROUTE_STEPS} steps)",
            get(client, reverse("wagtail_iom_routes:edit", args=[route.pk])),
        ),
        Scenario(
            f"routes: print view ({BIG_ROUTE_STEPS} steps)",
            get(
                teacher,
                reverse("wagtail_iom:cabinet_route_print", args=[route.pk, "full", "html"]),
                must_contain=name,
            ),
        ),
        Scenario(f"routes: PDF ({BIG_ROUTE_STEPS} steps)", document("pdf")),
        Scenario(f"routes: Word ({BIG_ROUTE_STEPS} steps)", document("docx")),
    ]


def get(client, url, must_contain=None, status=200, **headers):
    """A callable that GETs ``url`` and checks the status (and a text the page must hold)."""

    def run():
        content = check_response(client.get(url, **headers), url, status)
        if must_contain and must_contain.encode() not in content:
            raise BenchFailure(f"GET {url}: the page does not contain {must_contain!r}")

    return run


def directory_scenarios(client, size):
    from django.db import transaction
    from django.utils.http import urlencode

    from bench.generate import make_directory_csv
    from wagtail_iom.directory.importing import apply_directory_import, plan_directory_import
    from wagtail_iom.models import Municipality, School

    schools = admin_index_url(School)
    municipality = Municipality.objects.order_by("pk").first()
    csv_files = {}

    def make_csv_files():
        if not csv_files:
            csv_files[2_000] = make_directory_csv(2_000, size.municipalities)
            csv_files[500] = make_directory_csv(500, size.municipalities)

    def import_preview():
        plan = plan_directory_import(csv_files[2_000], "bench.csv")
        if plan.counts["schools_created"] != 2_000:
            raise BenchFailure(f"import preview planned {plan.counts}, expected 2000 new schools")

    def import_apply():
        try:
            with transaction.atomic():
                plan = apply_directory_import(csv_files[500], "bench.csv")
                if plan.counts["schools_created"] != 500:
                    raise BenchFailure(f"import applied {plan.counts}, expected 500 new schools")
                raise Rollback
        except Rollback:
            pass

    return [
        Scenario("admin: schools, first page", get(client, schools)),
        Scenario(
            "admin: schools, search «Гимназия»",
            # «Гимназия № …» is in the names of the rows found, not in the echoed query.
            get(client, f"{schools}?{urlencode({'q': 'Гимназия'})}", "«Гимназия №"),
        ),
        Scenario(
            "admin: schools of one municipality",
            get(client, f"{schools}?municipality={municipality.pk}"),
        ),
        Scenario("admin: schools, CSV export", get(client, f"{schools}?export=csv")),
        Scenario("admin: schools, XLSX export", get(client, f"{schools}?export=xlsx")),
        Scenario("import: preview 2,000 rows", import_preview, setup=make_csv_files),
        Scenario("import: apply 500 rows (rolled back)", import_apply, setup=make_csv_files),
        Scenario("site: home page", get(client, "/")),
    ]


FEED_UNCACHED = "feed: uncached, {n} events"
FEED_TO_ICAL = "feed: to_ical() only, same calendar"


def event_scenarios(client, events):
    """The resource map (list, calendar) and its feed, on the events of generate_events()."""
    from django.http import QueryDict
    from django.test import RequestFactory
    from django.utils import timezone
    from django.utils.http import urlencode

    from bench.generate import RESOURCE_MAP_SLUG, SEARCH_TITLE_FRAGMENT
    from wagtail_iom.events import calendar as calendar_service
    from wagtail_iom.models import ResourceMapPage

    map_url = events["map_url"]
    resource_map = ResourceMapPage.objects.get(url_path__endswith=f"/{RESOURCE_MAP_SLUG}/")
    feed_url = f"{map_url}{resource_map.reverse_subpage('feed')}?{events['feed_query']}"
    calendar_url = f"{map_url}{resource_map.reverse_subpage('calendar')}"
    month = events["busiest_month"]
    n = f"{events['feed_events']:,}"
    state = {}

    def check_feed_events():
        """The feed's filter selects exactly the events generate_events() says it does."""
        found = calendar_service.feed_events(QueryDict(events["feed_query"]), resource_map)
        if found.count() != events["feed_events"]:
            raise BenchFailure(
                f"{feed_url} selects {found.count()} events, expected {events['feed_events']}"
            )

    def fetch_feed():
        """One full request: its body is checked once, its ETag kept for the 304."""
        response = client.get(feed_url)
        body = check_response(response, feed_url)
        vevents = body.count(b"BEGIN:VEVENT")
        if vevents != events["feed_sessions"]:
            raise BenchFailure(f"{feed_url}: {vevents} VEVENTs, expected {events['feed_sessions']}")
        state["etag"], state["body"] = response["ETag"], body

    def feed_uncached_setup():
        check_feed_events()
        calendar_service.bump_feed_version()
        fetch_feed()

    def not_modified():
        response = client.get(feed_url, HTTP_IF_NONE_MATCH=state["etag"])
        check_response(response, feed_url, status=304)

    def feed_request():
        """The request the feed view gets, without the client and middleware around it."""
        return RequestFactory().get(feed_url)

    def query_only():
        request = feed_request()
        found = list(calendar_service.feed_events(request.GET, resource_map))
        if len(found) != events["feed_events"]:
            raise BenchFailure(f"feed_events() found {len(found)} events")

    def build_only():
        request = feed_request()
        state["calendar"] = calendar_service.build_calendar(
            calendar_service.feed_events(request.GET, resource_map),
            request_or_base_url=request,
            name=calendar_service.feed_name(resource_map),
            now=timezone.now(),
        )

    def build_baseline():
        """The calendar the feed view builds, built once; its bytes must be the feed's."""
        build_only()
        body = state["calendar"].to_ical()
        if "body" not in state:
            fetch_feed()
        baseline.notes["identical_to_feed_body"] = body == state["body"]
        baseline.notes["bytes"] = len(body)

    def serialize_only():
        state["calendar"].to_ical()

    def list_scenario(title, query="", must_contain=None):
        url = f"{map_url}?{query}" if query else map_url
        return Scenario(f"map: {title}", get(client, url, must_contain))

    baseline = Scenario(FEED_TO_ICAL, serialize_only, setup=build_baseline)
    return [
        list_scenario("first page"),
        list_scenario("track=non_formal&level=regional", "track=non_formal&level=regional"),
        list_scenario(
            f"search «{events['search_word']}»",
            urlencode({"q": events["search_word"]}),
            SEARCH_TITLE_FRAGMENT,
        ),
        list_scenario("page 10", "page=10"),
        Scenario(
            f"calendar: month {month} ({events['busiest_month_sessions']:,} sessions)",
            get(client, f"{calendar_url}?month={month}"),
        ),
        Scenario(
            f"calendar: month {month}, track=formal",
            get(client, f"{calendar_url}?month={month}&track=formal"),
        ),
        Scenario(
            FEED_UNCACHED.format(n=n),
            get(client, feed_url),
            setup=feed_uncached_setup,
            before_each=calendar_service.bump_feed_version,
        ),
        Scenario(f"feed: cached, {n} events", get(client, feed_url), setup=fetch_feed),
        Scenario(f"feed: 304 If-None-Match, {n} events", not_modified, setup=fetch_feed),
        Scenario("feed: feed_events() query + prefetch only", query_only),
        Scenario("feed: build_calendar() only, no to_ical()", build_only),
        baseline,
    ]


def feed_ratio(results):
    """Median of the uncached feed / median of to_ical() alone, when both were run."""
    by_name = {result["scenario"]: result for result in results}
    uncached = next((r for name, r in by_name.items() if name.startswith("feed: uncached")), None)
    baseline = by_name.get(FEED_TO_ICAL)
    if not uncached or not baseline or not baseline["median_ms"]:
        return None
    ratio = uncached["median_ms"] / baseline["median_ms"]
    return {
        "uncached_feed_ms": uncached["median_ms"],
        "to_ical_ms": baseline["median_ms"],
        "ratio": round(ratio, 2),
        "within_2x": ratio <= 2.0,
        **baseline.get("notes", {}),
    }


def select(scenarios, only):
    """The scenarios whose names start with one of the comma-separated prefixes.

    A comma followed by a digit is part of a prefix (``feed: uncached, 5,000``).
    """
    if not only:
        return scenarios
    prefixes = [prefix.strip().lower() for prefix in re.split(r",(?!\d)", only) if prefix.strip()]
    return [s for s in scenarios if any(s.name.lower().startswith(p) for p in prefixes)]


def percentile(values, fraction):
    """Nearest-rank percentile: with fewer than 20 runs p95 is the slowest run."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def measure(scenario, runs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if scenario.setup:
        scenario.setup()
    if scenario.before_each:
        scenario.before_each()
    scenario.run()  # warm-up: caches, compiled templates, connection
    timings, queries = [], []
    for _ in range(runs):
        if scenario.before_each:
            scenario.before_each()
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
        **({"notes": scenario.notes} if scenario.notes else {}),
    }


def profile(scenario, limit=30):
    """One more run of ``scenario`` under cProfile: the top functions, and a .prof file."""
    if scenario.before_each:
        scenario.before_each()
    profiler = cProfile.Profile()
    profiler.runcall(scenario.run)
    slug = "".join(c if c.isalnum() else "-" for c in scenario.name.lower()).strip("-")
    path = VAR / f"bench-profile-{slug}.prof"
    profiler.dump_stats(path)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    for order in ("cumulative", "tottime"):
        out.write(f"\n--- {scenario.name}: top {limit} by {order} ---\n")
        stats.sort_stats(order).print_stats(limit)
    return out.getvalue(), path


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
    parser.add_argument(
        "--only",
        metavar="PREFIXES",
        help="run only the scenarios whose names start with one of these comma-separated "
        "prefixes, e.g. --only map,feed",
    )
    parser.add_argument(
        "--profile",
        metavar="PREFIXES",
        help="after measuring, run the scenarios with these name prefixes once more under "
        "cProfile and print where the time goes (files in var/bench-profile-*.prof)",
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
    events = dataset.get("events")
    if events:
        how = "built" if events["created"] else "already present"
        phases = ", ".join(f"{k} {v} s" for k, v in events.get("phases", {}).items())
        print(
            f"events:    {events['events']:,} events, {events['sessions']:,} sessions from "
            f"{events['start']} ({how} in {events['seconds']} s{': ' + phases if phases else ''})"
        )
        print(
            f"feed:      {events['map_url']}feed/?{events['feed_query']}: "
            f"{events['feed_events']:,} events, {events['feed_sessions']:,} sessions; "
            f"busiest month {events['busiest_month']} "
            f"({events['busiest_month_sessions']:,} sessions)"
        )
    print(f"listing:   {meta['school_listing']}")
    print(f"versions:  Python {meta['python']}, Django {meta['django']}, Wagtail {wagtail_version}")
    print()

    visitor = Client()  # anonymous: the public pages and the feeds
    scenarios = select(build_scenarios(client, size, dataset, visitor), args.only)
    if not scenarios:
        parser.error(f"--only {args.only}: no scenario has a name starting so")
    results = []
    for scenario in scenarios:
        results.append(measure(scenario, args.runs))
    table = format_table(results)
    print(table)

    ratio = feed_ratio(results)
    if ratio:
        meta["feed_ratio"] = ratio
        print(
            f"\nfeed / to_ical(): {ratio['uncached_feed_ms']} ms / {ratio['to_ical_ms']} ms = "
            f"{ratio['ratio']:.2f} (at most 2.0: {'yes' if ratio['within_2x'] else 'NO'})"
        )
        if "identical_to_feed_body" in ratio:
            same = "yes" if ratio["identical_to_feed_body"] else "NO"
            print(
                f"the calendar serialised alone gives the feed's body byte for byte: {same} "
                f"({ratio['bytes']:,} bytes)"
            )

    for scenario in select(scenarios, args.profile) if args.profile else []:
        report, path = profile(scenario)
        print(report)
        print(f"profile written to {path.relative_to(REPO)}")

    RESULTS_FILE.write_text(
        json.dumps({"meta": meta, "results": results}, ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8",
    )
    print(f"\nwritten to {RESULTS_FILE.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
