"""The curator's recommendation letter (000 §5.5): an editable template with placeholders, sent
to one teacher after a preview or to the ticked ones, only by the teacher's curator or the
centre head, never to a teacher who withdrew the consent, and once per double click."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import MunicipalityFactory, SchoolFactory, UserFactory, make_teacher
from wagtail_iom.core import access
from wagtail_iom.curators import assignments, recommendations
from wagtail_iom.curators import emails as curator_emails
from wagtail_iom.curators.admin import RecommendationLetterForm
from wagtail_iom.models import (
    PersonalDataConsent,
    RecommendationLetter,
    RecommendationSent,
    SentNotification,
    StaffMembership,
    StaffRole,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english_messages")]

INDEX = reverse("wagtail_iom_recommendations:index")
LETTER = reverse("wagtail_iom_recommendations:letter")


def send_url(teacher):
    return reverse("wagtail_iom_recommendations:send", args=[teacher.pk])


def staff(username, role, *codenames, first_name="", last_name="Staff"):
    user = UserFactory(
        username=username, first_name=first_name or username.capitalize(), last_name=last_name
    )
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in codenames:
        user.user_permissions.add(
            Permission.objects.get(codename=codename, content_type__app_label="wagtail_iom")
        )
    StaffMembership.objects.create(user=user, role=role)
    return user


def login(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def school():
    return SchoolFactory(municipality=MunicipalityFactory(name="Гусевский округ"), name="Школа 1")


@pytest.fixture
def head():
    return staff("head", StaffRole.CENTRE_HEAD, "add_curatorassignment", "view_teacherprofile")


@pytest.fixture
def curator():
    return staff("curator", StaffRole.CURATOR, "view_teacherprofile", first_name="Анна")


@pytest.fixture
def other_curator():
    return staff("curator2", StaffRole.CURATOR, "view_teacherprofile")


@pytest.fixture
def teachers(school, head, curator, other_curator):
    mine = [
        make_teacher(username=f"t{n}", last_name=f"Петрова{n}", first_name="Мария", school=school)
        for n in range(3)
    ]
    theirs = make_teacher(username="other", last_name="Чужая", school=school)
    assignments.assign(mine, curator, head)
    assignments.assign([theirs], other_curator, head)
    return mine, theirs


@pytest.fixture
def letter():
    return RecommendationLetter.objects.create(
        subject="ИОМ для {teacher}",
        body="Здравствуйте, {teacher_name}! Куратор: {curator}. Кабинет: {cabinet_url}. "
        "Срок: {deadline}.",
        deadline=datetime.date(2026, 10, 15),
    )


def post_and_run(client, url, data, capture):
    with capture(execute=True):
        return client.post(url, data)


def test_one_click_sends_one_rendered_email_to_the_teacher(
    curator, teachers, letter, mailoutbox, django_capture_on_commit_callbacks
):
    teacher = teachers[0][0]
    client = login(curator)
    preview = client.get(send_url(teacher))
    assert preview.status_code == 200
    assert preview.context["letter_subject"] == f"ИОМ для {teacher.full_name}"

    response = post_and_run(client, send_url(teacher), {}, django_capture_on_commit_callbacks)

    assert response.status_code == 302
    assert response.url == INDEX
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == [teacher.user.email]
    assert email.subject == f"ИОМ для {teacher.full_name}"
    assert "Здравствуйте, Мария Петровна!" in email.body
    assert "Куратор: Анна Staff." in email.body
    assert "/iom/cabinet/" in email.body
    assert "15 октября 2026" in email.body or "15 October 2026" in email.body
    assert "{" not in email.body
    assert email.reply_to == [curator.email]
    assert email.extra_headers["Auto-Submitted"] == "auto-generated"
    html = email.alternatives[0][0]
    assert "Мария Петровна" in html
    row = RecommendationSent.objects.get()
    assert (row.teacher, row.sent_by) == (teacher, curator)
    assert SentNotification.objects.filter(key=f"recommendation:{row.pk}").count() == 1


def test_the_default_letter_is_used_until_one_is_saved(
    curator, teachers, mailoutbox, django_capture_on_commit_callbacks
):
    teacher = teachers[0][0]
    assert not RecommendationLetter.objects.exists()
    post_and_run(login(curator), send_url(teacher), {}, django_capture_on_commit_callbacks)
    assert mailoutbox[0].subject == recommendations.DEFAULT_SUBJECT
    assert "Мария Петровна" in mailoutbox[0].body
    assert "/iom/cabinet/profile/" in mailoutbox[0].body
    assert "/iom/cabinet/request/" in mailoutbox[0].body
    assert "{" not in mailoutbox[0].body
    assert (
        recommendations.unknown_placeholders(
            recommendations.DEFAULT_SUBJECT, recommendations.DEFAULT_BODY
        )
        == []
    )


def test_bulk_sends_to_the_selected_teachers_only(
    curator, teachers, letter, mailoutbox, django_capture_on_commit_callbacks
):
    mine, _ = teachers
    response = post_and_run(
        login(curator),
        INDEX,
        {"teacher": [mine[0].pk, mine[2].pk]},
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 302
    assert sorted(m.to[0] for m in mailoutbox) == sorted([mine[0].user.email, mine[2].user.email])
    assert set(RecommendationSent.objects.values_list("teacher_id", flat=True)) == {
        mine[0].pk,
        mine[2].pk,
    }


@pytest.mark.parametrize("how", ["bulk", "one"])
def test_a_teacher_of_another_curator_is_refused_and_nothing_sent(
    how, curator, teachers, letter, mailoutbox, django_capture_on_commit_callbacks
):
    mine, theirs = teachers
    client = login(curator)
    if how == "bulk":
        response = post_and_run(
            client, INDEX, {"teacher": [mine[0].pk, theirs.pk]}, django_capture_on_commit_callbacks
        )
        assert response.status_code == 403
    else:
        assert client.get(send_url(theirs)).status_code == 404
        response = post_and_run(client, send_url(theirs), {}, django_capture_on_commit_callbacks)
        assert response.status_code == 404
    assert mailoutbox == []
    assert not RecommendationSent.objects.exists()


def test_forged_ids_are_refused(curator, teachers, mailoutbox):
    assert login(curator).post(INDEX, {"teacher": ["x"]}).status_code == 403
    assert mailoutbox == []


def test_a_former_curator_may_no_longer_send(curator, head, teachers, letter):
    teacher = teachers[0][0]
    assignments.unassign([teacher], head)
    assert login(curator).post(send_url(teacher)).status_code == 404
    assert not RecommendationSent.objects.exists()


def test_who_may_open_the_screen(curator, head, teachers, school):
    methodist = staff("methodist", StaffRole.MUNICIPAL_METHODIST, "view_teacherprofile")
    assert login(methodist).get(INDEX).status_code == 403
    assert login(curator).get(LETTER).status_code == 403
    assert login(head).get(LETTER).status_code == 200
    response = login(head).get(INDEX)
    assert response.status_code == 200
    mine, theirs = teachers
    assert {row[0].pk for row in response.context["rows"]} == {t.pk for t in [*mine, theirs]}
    response = login(curator).get(INDEX)
    assert {row[0].pk for row in response.context["rows"]} == {t.pk for t in mine}


def test_the_centre_head_may_send_to_any_teacher_with_a_curator(
    head, curator, teachers, letter, mailoutbox, django_capture_on_commit_callbacks
):
    _, theirs = teachers
    post_and_run(login(head), send_url(theirs), {}, django_capture_on_commit_callbacks)
    assert [m.to[0] for m in mailoutbox] == [theirs.user.email]
    # The letter names the teacher's curator, not the head who sent it.
    assert "Curator2 Staff" in mailoutbox[0].body
    assert RecommendationSent.objects.get().sent_by == head


def test_unknown_placeholder_is_refused_naming_it(head):
    form = RecommendationLetterForm(
        data={
            "subject": "ИОМ {teacher}",
            "body": "Здравствуйте, {teacher.user.password} и {имя}!",
            "deadline": "",
        }
    )
    assert not form.is_valid()
    assert "{teacher.user.password}" in form.errors["body"][0]
    assert "{имя}" in form.errors["body"][0]
    assert "subject" not in form.errors

    response = login(head).post(LETTER, {"subject": "ИОМ {fio}", "body": "Текст", "deadline": ""})
    assert response.status_code == 200
    assert "{fio}" in response.context["form"].errors["subject"][0]
    assert not RecommendationLetter.objects.exists()


def test_without_a_date_the_deadline_is_two_weeks_after_the_sending(curator, teachers):
    the_letter = recommendations.default_letter()
    assert the_letter.deadline is None
    today = datetime.date(2026, 9, 1)
    assert recommendations.deadline(the_letter, today) == datetime.date(2026, 9, 15)
    subject, text = recommendations.rendered(teachers[0][0], curator, the_letter)
    assert "до  " not in text and "до :" not in text


def test_the_head_saves_the_letter(head, curator, teachers):
    response = login(head).post(
        LETTER,
        {"subject": "Маршрут: {teacher}", "body": "Куратор {curator}", "deadline": "2026-11-01"},
    )
    assert response.status_code == 302
    saved = RecommendationLetter.objects.get()
    assert (saved.subject, saved.deadline, saved.updated_by) == (
        "Маршрут: {teacher}",
        datetime.date(2026, 11, 1),
        head,
    )
    teacher = teachers[0][0]
    assert recommendations.rendered(teacher) == (
        f"Маршрут: {teacher.full_name}",
        "Куратор Анна Staff\n",
    )


def test_fill_inserts_values_as_plain_text():
    assert recommendations.fill("{teacher} {x}", {"teacher": "<b>{curator}</b>"}) == (
        "<b>{curator}</b> {x}"
    )


def test_withdrawn_consent_is_skipped(
    curator, teachers, letter, mailoutbox, django_capture_on_commit_callbacks
):
    mine, _ = teachers
    PersonalDataConsent.objects.filter(user=mine[1].user).update(withdrawn_at=timezone.now())
    response = post_and_run(
        login(curator),
        INDEX,
        {"teacher": [t.pk for t in mine]},
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 302
    assert sorted(m.to[0] for m in mailoutbox) == sorted([mine[0].user.email, mine[2].user.email])
    assert not RecommendationSent.objects.filter(teacher=mine[1]).exists()

    result = recommendations.send([mine[1].pk], curator)
    assert [t.pk for t in result.consent_withdrawn] == [mine[1].pk]
    assert (len(result.sent), result.skipped) == (0, 1)


def test_a_withdrawal_after_the_click_stops_the_task(
    curator, teachers, letter, mailoutbox, django_capture_on_commit_callbacks
):
    teacher = teachers[0][0]
    result = recommendations.send([teacher.pk], curator)
    PersonalDataConsent.objects.filter(user=teacher.user).update(withdrawn_at=timezone.now())
    assert curator_emails.send_recommendation(result.sent[0].pk) is False
    assert mailoutbox == []


def test_double_post_sends_one_email_and_a_later_resend_sends_again(
    curator, teachers, letter, mailoutbox, django_capture_on_commit_callbacks
):
    teacher = teachers[0][0]
    client = login(curator)
    post_and_run(client, send_url(teacher), {}, django_capture_on_commit_callbacks)
    post_and_run(client, send_url(teacher), {}, django_capture_on_commit_callbacks)
    post_and_run(client, INDEX, {"teacher": [teacher.pk]}, django_capture_on_commit_callbacks)
    assert len(mailoutbox) == 1
    assert RecommendationSent.objects.count() == 1

    # The task run twice (a retry) sends nothing twice either.
    row = RecommendationSent.objects.get()
    assert curator_emails.send_recommendation(row.pk) is False
    assert len(mailoutbox) == 1

    # Later, a deliberate re-send.
    RecommendationSent.objects.update(
        sent_at=timezone.now() - datetime.timedelta(minutes=2), key=f"{teacher.pk}:earlier"
    )
    with django_capture_on_commit_callbacks(execute=True):
        result = recommendations.send([teacher.pk], curator)
    assert len(result.sent) == 1
    assert len(mailoutbox) == 2
    assert RecommendationSent.objects.count() == 2


def test_the_listing_shows_who_sent_when(
    curator, teachers, letter, django_capture_on_commit_callbacks
):
    mine, _ = teachers
    with django_capture_on_commit_callbacks(execute=True):
        recommendations.send([mine[0].pk], curator)
    response = login(curator).get(INDEX)
    rows = {row[0].pk: row for row in response.context["rows"]}
    last_sent, count = rows[mine[0].pk][2], rows[mine[0].pk][3]
    assert (last_sent.sent_by, count) == (curator, 1)
    assert rows[mine[1].pk][2] is None
    html = response.content.decode()
    assert "Анна Staff" in html
    assert send_url(mine[1]) in html


def test_listing_queries_do_not_grow_with_the_teachers(
    curator, head, school, django_capture_on_commit_callbacks
):
    def add(count, start):
        added = [
            make_teacher(username=f"q{n}", last_name=f"Учитель{n}", school=school)
            for n in range(start, start + count)
        ]
        assignments.assign(added, curator, head)
        with django_capture_on_commit_callbacks(execute=True):
            recommendations.send([t.pk for t in added[::2]], head)
        PersonalDataConsent.objects.filter(user=added[1].user).update(withdrawn_at=timezone.now())

    client = login(curator)
    add(5, 0)
    client.get(INDEX)  # warm caches
    with CaptureQueriesContext(connection) as few:
        assert client.get(INDEX).status_code == 200
    add(60, 5)
    with CaptureQueriesContext(connection) as many:
        response = client.get(INDEX)
    assert response.status_code == 200
    assert len(response.context["rows"]) == 50
    assert len(many) == len(few)


def test_who_may_send_to_whom_in_access(curator, head, other_curator, teachers):
    mine, theirs = teachers
    assert set(access.teachers_recommendation_sendable_by(curator)) == set(mine)
    assert set(access.teachers_recommendation_sendable_by(head)) == {*mine, theirs}
    nobody = UserFactory(username="nobody")
    assert not access.can_send_recommendations(nobody)
    assert not access.teachers_recommendation_sendable_by(nobody).exists()
