"""The methodical audit of a completed route (000 §5.13, 002): who may audit which route, what
is recorded, the route's status, the level group from the diagnostics, the one-page PDF, the
e-mail to the centre, the form's errors, and the audits' list with its filter and counts."""

import datetime
import subprocess

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from tests.factories import make_teacher
from tests.routes import test_admin
from tests.routes.test_admin import END, login, refused, set_status, staff
from wagtail_iom.core import access
from wagtail_iom.models import (
    DiagnosticResult,
    Route,
    RouteAudit,
    RouteStatus,
    RouteTransition,
    StaffRole,
)
from wagtail_iom.routes import audit as route_audit
from wagtail_iom.routes import builder as route_builder
from wagtail_iom.routes import workflow
from wagtail_iom.routes.services import RouteError

pytestmark = pytest.mark.django_db

# The people and routes of the routes' admin tests: two municipalities, a curator, a methodist,
# a school head and the centre head.
world = test_admin.world

TODAY = timezone.localdate()


def url(name, *args):
    return reverse(f"wagtail_iom_routes:{name}", args=args)


LIST_URL = "wagtail_iom_route_audits:index"


def completed(route, goal="Освоить формирующее оценивание.", tasks="Задача один.\nЗадача два."):
    Route.objects.filter(pk=route.pk).update(goal=goal, tasks=tasks)
    route.refresh_from_db()
    set_status(route, RouteStatus.COMPLETED)
    return route


def diagnostic(teacher, days_ago, level):
    return DiagnosticResult.objects.create(
        teacher=teacher,
        date=TODAY - datetime.timedelta(days=days_ago),
        procedure="self",
        level=level,
        total_score=50,
    )


def data(rows=3, level="basic", **fields):
    return {
        "results": [{"result": "achieved", "comment": ""} for _ in range(rows)],
        "transfer_to_practice": "Применяет приёмы на уроках.",
        "level_group": level,
        "further_support": "Конкурс «Педагог года».",
        "conclusion": "Маршрут выполнен.",
        **fields,
    }


def form_data(rows=3, level="basic", **fields):
    post = {f"result_{n}": "achieved" for n in range(rows)}
    post.update(
        {
            "transfer_to_practice": "Применяет приёмы на уроках.",
            "level_group": level,
            "further_support": "Конкурс «Педагог года».",
            "conclusion": "Маршрут выполнен.",
        }
    )
    post.update(fields)
    return post


@pytest.fixture
def centre_head(world):
    head = world["head"]
    head.email = "head@centre.example"
    head.save()
    return head


# Who may audit which route -------------------------------------------------------------------


def test_a_methodist_audits_a_completed_route_of_their_municipality(world):
    route = completed(world["routes"]["a"])
    assert access.can_write_recommendations(world["methodist"], route)
    audit = route_audit.record_audit(route, world["methodist"], data(), notify=False)
    route.refresh_from_db()
    assert route.status == RouteStatus.AUDITED
    # The audit closes section 4: it was judged with these recommendations.
    assert not access.can_write_recommendations(world["methodist"], route)
    assert audit.auditor == world["methodist"] and audit.route == route
    assert [row["kind"] for row in audit.results] == ["goal", "task", "task"]
    assert audit.results[1]["text"] == "Задача один."
    move = RouteTransition.objects.get(route=route, to_status=RouteStatus.AUDITED)
    assert (move.from_status, move.by) == (RouteStatus.COMPLETED, world["methodist"])


def test_a_methodist_of_another_municipality_may_not_audit(world):
    route = completed(world["routes"]["b"])  # teacher B: the other municipality
    with pytest.raises(RouteError) as caught:
        route_audit.record_audit(route, world["methodist"], data(), notify=False)
    assert caught.value.code == "forbidden"
    route.refresh_from_db()
    assert route.status == RouteStatus.COMPLETED
    assert not RouteAudit.objects.exists()


@pytest.mark.parametrize(
    "status",
    [RouteStatus.DEVELOPMENT, RouteStatus.APPROVED, RouteStatus.IMPLEMENTATION],
)
def test_only_a_completed_route_is_audited(world, status):
    route = completed(world["routes"]["a"])
    set_status(route, status)
    with pytest.raises(RouteError) as caught:
        route_audit.record_audit(route, world["methodist"], data(), notify=False)
    assert caught.value.code == "status"
    assert not RouteAudit.objects.exists()


def test_a_route_is_audited_once(world):
    route = completed(world["routes"]["a"])
    route_audit.record_audit(route, world["methodist"], data(), notify=False)
    with pytest.raises(RouteError) as caught:
        route_audit.record_audit(route, world["head"], data(), notify=False)
    assert caught.value.code == "already_audited"
    assert RouteAudit.objects.count() == 1


