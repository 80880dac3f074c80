"""The monthly export to municipalities (seed 002): the XLSX holds exactly its municipality's
routes, one row each; its signed link opens only for the municipality's methodists and the
centre head, only until it expires; the monthly task mails each methodist once."""

import datetime
import io
import re

import pytest
from django.contrib.messages import get_messages
from django.core import mail as outbox_mail
from django.core import signing
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from tests.factories import (
    CompetencyFactory,
    MunicipalityFactory,
    SchoolFactory,
    UserFactory,
    make_event,
)
from tests.reports.helpers import CENTRE_HEAD, CURATOR, METHODIST, staff, teacher_in
from wagtail_iom import tasks
from wagtail_iom.models import (
    AttendanceMark,
    MunicipalRouteExport,
    Registration,
    Route,
    StepCompletion,
)
from wagtail_iom.reports import municipal_export
from wagtail_iom.reports.admin import municipal_export_menu_item

pytestmark = [pytest.mark.django_db]

SCREEN = reverse("wagtail_iom_reports:municipal_export")
MONTH = datetime.date(2026, 12, 1)


def roadmap(event, competencies):
    first, second = competencies
    return [
        {
            "type": "stage",
            "value": {
                "stage": "implementation",
                "steps": [
                    {"type": "event", "id": "ev", "value": {"event": event.pk}},
                    {
                        "type": "self_education",
                        "id": "self",
                        "value": {"activity": "Изучение ФГОС", "competencies": [str(second.pk)]},
                    },
                    {
                        "type": "mentoring",
                        "id": "mentor",
                        "value": {"mentor": "Петрова А. А.", "competencies": [str(first.pk)]},
                    },
                    {
                        "type": "task_row",
                        "id": "row",
                        "value": {"deficit": "Оценивание", "actions": "Семинар"},
                    },
                ],
            },
        }
    ]


def make_route(teacher, curator=None, steps=None, deficits=()):
    return Route.objects.create(
        teacher=teacher,
        curator=curator,
        starts_on=datetime.date(2026, 9, 1),
        ends_on=datetime.date(2027, 5, 31),
        roadmap=steps or [],
        diagnostics_snapshot={
            "deficits": [{"competency_id": c.pk, "code": c.code, "name": c.name} for c in deficits]
        },
    )


@pytest.fixture(autouse=True)
def english():
    """The services write in the active language: English, the source of the texts tested."""
    with translation.override("en"):
        yield


