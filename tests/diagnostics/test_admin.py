"""Diagnostics in the admin: entering results with scores, validation, the teacher chooser, rights."""

import datetime
import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from tests.factories import UserFactory, make_teacher
from wagtail_iom.models import Competency, CompetencyScore, DiagnosticResult

pytestmark = pytest.mark.django_db

ADD_URL = reverse("wagtail_iom_diagnostics:add")
INDEX_URL = reverse("wagtail_iom_diagnostics:index")
CHOOSER_URL = reverse("wagtail_iom_teacher_chooser:choose")
CHOOSER_RESULTS_URL = reverse("wagtail_iom_teacher_chooser:choose_results")
TODAY = timezone.localdate()


def competency(code):
    return Competency.objects.get(code=code)


def post_data(teacher, scores, **fields):
    data = {
        "teacher": teacher.pk,
        "date": (TODAY - datetime.timedelta(days=3)).isoformat(),
        "procedure": "regional",
        "procedure_name": "Региональная диагностика 2026",
        "total_score": "62.5",
        "level": "basic",
        "comment": "",
        "scores": inline_formset(
            [{"competency": competency(code).pk, "score": score} for code, score in scores]
        ),
    }
    data.update(fields)
    return nested_form_data(data)


def staff(username, *codenames):
    user = UserFactory(username=username)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["access_admin", *codenames]))
    return user


def make_result(teacher, **fields):
    values = {
        "teacher": teacher,
        "date": TODAY - datetime.timedelta(days=10),
        "procedure": "self",
        "total_score": 40,
        "level": "low",
    }
    values.update(fields)
    return DiagnosticResult.objects.create(**values)


# Creating results -----------------------------------------------------------------------------


def test_create_a_result_with_scores(admin_client, superuser, teacher):
    response = admin_client.post(ADD_URL, post_data(teacher, [("METH-1", "35"), ("DIG-1", "90")]))
    assert response.status_code == 302
    result = DiagnosticResult.objects.get()
    assert result.teacher == teacher
    assert result.entered_by == superuser
    assert result.procedure_name == "Региональная диагностика 2026"
    scores = {s.competency.code: s.score for s in result.scores.select_related("competency")}
    assert scores == {"METH-1": 35, "DIG-1": 90}


def test_the_add_form_renders_with_the_teacher_chooser(admin_client):
    response = admin_client.get(ADD_URL)
    assert response.status_code == 200
    assert CHOOSER_URL in response.content.decode()


def test_a_competency_twice_is_a_form_error_not_a_server_error(admin_client, teacher):
    response = admin_client.post(ADD_URL, post_data(teacher, [("METH-1", "35"), ("METH-1", "60")]))
    assert response.status_code == 200
    formset = response.context["form"].formsets["scores"]
    assert not formset.forms[0].errors
    assert formset.forms[1].has_error("competency", code="duplicate_competency")
    assert not DiagnosticResult.objects.exists()


def test_a_competency_twice_when_editing(admin_client, teacher):
    result = make_result(teacher)
    CompetencyScore.objects.create(result=result, competency=competency("METH-1"), score=20)
    score = result.scores.get()
    data = post_data(teacher, [])
    data.update(
        nested_form_data(
            {
                "scores": inline_formset(
                    [
                        {"id": score.pk, "competency": competency("METH-1").pk, "score": "25"},
                        {"competency": competency("METH-1").pk, "score": "30"},
                    ],
                    initial=1,
                )
            }
        )
    )
    response = admin_client.post(reverse("wagtail_iom_diagnostics:edit", args=[result.pk]), data)
    assert response.status_code == 200
    assert response.context["form"].formsets["scores"].forms[1].has_error("competency")
    assert list(result.scores.values_list("score", flat=True)) == [20]


def test_deleting_a_row_and_adding_the_same_competency_again_is_allowed(admin_client, teacher):
    result = make_result(teacher)
    old = CompetencyScore.objects.create(result=result, competency=competency("METH-1"), score=20)
    data = post_data(teacher, [])
    data.update(
        nested_form_data(
            {
                "scores": inline_formset(
                    [
                        {
                            "id": old.pk,
                            "competency": competency("METH-1").pk,
                            "score": "20",
                            "DELETE": "1",
                        },
                        {"competency": competency("METH-1").pk, "score": "75"},
                    ],
                    initial=1,
                )
            }
        )
    )
    response = admin_client.post(reverse("wagtail_iom_diagnostics:edit", args=[result.pk]), data)
    assert response.status_code == 302
    assert list(result.scores.values_list("score", flat=True)) == [75]