def test_curators_and_school_heads_do_not_audit(world):
    route = completed(world["routes"]["a"])
    for user in (world["curator"], world["school_head"]):
        with pytest.raises(RouteError) as caught:
            route_audit.record_audit(route, user, data(), notify=False)
        assert caught.value.code == "forbidden"
    assert not RouteAudit.objects.exists()


def test_a_bare_move_to_audited_is_refused(world):
    route = completed(world["routes"]["a"])
    with pytest.raises(RouteError) as caught:
        workflow.transition(route, RouteStatus.AUDITED, world["methodist"])
    assert caught.value.code == "audit_required"
    route.refresh_from_db()
    assert route.status == RouteStatus.COMPLETED


def test_the_form_refuses_others_in_the_admin(client, world):
    route = completed(world["routes"]["a"])
    other = completed(world["routes"]["b"])
    # The methodist of another municipality does not reach the route at all.
    login(client, world["methodist"])
    assert client.get(url("audit", other.pk)).status_code == 404
    assert client.post(url("audit", other.pk), form_data()).status_code == 404
    # The curator sees the route but may not audit it.
    login(client, world["curator"])
    assert client.get(url("audit", route.pk)).status_code == 403
    assert client.post(url("audit", route.pk), form_data()).status_code == 403
    # A route in implementation: back to the route with a message.
    set_status(route, RouteStatus.IMPLEMENTATION)
    login(client, world["methodist"])
    response = client.post(url("audit", route.pk), form_data())
    assert response.status_code == 302 and response.url == url("inspect", route.pk)
    # A bare transition to audited changes nothing.
    set_status(route, RouteStatus.COMPLETED)
    client.post(url("transition", route.pk, RouteStatus.AUDITED), {"comment": "Проверено"})
    route.refresh_from_db()
    assert route.status == RouteStatus.COMPLETED
    assert not RouteAudit.objects.exists()


# The form --------------------------------------------------------------------------------------


def test_the_route_page_links_the_audit_form(client, world):
    route = completed(world["routes"]["a"])
    login(client, world["methodist"])
    response = client.get(url("inspect", route.pk))
    assert url("audit", route.pk) in response.content.decode()
    assert url("transition", route.pk, RouteStatus.AUDITED) not in response.content.decode()


def test_the_form_records_the_audit(client, world, django_capture_on_commit_callbacks):
    route = completed(world["routes"]["a"])
    login(client, world["methodist"])
    assert client.get(url("audit", route.pk)).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url("audit", route.pk),
            form_data(result_1="partly", comment_1="Частично", result_2="not_achieved"),
        )
    assert response.status_code == 302 and response.url == url("inspect", route.pk)
    audit = RouteAudit.objects.get(route=route)
    assert [row["result"] for row in audit.results] == ["achieved", "partly", "not_achieved"]
    assert audit.results[1]["comment"] == "Частично"
    route.refresh_from_db()
    assert route.status == RouteStatus.AUDITED
    # The route's page shows it, with the PDF.
    page = client.get(url("inspect", route.pk)).content.decode()
    assert 'id="iom-route-audit"' in page and url("audit_pdf", route.pk) in page
    # And the form is no longer offered.
    assert client.get(url("audit", route.pk)).status_code == 302


@pytest.mark.parametrize(
    "fields",
    [
        {"result_0": ""},
        {"result_1": "brilliant"},
        {"level_group": "stellar"},
        {"level_group": ""},
        {"conclusion": "  "},
        {"transfer_to_practice": ""},
        {"conclusion": "я" * 4001},
        {"comment_2": "я" * 1001},
    ],
)
def test_bad_input_is_a_form_error_not_a_500(client, world, fields):
    route = completed(world["routes"]["a"])
    login(client, world["methodist"])
    response = client.post(url("audit", route.pk), form_data(**fields))
    assert response.status_code == 200
    assert response.context["form"].errors
    route.refresh_from_db()
    assert route.status == RouteStatus.COMPLETED
    assert not RouteAudit.objects.exists()


def test_the_service_checks_the_data_too(world):
    route = completed(world["routes"]["a"])
    with pytest.raises(route_audit.AuditInvalid) as caught:
        route_audit.record_audit(
            route, world["methodist"], data(rows=1, level="x", conclusion=""), notify=False
        )
    assert set(caught.value.errors) == {"result_1", "result_2", "level_group", "conclusion"}
    assert not RouteAudit.objects.exists()


# The level group -------------------------------------------------------------------------------


