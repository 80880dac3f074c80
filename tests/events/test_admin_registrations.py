"""The admin of sign-ups: the listing, and approving or declining pending sign-ups."""

from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from tests.factories import UserFactory, make_event
from wagtail_iom.events.emails import NotificationKind
from wagtail_iom.models import Registration, RegistrationStatus

pytestmark = pytest.mark.django_db

INDEX = "wagtail_iom_registrations:index"
APPROVE = "wagtail_iom_registrations:approve"
DECLINE = "wagtail_iom_registrations:decline"


@pytest.fixture
def event(resource_map):
    return make_event(resource_map, needs_approval=True, capacity=2)


@pytest.fixture
def pending(event, teacher, other_teacher):
    return [
        Registration.objects.create(event=event, user=profile.user, status="pending")
        for profile in (teacher, other_teacher)
    ]


@pytest.fixture
def notify():
    with mock.patch("wagtail_iom.events.emails.registration_changed") as patched:
        yield patched


def staff_client(client, username, *codenames):
    user = UserFactory(username=username)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["access_admin", *codenames]))
    client.force_login(user)
    return client, user


@pytest.fixture
def approver(client):
    return staff_client(client, "head", "decide_registration")


@pytest.fixture
def viewer(client):
    return staff_client(client, "viewer", "view_registration")


def status_of(registration):
    registration.refresh_from_db()
    return registration.status


def test_listing_shows_sign_ups_with_per_row_buttons_for_pending(approver, pending, event):
    client, _user = approver
    response = client.get(reverse(INDEX))
    assert response.status_code == 200
    assert {r.pk for r in response.context["object_list"]} == {r.pk for r in pending}
    content = response.content.decode()
    assert "Иванова Мария Петровна" in content
    assert f"{reverse(APPROVE)}?id={pending[0].pk}" in content
    assert f"{reverse(DECLINE)}?id={pending[0].pk}" in content
    assert 'id="registrations-bulk-approve"' in content


def test_listing_filters_by_status_and_event(admin_client, pending, event, resource_map, teacher):
    other_event = make_event(resource_map, title="Другое", slug="other")
    confirmed = Registration.objects.create(event=other_event, user=teacher.user)

    by_status = admin_client.get(reverse(INDEX), {"status": "confirmed"})
    assert [r.pk for r in by_status.context["object_list"]] == [confirmed.pk]
    by_event = admin_client.get(reverse(INDEX), {"event": event.pk})
    assert {r.pk for r in by_event.context["object_list"]} == {r.pk for r in pending}
    bad = admin_client.get(reverse(INDEX), {"event": "abc", "status": "nonsense"})
    assert bad.status_code == 200


