"""Routes with a history, for the reports' tests."""

import datetime
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import Permission
from wagtail.users.models import UserProfile

from tests.factories import UserFactory, make_teacher
from wagtail_iom.core.access import StaffRole
from wagtail_iom.models import Route, RouteTransition, StaffMembership


def at(day, hour=12, minute=0):
    """``day`` at ``hour``:``minute`` in the site's timezone (TIME_ZONE)."""
    site_zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=site_zone)


def teacher_in(municipality=None, school=None, username=None):
    return make_teacher(username=username, municipality=municipality, school=school)


def make_route(teacher, created, transitions=()):
    """A route created at ``created`` (a datetime), then moved through ``transitions``: pairs of
    (datetime, status), in order."""
    route = Route.objects.create(
        teacher=teacher,
        starts_on=datetime.date(2021, 9, 1),
        ends_on=datetime.date(2022, 5, 31),
    )
    status = "development"
    for moment, to_status in transitions:
        transition = RouteTransition.objects.create(
            route=route, from_status=status, to_status=to_status
        )
        RouteTransition.objects.filter(pk=transition.pk).update(at=moment)
        status = to_status
    Route.objects.filter(pk=route.pk).update(created_at=created, status=status)
    return route


def staff(username, role=None, perms=("view_route",), **place):
    user = UserFactory(username=username)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    for codename in perms:
        user.user_permissions.add(
            Permission.objects.get(codename=codename, content_type__app_label="wagtail_iom")
        )
    # The admin speaks the user's language: English, the source of the messages tested.
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = "en"
    profile.save()
    if role:
        StaffMembership.objects.create(user=user, role=role, **place)
    return user


CENTRE_HEAD = StaffRole.CENTRE_HEAD
METHODIST = StaffRole.MUNICIPAL_METHODIST
SCHOOL_HEAD = StaffRole.SCHOOL_HEAD
CURATOR = StaffRole.CURATOR
