"""Who may see and do what. Every view, export, feed and API asks this module.

The directory (municipalities, schools) and the competency framework are reference data:
reading them is open to any admin user; changing them follows Django's model permissions,
which Wagtail's group editor assigns. Later parts of the package (teachers, routes) add their
scoped rules here, so that one place answers "may this user see this?".
"""

DIRECTORY_IMPORT_PERMISSIONS = (
    "wagtail_iom.add_municipality",
    "wagtail_iom.change_municipality",
    "wagtail_iom.add_school",
    "wagtail_iom.change_school",
)


def can_import_directory(user) -> bool:
    """Importing creates and changes municipalities and schools, so it needs all four rights."""
    return bool(user and user.is_active and user.has_perms(DIRECTORY_IMPORT_PERMISSIONS))


def public_events(queryset):
    """The events anyone may see, in lists, calendars and feeds: live, with no view
    restriction on them or on a page above them."""
    return queryset.live().public()


def is_public_event(page) -> bool:
    """The same rule for one page (its ``.ics``, which anyone may import or subscribe to)."""
    return page.live and not page.get_view_restrictions().exists()


# Teachers' own data. A teacher reaches only the own profile, sign-ups, diagnostics and
# certificates: every cabinet view looks objects up through these functions, so another
# person's id simply is not found (404) rather than forbidden.


def teacher_profile(user):
    """The user's own teacher profile, or None (not signed in, or no consent given yet)."""
    if not (user and user.is_authenticated):
        return None
    from ..models import TeacherProfile

    try:
        return user.iom_teacher_profile
    except TeacherProfile.DoesNotExist:
        return None


def own_registrations(user):
    """The user's own sign-ups; nobody else's."""
    from ..models import Registration

    if not (user and user.is_authenticated):
        return Registration.objects.none()
    return Registration.objects.filter(user=user)


# Staff. Until curators are assigned to teachers (the routes part), staff rights follow
# Django's model permissions, which Wagtail's group editor assigns.


def can_view_teachers(user) -> bool:
    """Curators and the centre: the teachers' profiles and diagnostics in the admin."""
    return bool(user and user.is_active and user.has_perm("wagtail_iom.view_teacherprofile"))


def teacher_profiles_visible_to(user):
    from ..models import TeacherProfile

    if can_view_teachers(user):
        return TeacherProfile.objects.all()
    return TeacherProfile.objects.none()


def can_enter_diagnostics(user) -> bool:
    return bool(user and user.is_active and user.has_perm("wagtail_iom.add_diagnosticresult"))


def can_decide_registrations(user) -> bool:
    """School heads and curators approve or decline sign-ups to "needs approval" events."""
    return bool(user and user.is_active and user.has_perm("wagtail_iom.decide_registration"))


def registrations_visible_to(user):
    """The sign-ups a staff member may list in the admin."""
    from ..models import Registration

    if (
        user
        and user.is_active
        and (user.has_perm("wagtail_iom.view_registration") or can_decide_registrations(user))
    ):
        return Registration.objects.all()
    return Registration.objects.none()


def can_mark_attendance(user, event) -> bool:
    """Editors who may edit the event page mark its attendance."""
    if not (user and user.is_active):
        return False
    return event.permissions_for_user(user).can_edit()