def test_score_above_100_is_an_error(admin_client, teacher):
    response = admin_client.post(ADD_URL, post_data(teacher, [("METH-1", "150")]))
    assert response.status_code == 200
    formset = response.context["form"].formsets["scores"]
    assert formset.forms[0].has_error("score", code="max_value")
    assert not DiagnosticResult.objects.exists()


def test_total_above_100_is_an_error(admin_client, teacher):
    response = admin_client.post(ADD_URL, post_data(teacher, [], total_score="101"))
    assert response.status_code == 200
    assert response.context["form"].has_error("total_score", code="max_value")


def test_future_date_is_an_error(admin_client, teacher):
    tomorrow = (TODAY + datetime.timedelta(days=1)).isoformat()
    response = admin_client.post(ADD_URL, post_data(teacher, [("METH-1", "50")], date=tomorrow))
    assert response.status_code == 200
    assert response.context["form"].has_error("date", code="future")
    assert not DiagnosticResult.objects.exists()


def test_editing_keeps_who_entered_the_result(client, admin_client, superuser, teacher):
    result = make_result(teacher, entered_by=superuser)
    curator = staff(
        "curator", "change_diagnosticresult", "view_diagnosticresult", "view_teacherprofile"
    )
    client.force_login(curator)
    response = client.post(
        reverse("wagtail_iom_diagnostics:edit", args=[result.pk]),
        post_data(teacher, [("METH-1", "70")], total_score="70"),
    )
    assert response.status_code == 302
    result.refresh_from_db()
    assert result.total_score == 70
    assert result.entered_by == superuser


# Rights ---------------------------------------------------------------------------------------


def test_a_user_without_the_right_to_enter_diagnostics_is_refused(client, teacher):
    editor = staff("editor", "view_teacherprofile")
    client.force_login(editor)
    assert client.get(ADD_URL).status_code == 302  # sent away with "permission denied"
    client.post(ADD_URL, post_data(teacher, [("METH-1", "35")]))
    assert not DiagnosticResult.objects.exists()
    assert client.get(INDEX_URL).status_code == 302


def test_a_teacher_is_not_let_into_the_admin(client, teacher):
    client.force_login(teacher.user)
    client.post(ADD_URL, post_data(teacher, [("METH-1", "35")]))
    assert not DiagnosticResult.objects.exists()


def test_only_visible_teachers_can_be_chosen_in_the_form(client, teacher):
    # May add results, but sees no teachers: the teacher's id is not a valid choice.
    curator = staff("curator", "add_diagnosticresult")
    client.force_login(curator)
    response = client.post(ADD_URL, post_data(teacher, [("METH-1", "35")]))
    assert response.status_code == 200
    assert response.context["form"].has_error("teacher", code="invalid_choice")
    assert not DiagnosticResult.objects.exists()


def test_curator_who_may_enter_diagnostics_creates_results(client, teacher):
    curator = staff(
        "curator", "add_diagnosticresult", "view_diagnosticresult", "view_teacherprofile"
    )
    client.force_login(curator)
    response = client.post(ADD_URL, post_data(teacher, [("METH-1", "35")]))
    assert response.status_code == 302
    assert DiagnosticResult.objects.get().entered_by == curator


def test_results_of_teachers_not_visible_are_not_listed_nor_found(client, teacher):
    result = make_result(teacher)
    reader = staff("reader", "view_diagnosticresult", "change_diagnosticresult")
    client.force_login(reader)
    response = client.get(INDEX_URL)
    assert response.status_code == 200
    assert list(response.context["object_list"]) == []
    assert client.get(reverse("wagtail_iom_diagnostics:edit", args=[result.pk])).status_code == 404
    assert (
        client.post(reverse("wagtail_iom_diagnostics:delete", args=[result.pk])).status_code == 404
    )
    assert DiagnosticResult.objects.filter(pk=result.pk).exists()


# Listing --------------------------------------------------------------------------------------


@pytest.fixture
def results(teacher, other_teacher):
    return [
        make_result(teacher, procedure="self", level="low"),
        make_result(other_teacher, procedure="regional", level="high", total_score=90),
        make_result(
            other_teacher,
            procedure="federal",
            level="basic",
            date=TODAY - datetime.timedelta(days=400),
        ),
    ]


def listed(response):
    return sorted(obj.pk for obj in response.context["object_list"])