def test_listing_exports_csv(admin_client, pending):
    response = admin_client.get(reverse(INDEX), {"export": "csv"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content).decode()
    assert "teacher@example.org" in content
    assert "Иванова Мария Петровна" in content


def test_no_add_or_edit_views(admin_client, pending):
    for name in ("add", "edit", "delete"):
        with pytest.raises(NoReverseMatch):
            args = [] if name == "add" else [pending[0].pk]
            reverse(f"wagtail_iom_registrations:{name}", args=args)
    response = admin_client.get(reverse(INDEX))
    assert "/admin/iom/registrations/new/" not in response.content.decode()
    assert admin_client.get("/admin/iom/registrations/new/").status_code == 404
    assert admin_client.get(f"/admin/iom/registrations/edit/{pending[0].pk}/").status_code == 404


def test_viewer_sees_the_listing_without_decision_buttons(viewer, pending):
    client, _user = viewer
    response = client.get(reverse(INDEX))
    assert response.status_code == 200
    assert reverse(APPROVE) not in response.content.decode()


def test_staff_without_rights_cannot_list(client):
    client, _user = staff_client(client, "nobody")
    assert client.get(reverse(INDEX)).status_code == 403


def test_listing_query_count_is_flat(admin_client, event, resource_map):
    def run(count, prefix):
        for n in range(count):
            Registration.objects.create(
                event=event, user=UserFactory(username=f"{prefix}{n}"), status="pending"
            )
        admin_client.get(reverse(INDEX))  # warm caches
        with CaptureQueriesContext(connection) as ctx:
            assert admin_client.get(reverse(INDEX)).status_code == 200
        return len(ctx)

    assert run(2, "a") == run(12, "b")


def test_confirmation_page_splits_pending_and_not_pending(approver, pending, event, resource_map):
    client, _user = approver
    confirmed = Registration.objects.create(event=event, user=UserFactory(username="x"))
    response = client.get(reverse(APPROVE), {"id": [pending[0].pk, confirmed.pk, "all", "abc"]})
    assert response.status_code == 200
    assert [r.pk for r in response.context["pending"]] == [pending[0].pk]
    assert [r.pk for r in response.context["not_pending"]] == [confirmed.pk]
    assert status_of(pending[0]) == RegistrationStatus.PENDING  # GET changes nothing


def test_approve_pending_sign_ups_in_bulk(approver, pending, notify):
    client, user = approver
    response = client.post(
        reverse(APPROVE), {"id": [r.pk for r in pending], "next": reverse(INDEX)}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse(INDEX)
    for registration in pending:
        assert status_of(registration) == RegistrationStatus.CONFIRMED
        assert registration.decided_by == user
    assert sorted((call.args[0].pk, call.args[1]) for call in notify.call_args_list) == sorted(
        (r.pk, NotificationKind.APPROVED) for r in pending
    )


def test_decline_frees_the_seat_for_the_waiting_list(approver, pending, event, notify):
    client, _user = approver
    waiting = Registration.objects.create(
        event=event, user=UserFactory(username="w"), status=RegistrationStatus.WAITLISTED
    )
    response = client.post(reverse(DECLINE), {"id": [pending[0].pk]})
    assert response.status_code == 302
    assert status_of(pending[0]) == RegistrationStatus.DECLINED
    assert status_of(pending[1]) == RegistrationStatus.PENDING
    # The event needs approval, so the first in line moves up to "awaiting approval".
    assert status_of(waiting) == RegistrationStatus.PENDING
    calls = [(call.args[0].pk, call.args[1]) for call in notify.call_args_list]
    assert calls == [
        (pending[0].pk, NotificationKind.DECLINED),
        (waiting.pk, NotificationKind.PROMOTED),
    ]


@pytest.mark.parametrize(
    "status",
    [
        RegistrationStatus.CONFIRMED,
        RegistrationStatus.DECLINED,
        RegistrationStatus.CANCELLED,
        RegistrationStatus.WAITLISTED,
    ],
)
@pytest.mark.parametrize("url", [APPROVE, DECLINE])
def test_not_pending_sign_ups_do_not_change(approver, event, notify, status, url):
    client, _user = approver
    registration = Registration.objects.create(
        event=event, user=UserFactory(username="someone"), status=status
    )
    response = client.post(reverse(url), {"id": [registration.pk]}, follow=True)
    assert response.status_code == 200
    assert status_of(registration) == status
    assert registration.decided_by is None
    notify.assert_not_called()
    levels = [m.level_tag for m in response.context["messages"]]
    assert "warning" in levels


def test_mixed_selection_changes_only_the_pending(approver, pending, event, notify):
    client, _user = approver
    confirmed = Registration.objects.create(event=event, user=UserFactory(username="c"))
    client.post(reverse(DECLINE), {"id": [pending[0].pk, confirmed.pk]})
    assert status_of(pending[0]) == RegistrationStatus.DECLINED
    assert status_of(confirmed) == RegistrationStatus.CONFIRMED
    assert [call.args[0].pk for call in notify.call_args_list] == [pending[0].pk]


def test_approving_for_a_cancelled_event_is_refused(approver, pending, event, notify):
    client, _user = approver
    event.status = "cancelled"
    event.status_reason = "Болезнь лектора"
    event.save()
    response = client.post(reverse(APPROVE), {"id": [pending[0].pk]}, follow=True)
    assert response.status_code == 200
    assert status_of(pending[0]) == RegistrationStatus.PENDING
    notify.assert_not_called()


def test_without_the_decide_permission_nothing_changes(viewer, pending, notify):
    client, _user = viewer
    assert client.get(reverse(APPROVE), {"id": [pending[0].pk]}).status_code == 403
    assert client.post(reverse(APPROVE), {"id": [pending[0].pk]}).status_code == 403
    assert client.post(reverse(DECLINE), {"id": [pending[0].pk]}).status_code == 403
    assert status_of(pending[0]) == RegistrationStatus.PENDING
    notify.assert_not_called()


def test_teacher_cannot_decide(teacher_client, pending, notify):
    response = teacher_client.post(reverse(APPROVE), {"id": [pending[0].pk]})
    assert response.status_code in (302, 403)
    assert status_of(pending[0]) == RegistrationStatus.PENDING
    notify.assert_not_called()


def test_next_url_must_be_local(approver, pending, notify):
    client, _user = approver
    response = client.post(
        reverse(APPROVE), {"id": [pending[0].pk], "next": "https://evil.example.com/"}
    )
    assert response["Location"] == reverse(INDEX)


def test_listing_search_by_email_and_last_name(admin_client, pending):
    by_email = admin_client.get(reverse(INDEX), {"q": "teacher@example"})
    assert [r.pk for r in by_email.context["object_list"]] == [pending[0].pk]
    by_name = admin_client.get(reverse(INDEX), {"q": "Петров"})
    assert [r.pk for r in by_name.context["object_list"]] == [pending[1].pk]