def test_the_level_group_defaults_to_the_latest_diagnostic(client, world):
    route = completed(world["routes"]["a"])
    teacher = world["teachers"]["a"]
    diagnostic(teacher, 400, "low")
    latest = diagnostic(teacher, 30, "elevated")
    diagnostic(world["teachers"]["b"], 1, "high")  # another teacher's
    assert route_audit.initial_level(route) == ("elevated", latest)
    login(client, world["methodist"])
    response = client.get(url("audit", route.pk))
    assert response.context["form"].initial["level_group"] == "elevated"

    audit = route_audit.record_audit(
        route, world["methodist"], data(level="elevated"), notify=False
    )
    assert (audit.level_group, audit.level_from_diagnostic, audit.diagnostic) == (
        "elevated",
        True,
        latest,
    )


def test_the_level_group_can_be_changed(world):
    route = completed(world["routes"]["a"])
    latest = diagnostic(world["teachers"]["a"], 30, "elevated")
    audit = route_audit.record_audit(route, world["methodist"], data(level="basic"), notify=False)
    assert (audit.level_group, audit.level_from_diagnostic, audit.diagnostic) == (
        "basic",
        False,
        latest,
    )


def test_without_diagnostics_the_level_group_is_chosen(world):
    route = completed(world["routes"]["a"])
    assert route_audit.initial_level(route) == ("", None)
    audit = route_audit.record_audit(route, world["methodist"], data(level="high"), notify=False)
    assert (audit.level_from_diagnostic, audit.diagnostic) == (False, None)


# The PDF and the e-mail ------------------------------------------------------------------------


def pdf_pages(content, tmp_path):
    path = tmp_path / "audit.pdf"
    path.write_bytes(content)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    pages = [line for line in info.stdout.splitlines() if line.startswith("Pages:")]
    return int(pages[0].split()[1])


def pdf_text(content, tmp_path):
    path = tmp_path / "audit-text.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.mark.requires_tool("pango", "pdfinfo", "pdftotext")