def test_listing_shows_every_visible_result(admin_client, results):
    response = admin_client.get(INDEX_URL)
    assert response.status_code == 200
    assert listed(response) == sorted(r.pk for r in results)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"procedure": "regional"}, [1]),
        ({"level": "low"}, [0]),
        ({"q": "иванова"}, [0]),
        ({"q": "ИВАН петров"}, [0, 1, 2]),  # Иванова … Петровна too: words match any name
        ({"q": "иван   ПЕТРОВНА мария"}, [0]),
        ({"q": "сидоров"}, []),
    ],
)
def test_listing_filters_and_search(admin_client, results, params, expected):
    response = admin_client.get(INDEX_URL, params)
    assert listed(response) == sorted(results[i].pk for i in expected)


def test_listing_filters_by_date(admin_client, results):
    since = (TODAY - datetime.timedelta(days=30)).isoformat()
    response = admin_client.get(INDEX_URL, {"date_from": since})
    assert listed(response) == sorted([results[0].pk, results[1].pk])


def test_bad_filter_value_is_no_server_error(admin_client, results):
    assert admin_client.get(INDEX_URL, {"date_from": "not a date"}).status_code == 200


def test_listing_query_count_does_not_grow(admin_client, teacher, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_result(teacher)
    admin_client.get(INDEX_URL)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(INDEX_URL)
    for number in range(10):
        make_result(make_teacher(username=f"t{number}", last_name=f"Учитель{number}"))
    with CaptureQueriesContext(connection) as many:
        admin_client.get(INDEX_URL)
    assert len(many) == len(few)


# The teacher chooser --------------------------------------------------------------------------


def chooser_html(response):
    assert response.status_code == 200
    payload = json.loads(response.content)
    return payload.get("html", "")


def test_chooser_lists_teachers(admin_client, teacher, other_teacher):
    html = chooser_html(admin_client.get(CHOOSER_URL))
    assert teacher.full_name in html
    assert other_teacher.full_name in html


def test_chooser_searches_by_last_name(admin_client, teacher, other_teacher):
    response = admin_client.get(CHOOSER_RESULTS_URL, {"q": "петр"})
    assert response.status_code == 200
    html = response.content.decode()
    assert other_teacher.full_name in html
    assert teacher.full_name not in html


def test_chooser_lists_only_teachers_visible_to_the_user(client, teacher):
    curator = staff("curator", "add_diagnosticresult")
    client.force_login(curator)
    html = chooser_html(client.get(CHOOSER_URL))
    assert teacher.full_name not in html
    chosen = client.get(reverse("wagtail_iom_teacher_chooser:chosen", args=[teacher.pk]))
    assert chosen.status_code == 404


def test_chosen_returns_the_teacher(admin_client, teacher):
    response = admin_client.get(reverse("wagtail_iom_teacher_chooser:chosen", args=[teacher.pk]))
    assert response.status_code == 200
    payload = json.loads(response.content)
    assert payload["result"]["id"] == str(teacher.pk)
    assert payload["result"]["title"] == teacher.full_name


def test_menu_item_is_shown_to_those_who_may_see_diagnostics(client, admin_client):
    assert INDEX_URL in admin_client.get(reverse("wagtailadmin_home")).content.decode()
    client.force_login(staff("editor"))
    assert INDEX_URL not in client.get(reverse("wagtailadmin_home")).content.decode()


def test_history_and_usage_of_a_result(client, admin_client, teacher):
    result = make_result(teacher)
    for name in ("history", "usage"):
        url = reverse(f"wagtail_iom_diagnostics:{name}", args=[result.pk])
        assert admin_client.get(url).status_code == 200, name
    client.force_login(staff("reader", "view_diagnosticresult", "change_diagnosticresult"))
    for name in ("history", "usage"):
        url = reverse(f"wagtail_iom_diagnostics:{name}", args=[result.pk])
        assert client.get(url).status_code == 404, name


def test_chooser_bad_page_number_is_not_a_server_error(admin_client, teacher):
    assert admin_client.get(CHOOSER_RESULTS_URL, {"p": "abc"}).status_code in (200, 404)


def test_edit_form_shows_the_scores(admin_client, teacher):
    result = make_result(teacher)
    CompetencyScore.objects.create(result=result, competency=competency("DIG-1"), score=77)
    response = admin_client.get(reverse("wagtail_iom_diagnostics:edit", args=[result.pk]))
    assert response.status_code == 200
    formset = response.context["form"].formsets["scores"]
    assert [form.instance.score for form in formset.initial_forms] == [77]


def test_a_second_result_of_one_procedure_on_one_day_is_refused(admin_client, teacher):
    data = post_data(teacher, [("METH-1", "35")])
    assert admin_client.post(ADD_URL, data).status_code == 302
    response = admin_client.post(ADD_URL, data)
    assert response.status_code == 200
    assert response.context["form"].errors
    assert DiagnosticResult.objects.filter(teacher=teacher).count() == 1