@pytest.fixture
def region(resource_map, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    first, second = MunicipalityFactory(name="Балашиха"), MunicipalityFactory(name="Химки")
    school = SchoolFactory(municipality=first, name="Гимназия № 1")
    other_school = SchoolFactory(municipality=second, name="Лицей № 2")
    grammar = CompetencyFactory(code="П1", name="Предметные знания")
    method = CompetencyFactory(code="М1", name="Методика урока")
    event = make_event(resource_map, title="Семинар о грамотности", competencies=[grammar])
    curator = UserFactory(username="curator", first_name="Ольга", last_name="Кураторова")
    rich = teacher_in(first, school, username="rich")
    rich.last_name = "Алексеева"
    rich.save()
    route = make_route(rich, curator, roadmap(event, [grammar, method]), [grammar, method])
    registration = Registration.objects.create(event=event, user=rich.user, status="confirmed")
    AttendanceMark.objects.create(registration=registration, session=event.sessions.first())
    StepCompletion.objects.create(route=route, step_id="self")
    plain = teacher_in(first, school, username="plain")
    plain.last_name = "Борисова"
    plain.save()
    make_route(plain)
    foreign = teacher_in(second, other_school, username="foreign")
    foreign.last_name = "Чужая"
    foreign.save()
    make_route(foreign)
    return {
        "first": first,
        "second": second,
        "school": school,
        "event": event,
        "route": route,
        "grammar": grammar,
        "method": method,
        "resource_map": resource_map,
    }


def methodist_of(municipality, username, email=None):
    user = staff(username, METHODIST, municipality=municipality)
    user.email = email or f"{username}@example.org"
    user.first_name, user.last_name = "Мета", username
    user.save()
    return user


def read_rows(export):
    with export.file.open("rb") as handle:
        workbook = load_workbook(io.BytesIO(handle.read()), read_only=True)
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def link(export):
    token = municipal_export.download_token(export)
    return reverse("wagtail_iom_reports:municipal_export_download", args=[token])


# The file --------------------------------------------------------------------------------------


def test_an_export_holds_exactly_its_municipalitys_routes(region):
    first = municipal_export.build(region["first"].pk, MONTH)
    second = municipal_export.build(region["second"].pk, MONTH)
    first_rows, second_rows = read_rows(first), read_rows(second)
    assert first_rows[0] == [
        "Teacher",
        "School",
        "Status",
        "Period",
        "Curator",
        "Progress, %",
        "Deficits and their steps",
    ]
    assert [row[0] for row in first_rows[1:]] == [
        "Алексеева Мария Петровна",
        "Борисова Мария Петровна",
    ]
    assert [row[0] for row in second_rows[1:]] == ["Чужая Мария Петровна"]
    assert (first.routes, second.routes) == (2, 1)
    assert first.status == "ready" and first.month == MONTH


def test_a_row_says_status_period_curator_progress_and_deficits_with_steps(region):
    rows = read_rows(municipal_export.build(region["first"].pk, MONTH))
    teacher, school, status, period, curator, percent, deficits = rows[1]
    assert (teacher, school) == ("Алексеева Мария Петровна", str(region["school"]))
    assert status == "In development"
    assert period == "01.09.2026–31.05.2027"
    assert curator == "Ольга Кураторова"
    # Markable steps: the event (attended), self-education (done), mentoring (not done).
    assert percent == 67
    assert deficits.split("\n") == [
        "П1 Предметные знания: Семинар о грамотности; Mentoring, mentor: Петрова А. А.",
        "М1 Методика урока: Изучение ФГОС",
        "Оценивание: Семинар",
    ]
    # A route without steps or deficits: empty cells, no error.
    assert rows[2][4:] == [None, 0, None]


def test_a_text_that_looks_like_a_formula_stays_text(region):
    route = region["route"]
    route.diagnostics_snapshot = {"deficits": [{"competency_id": 0, "code": "=1+1", "name": ""}]}
    route.save()
    rows = read_rows(municipal_export.build(region["first"].pk, MONTH))
    assert rows[1][6].startswith("=1+1")  # read back as the text, not a computed value


def test_queries_are_constant_per_chunk(region, django_assert_num_queries):
    first = region["first"]
    event = region["event"]
    # The routes (one query, read in chunks), then per chunk: event titles, the events'
    # competencies, attendance, completion marks.
    with django_assert_num_queries(5):
        municipal_export.write_workbook(first, io.BytesIO())
    for number in range(4):
        teacher = teacher_in(first, region["school"], username=f"more-{number}")
        make_route(teacher, steps=roadmap(event, [region["grammar"], region["method"]]))
    assert Route.objects.filter(teacher__municipality=first).count() == 6
    with django_assert_num_queries(5):
        assert municipal_export.write_workbook(first, io.BytesIO()) == 6
    # Chunks of two routes: three chunks, four queries each.
    with django_assert_num_queries(1 + 3 * 4):
        municipal_export.write_workbook(first, io.BytesIO(), chunk_size=2)


def test_a_rerun_replaces_the_file_of_the_same_record(region):
    first = municipal_export.build(region["first"].pk, MONTH)
    old_name = first.file.name
    make_route(teacher_in(region["first"], region["school"], username="late"))
    again = municipal_export.build(region["first"].pk, MONTH)
    assert again.pk == first.pk
    assert MunicipalRouteExport.objects.count() == 1
    assert again.file.name != old_name
    assert not again.file.storage.exists(old_name)
    assert again.routes == 3 and len(read_rows(again)) == 4


def test_a_deleted_municipality_builds_nothing(region):
    assert municipal_export.build(10**6, MONTH) is None
    assert not MunicipalRouteExport.objects.exists()


def test_expired_exports_are_deleted_with_their_files(region):
    export = municipal_export.build(region["first"].pk, MONTH)
    name = export.file.name
    assert municipal_export.delete_expired_exports() == 0
    later = export.expires_at + datetime.timedelta(seconds=1)
    assert municipal_export.delete_expired_exports(now=later) == 1
    assert not export.file.storage.exists(name)
    assert tasks.delete_expired_municipal_route_exports() == 0


# The monthly task and its e-mails --------------------------------------------------------------


def test_the_monthly_task_mails_each_methodist_a_working_link_once(
    region, client, django_capture_on_commit_callbacks
):
    methodist = methodist_of(region["first"], "meta")
    other = methodist_of(region["first"], "meta2")
    foreign = methodist_of(region["second"], "far")
    inactive = methodist_of(region["first"], "gone")
    inactive.is_active = False
    inactive.save()
    with django_capture_on_commit_callbacks(execute=True):
        tasks.send_monthly_municipal_exports.delay()
    assert MunicipalRouteExport.objects.count() == 2
    assert sorted(message.to[0] for message in outbox_mail.outbox) == [
        "far@example.org",
        "meta2@example.org",
        "meta@example.org",
    ]
    message = next(m for m in outbox_mail.outbox if m.to == [methodist.email])
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    url = re.search(r"https?://\S+/download/\S+/", message.body).group(0)
    path = url.split("://", 1)[1]
    path = path[path.index("/") :]
    client.force_login(methodist)
    response = client.get(path)
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    rows = list(load_workbook(io.BytesIO(body), read_only=True).active.values)
    assert len(rows) == 3
    # The other municipality's methodist holds a link, but not to this file.
    client.force_login(foreign)
    assert client.get(path).status_code == 403
    client.force_login(other)
    assert client.get(path).status_code == 200

    # Run again (a retried beat, a click on "Export now"): the same records, no new e-mail.
    with django_capture_on_commit_callbacks(execute=True):
        tasks.send_monthly_municipal_exports.delay()
    assert MunicipalRouteExport.objects.count() == 2
    assert len(outbox_mail.outbox) == 3


# The link --------------------------------------------------------------------------------------


@pytest.fixture
def export(region):
    return municipal_export.build(region["first"].pk, MONTH)


def test_anonymous_is_sent_to_sign_in(export, client):
    response = client.get(link(export))
    assert response.status_code == 302
    assert reverse("wagtailadmin_login") in response["Location"]


def test_the_centre_head_downloads_any_municipalitys_export(export, client):
    client.force_login(staff("head", CENTRE_HEAD))
    response = client.get(link(export))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert f"routes-{export.municipality_id}-2026-12.xlsx" in response["Content-Disposition"]


@pytest.mark.parametrize("who", ["foreign_methodist", "curator", "no_role"])
def test_anyone_else_is_refused(export, region, client, who):
    user = {
        "foreign_methodist": lambda: methodist_of(region["second"], "far"),
        "curator": lambda: staff("cur", CURATOR),
        "no_role": lambda: staff("plain"),
    }[who]()
    client.force_login(user)
    response = client.get(link(export))
    assert response.status_code == 403
    assert "Химки" not in response.content.decode()


def test_an_expired_link_is_refused_with_a_clear_page(export, region, client):
    client.force_login(methodist_of(region["first"], "meta"))
    url = link(export)
    MunicipalRouteExport.objects.filter(pk=export.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    response = client.get(url)
    assert response.status_code == 410
    assert "expired" in response.content.decode()
    # The token's own age counts too, whatever the record says.
    with override_settings(WAGTAIL_IOM={"MUNICIPAL_EXPORT_DAYS": 0}):
        MunicipalRouteExport.objects.filter(pk=export.pk).update(
            expires_at=timezone.now() + datetime.timedelta(days=1)
        )
        signed = signing.dumps(
            {"export": export.pk, "municipality": export.municipality_id},
            salt=municipal_export.LINK_SALT,
        )
        import time

        time.sleep(1.1)
        stale = reverse("wagtail_iom_reports:municipal_export_download", args=[signed])
        assert client.get(stale).status_code == 410


@pytest.mark.parametrize(
    "token",
    [
        "nonsense",
        "x" * 500,
        signing.dumps({"export": 1, "municipality": 1}, salt="another purpose"),
        signing.dumps(["not", "a", "dict"], salt=municipal_export.LINK_SALT),
        signing.dumps({"export": "1", "municipality": 1}, salt=municipal_export.LINK_SALT),
    ],
)
def test_a_tampered_link_is_not_found(export, region, client, token):
    client.force_login(methodist_of(region["first"], "meta"))
    response = client.get(reverse("wagtail_iom_reports:municipal_export_download", args=[token]))
    assert response.status_code == 404
    assert "not valid" in response.content.decode()


def test_a_link_with_an_edited_municipality_is_not_found(export, region, client):
    client.force_login(methodist_of(region["second"], "far"))
    token = municipal_export.download_token(export)
    payload, rest = token.split(":", 1)
    forged = (
        signing.dumps(
            {"export": export.pk, "municipality": region["second"].pk}, salt="forged"
        ).split(":", 1)[0]
        + ":"
        + rest
    )
    url = reverse("wagtail_iom_reports:municipal_export_download", args=[forged])
    assert client.get(url).status_code == 404


# The screen ------------------------------------------------------------------------------------


def test_a_methodist_exports_only_the_own_municipality(
    region, client, django_capture_on_commit_callbacks
):
    methodist = methodist_of(region["first"], "meta")
    client.force_login(methodist)
    page = client.get(SCREEN)
    assert page.status_code == 200
    choices = [str(label) for _value, label in page.context["form"].fields["municipality"].choices]
    assert choices == ["Балашиха"]

    refused = client.post(SCREEN, {"municipality": region["second"].pk})
    assert refused.status_code == 200
    assert refused.context["form"].errors["municipality"]
    assert not MunicipalRouteExport.objects.filter(municipality=region["second"]).exists()
    for bad in ["", "abc", str(2**70)]:
        response = client.post(SCREEN, {"municipality": bad})
        assert response.status_code == 200 and response.context["form"].errors

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(municipal_export, "current_month", lambda: MONTH)
        with django_capture_on_commit_callbacks(execute=True):
            done = client.post(SCREEN, {"municipality": region["first"].pk})
    assert done.status_code == 302
    export = MunicipalRouteExport.objects.get(municipality=region["first"])
    assert export.status == "ready" and export.requested_by == methodist
    page = client.get(SCREEN)
    assert [e.pk for e, _token in page.context["exports"]] == [export.pk]
    assert link(export).split("/download/")[0] in page.content.decode()


def test_the_centre_head_picks_any_municipality(region, client):
    client.force_login(staff("head", CENTRE_HEAD))
    page = client.get(SCREEN)
    labels = {str(label) for _value, label in page.context["form"].fields["municipality"].choices}
    assert labels == {"Балашиха", "Химки"}
    response = client.post(SCREEN, {"municipality": region["second"].pk})
    assert response.status_code == 302
    assert MunicipalRouteExport.objects.filter(municipality=region["second"]).exists()
    # Not built yet (the task waits for the commit): the message says so. (When a worker has
    # built it before the page is answered, it says it is ready: see the browser test.)
    [message] = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith("The export of Химки is being prepared")


@pytest.mark.parametrize("role", [CURATOR, None])
def test_the_screen_is_closed_to_others(region, client, role):
    client.force_login(staff("someone", role))
    assert client.get(SCREEN).status_code == 403
    assert client.post(SCREEN, {"municipality": region["first"].pk}).status_code == 403
    assert not MunicipalRouteExport.objects.exists()


def test_the_screens_list_is_scoped(region, client):
    municipal_export.build(region["first"].pk, MONTH)
    municipal_export.build(region["second"].pk, MONTH)
    client.force_login(methodist_of(region["second"], "far"))
    page = client.get(SCREEN)
    assert [e.municipality for e, _token in page.context["exports"]] == [region["second"]]


def test_a_rebuild_keeps_the_link_working_meanwhile(export, region, client):
    client.force_login(methodist_of(region["first"], "meta"))
    url = link(export)
    # "Export now" on a ready export: the build is enqueued on commit; until it runs, the link
    # already sent still downloads the current file.
    municipal_export.request_export(region["first"], MONTH, requested_by=None)
    export.refresh_from_db()
    assert export.status == "ready"
    assert client.get(url).status_code == 200


def test_a_failed_first_build_is_marked_failed(region, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(municipal_export, "write_workbook", broken)
    with pytest.raises(RuntimeError):
        municipal_export.build(region["first"].pk, MONTH)
    export = MunicipalRouteExport.objects.get()
    assert export.status == "failed" and not export.file


def test_the_screens_list_costs_the_same_for_more_exports(region, client):
    client.force_login(staff("head", CENTRE_HEAD))
    municipal_export.build(region["first"].pk, MONTH)
    with CaptureQueriesContext(connection) as few:
        client.get(SCREEN)
    municipal_export.build(region["second"].pk, MONTH)
    municipal_export.build(region["first"].pk, datetime.date(2026, 11, 1))
    with CaptureQueriesContext(connection) as more:
        page = client.get(SCREEN)
    assert len(page.context["exports"]) == 3
    assert len(more.captured_queries) == len(few.captured_queries)


def test_the_menu_item_shows_to_the_centre_head_and_methodists_only(region, rf):
    item = municipal_export_menu_item()
    for user, shown in [
        (staff("head", CENTRE_HEAD), True),
        (methodist_of(region["first"], "meta"), True),
        (staff("cur", CURATOR), False),
        (staff("plain"), False),
    ]:
        request = rf.get("/admin/")
        request.user = user
        assert item.is_shown(request) is shown