def test_the_pdf_is_one_page(client, world, tmp_path):
    route = completed(world["routes"]["a"])
    audit = route_audit.record_audit(route, world["methodist"], data(), notify=False)
    login(client, world["school_head"])  # whoever sees the route prints its audit
    response = client.get(url("audit_pdf", route.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert route_audit.audit_filename(audit) in response["Content-Disposition"]
    content = b"".join(response.streaming_content) if response.streaming else response.content
    assert pdf_pages(content, tmp_path) == 1
    text = pdf_text(content, tmp_path)
    assert "Алексеева" in text and "Маршрут выполнен." in text
    # Not the audit of a route the user does not reach; not an audit that does not exist.
    login(client, world["methodist"])
    assert client.get(url("audit_pdf", world["routes"]["b"].pk)).status_code == 404
    assert client.get(url("audit_pdf", world["routes"]["c"].pk)).status_code == 404


@pytest.mark.requires_tool("pango", "pdfinfo", "pdftotext")
def test_long_texts_are_shortened_to_one_page(world, tmp_path):
    tasks = "\n".join(f"Задача номер {n}: " + "разработать и апробировать " * 12 for n in range(40))
    route = completed(world["routes"]["a"], goal="Цель " * 300, tasks=tasks)
    long = "Очень длинный текст заключения. " * 120
    rows = len(route_audit.audit_rows(route))
    results = [{"result": "partly", "comment": "Комментарий " * 80} for _ in range(rows)]
    audit = route_audit.record_audit(
        route,
        world["methodist"],
        data(
            results=results,
            transfer_to_practice=long,
            further_support=long,
            conclusion=long[:4000],
        ),
        notify=False,
    )
    content = route_audit.audit_pdf(audit)
    assert pdf_pages(content, tmp_path) == 1
    text = pdf_text(content, tmp_path)
    assert "…" in text
    # The page says that it is shortened; the full audit is kept.
    assert RouteAudit.objects.get(pk=audit.pk).conclusion == long[:4000].strip()


@pytest.mark.requires_tool("pango", "pdfinfo")
def test_the_centre_gets_the_audit_with_its_pdf(
    world, centre_head, tmp_path, django_capture_on_commit_callbacks
):
    route = completed(world["routes"]["a"])
    with django_capture_on_commit_callbacks(execute=True):
        audit = route_audit.record_audit(route, world["methodist"], data())
    assert [message.to for message in mail.outbox] == [["head@centre.example"]]
    message = mail.outbox[0]
    assert message.extra_headers["Auto-Submitted"] == "auto-generated"
    ((filename, content, mimetype),) = message.attachments
    assert (filename, mimetype) == (route_audit.audit_filename(audit), "application/pdf")
    assert pdf_pages(content, tmp_path) == 1
    assert url("inspect", route.pk) in message.body
    # Once: a repeated task sends nothing more.
    from wagtail_iom.routes.emails import send_route_audit

    assert send_route_audit(audit.pk) == 0
    assert len(mail.outbox) == 1


def test_without_a_centre_head_the_audit_is_logged(
    world, caplog, django_capture_on_commit_callbacks
):
    world["head"].email = ""  # the only head of the centre has no e-mail address
    world["head"].save()
    route = completed(world["routes"]["a"])
    with django_capture_on_commit_callbacks(execute=True):
        route_audit.record_audit(route, world["methodist"], data())
    assert mail.outbox == []
    assert "was not e-mailed" in caplog.text


def test_nothing_is_sent_when_the_audit_is_refused(
    world, centre_head, django_capture_on_commit_callbacks
):
    route = completed(world["routes"]["a"])
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RouteError):
            route_audit.record_audit(route, world["curator"], data())
    assert callbacks == [] and mail.outbox == []


# The list --------------------------------------------------------------------------------------


@pytest.fixture
def audits(world):
    """Audits of A (group basic) and C (group low) in the methodist's municipality, and of B
    (group high) in the other."""
    made = {}
    for key, level in (("a", "basic"), ("c", "low"), ("b", "high")):
        route = completed(world["routes"][key])
        made[key] = route_audit.record_audit(route, world["head"], data(level=level), notify=False)
    return made


def listed(response):
    return sorted(audit.route.teacher.last_name for audit in response.context["object_list"])


def counts(response):
    return {group["value"]: group["count"] for group in response.context["level_groups"]}


def test_the_list_is_scoped(client, world, audits):
    login(client, world["head"])
    assert listed(client.get(reverse(LIST_URL))) == ["Алексеева", "Борисова", "Васильева"]
    login(client, world["methodist"])
    response = client.get(reverse(LIST_URL))
    assert listed(response) == ["Алексеева", "Васильева"]
    assert counts(response) == {"low": 1, "basic": 1, "elevated": 0, "high": 0}
    # The methodist's list is the municipality's already: no choice of a municipality.
    assert "municipality" not in response.context["filters"].filters
    # The school head: the school's teachers; the curator: the assigned teachers.
    login(client, world["school_head"])
    assert listed(client.get(reverse(LIST_URL))) == ["Алексеева"]
    login(client, world["curator"])
    assert listed(client.get(reverse(LIST_URL))) == ["Алексеева"]


def test_the_list_filters_by_level_group_and_keeps_the_counts(client, world, audits):
    login(client, world["head"])
    response = client.get(reverse(LIST_URL), {"level_group": "high"})
    assert listed(response) == ["Борисова"]
    # The counts are the four groups' within the other filters, not only the chosen one.
    assert counts(response) == {"low": 1, "basic": 1, "elevated": 0, "high": 1}
    response = client.get(reverse(LIST_URL), {"municipality": world["m1"].pk})
    assert listed(response) == ["Алексеева", "Васильева"]
    assert counts(response) == {"low": 1, "basic": 1, "elevated": 0, "high": 0}
    # Grouped: group 1 (low) first.
    response = client.get(reverse(LIST_URL))
    levels = [audit.level_group for audit in response.context["object_list"]]
    assert levels == ["low", "basic", "high"]
    # Bad filter values are a form error, not a 500.
    assert (
        client.get(reverse(LIST_URL), {"level_group": "x", "municipality": "y"}).status_code == 200
    )


def test_the_list_is_for_those_who_see_routes(client, world, audits):
    from django.contrib.auth.models import Group, Permission

    nobody = staff("nobody", StaffRole.CURATOR)
    admin_only = Group.objects.create(name="admin only")
    admin_only.permissions.add(
        Permission.objects.get(codename="access_admin", content_type__app_label="wagtailadmin")
    )
    nobody.groups.set([admin_only])
    login(client, nobody)
    assert refused(client.get(reverse(LIST_URL)))


def test_the_list_queries_do_not_grow(client, world, audits, django_assert_max_num_queries):
    login(client, world["head"])
    client.get(reverse(LIST_URL))  # warm up
    with django_assert_max_num_queries(40) as few:
        client.get(reverse(LIST_URL))
    # Three more audits of routes of new teachers: the number of queries stays the same.
    for n in range(3):
        teacher = make_teacher(
            username=f"extra{n}", last_name=f"Д{n}", municipality=world["m1"], school=world["s1"]
        )
        extra = completed(
            route_builder.create_route(teacher, world["curator"], TODAY, END, world["head"])
        )
        route_audit.record_audit(extra, world["head"], data(), notify=False)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse(LIST_URL))
    assert len(response.context["object_list"]) == 6
