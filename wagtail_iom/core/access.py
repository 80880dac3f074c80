"""Who may see and do what. Every view, export, feed and API asks this module.

The directory (municipalities, schools) and the competency framework are reference data:
reading them is open to any admin user; changing them follows Django's model permissions,
which Wagtail's group editor assigns. Teachers, their sign-ups, diagnostics and routes are
scoped by the staff roles below, so that one place answers "may this user see this?".

This module belongs to the core, which imports no domain: it names the models it asks about
(``"TeacherProfile"``, ``"Route"``...) and gets them from Django's app registry, as a
``ForeignKey("wagtail_iom.School")`` does, so the domains stay free to import it.
"""

from django.apps import apps
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from wagtail.permission_policies.pages import PagePermissionPolicy

APP_LABEL = "wagtail_iom"


def model(name):
    """The package's model called ``name`` (``"Route"``), from Django's app registry."""
    return apps.get_model(APP_LABEL, name)


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
    try:
        return user.iom_teacher_profile
    except ObjectDoesNotExist:
        return None


def processing_stopped(user, lock=False) -> bool:
    """Whether the person has withdrawn the consent to personal-data processing (152-FZ,
    art. 9 §2): then nothing new is done with their data, no sign-up and no route change,
    until the withdrawal is cancelled or the data are depersonalised.

    ``lock`` (inside a transaction): wait for a withdrawal being written, which locks the
    person's consents, and read its outcome.
    """
    if user is None or getattr(user, "pk", None) is None:
        return False
    return user.pk in processing_stopped_among([user.pk], lock=lock)


def processing_stopped_among(user_ids, lock=False) -> set:
    """:func:`processing_stopped` for many people at once: the ids among ``user_ids`` of those
    whose consent is withdrawn. One query; ``lock`` locks every consent of them, in one
    order, so that two runs over overlapping people wait for each other instead of
    deadlocking."""
    PersonalDataConsent = model("PersonalDataConsent")

    consents = PersonalDataConsent.objects.filter(user_id__in=[pk for pk in user_ids if pk])
    if lock:
        # Every consent of the people is locked, not only the withdrawn ones: a row that a
        # withdrawal is changing does not match "withdrawn" until it commits, and a lock on
        # matching rows only would not wait for it.
        rows = consents.select_for_update().order_by("pk").values_list("user_id", "withdrawn_at")
        return {user_id for user_id, at in rows if at is not None}
    return set(consents.filter(withdrawn_at__isnull=False).values_list("user_id", flat=True))


def route_frozen(route) -> bool:
    """A route is frozen while its teacher's consent is withdrawn: neither the teacher nor
    staff change it (edit, recommendations, approval, audit); staff still read it."""
    TeacherProfile = model("TeacherProfile")

    user_id = TeacherProfile.objects.filter(pk=route.teacher_id).values("user_id")
    PersonalDataConsent = model("PersonalDataConsent")

    return PersonalDataConsent.objects.filter(
        user_id__in=user_id, withdrawn_at__isnull=False
    ).exists()


def own_registrations(user):
    """The user's own sign-ups; nobody else's."""
    Registration = model("Registration")

    if not (user and user.is_authenticated):
        return Registration.objects.none()
    return Registration.objects.filter(user=user)


# Staff. Two things decide what a staff member reaches:
#
# * Django's model permissions (given through Wagtail's group editor) say what kind of object
#   they may handle at all (view teachers, add diagnostics, change routes...);
# * their staff roles (StaffMembership) narrow it to whom: a curator reaches the teachers
#   currently assigned to them, a municipal methodist those of the own municipality, a school
#   head those of the own school; the head of the centre reaches everyone.
#
# A superuser, and a user with the permission but no staff role at all (an institute that does
# not use roles), reach everyone. Roles are read once per request and kept on the user object;
# an unassignment therefore takes effect on the next request.


class StaffRole(models.TextChoices):
    """The roles a staff member holds (:class:`~wagtail_iom.curators.models.StaffMembership`)."""

    CURATOR = "curator", _("Curator (tutor)")
    CENTRE_HEAD = "centre_head", _("Head of the centre")
    MUNICIPAL_METHODIST = "municipal_methodist", _("Municipal methodist")
    SCHOOL_HEAD = "school_head", _("School head")


def staff_roles(user):
    """The user's staff roles, read once per user object (one request)."""
    if not (user and user.is_authenticated and user.is_active):
        return ()
    cached = getattr(user, "_iom_staff_roles", None)
    if cached is None:
        StaffMembership = model("StaffMembership")

        cached = tuple(StaffMembership.objects.filter(user=user))
        user._iom_staff_roles = cached
    return cached


def _role_values(user, role):
    return [membership for membership in staff_roles(user) if membership.role == role]


def is_centre_head(user) -> bool:
    return bool(user and user.is_superuser) or bool(_role_values(user, StaffRole.CENTRE_HEAD))


def sees_all_teachers(user) -> bool:
    """The centre head, a superuser, or centre staff without a scoped role."""
    return is_centre_head(user) or not staff_roles(user)


def teacher_scope(user):
    """A Q over TeacherProfile for the teachers the user's roles reach (no permission check)."""
    if sees_all_teachers(user):
        return Q()
    scope = Q(pk__in=[])
    if _role_values(user, StaffRole.CURATOR):
        scope |= Q(curator_assignments__curator=user, curator_assignments__ended_at__isnull=True)
    municipalities = [m.municipality_id for m in _role_values(user, StaffRole.MUNICIPAL_METHODIST)]
    if municipalities:
        scope |= Q(municipality_id__in=municipalities)
    schools = [m.school_id for m in _role_values(user, StaffRole.SCHOOL_HEAD)]
    if schools:
        scope |= Q(school_id__in=schools)
    return scope


def can_view_teachers(user) -> bool:
    """Curators and the centre: the teachers' profiles and diagnostics in the admin."""
    return bool(user and user.is_active and user.has_perm("wagtail_iom.view_teacherprofile"))


def teacher_profiles_visible_to(user):
    TeacherProfile = model("TeacherProfile")

    if not can_view_teachers(user):
        return TeacherProfile.objects.none()
    scope = teacher_scope(user)
    if not scope:
        return TeacherProfile.objects.all()
    # The curator's join can repeat a teacher: filter by the ids instead of distinct().
    return TeacherProfile.objects.filter(pk__in=TeacherProfile.objects.filter(scope).values("pk"))


def can_enter_diagnostics(user) -> bool:
    return bool(user and user.is_active and user.has_perm("wagtail_iom.add_diagnosticresult"))


DIAGNOSTICS_IMPORT_PERMISSIONS = (
    "wagtail_iom.add_diagnosticresult",
    "wagtail_iom.change_diagnosticresult",
    "wagtail_iom.view_teacherprofile",
)


def can_import_diagnostics(user) -> bool:
    """Importing diagnostics results from a file: centre staff who may add and change results
    and see teachers, and who see all teachers (the centre head, a superuser, or staff without
    a scoped role).

    A curator, municipal methodist or school head is refused, whatever their groups say: a file
    names teachers by e-mail or SNILS, so its report would tell who is registered outside their
    scope, and the import creates accounts for teachers who are not registered, who belong to
    nobody's scope yet. They enter results one by one in the admin instead.
    """
    return bool(
        user
        and user.is_active
        and user.has_perms(DIAGNOSTICS_IMPORT_PERMISSIONS)
        and sees_all_teachers(user)
    )


def can_decide_registrations(user) -> bool:
    """School heads and curators approve or decline sign-ups to "needs approval" events."""
    return bool(user and user.is_active and user.has_perm("wagtail_iom.decide_registration"))


def editable_pages(user):
    """The pages ``user`` may edit (Wagtail's page permissions: their groups' rights on a part
    of the tree, or pages they own), as a queryset of Page."""
    return PagePermissionPolicy().instances_user_has_permission_for(user, "change")


def registrations_visible_to(user):
    """The sign-ups a staff member may list, export, approve or decline in the admin.

    Those with the permission to view or decide sign-ups reach the sign-ups of the teachers
    their roles reach (a curator the assigned teachers', a methodist the municipality's, a
    school head the school's, the centre head everyone's); the organisers of an event (who may
    edit its page) reach the sign-ups to it.
    """
    Registration = model("Registration")

    if not (user and user.is_active):
        return Registration.objects.none()
    scope = Q(pk__in=[])
    if user.has_perm("wagtail_iom.view_registration") or can_decide_registrations(user):
        teachers = teacher_scope(user)
        if not teachers:
            return Registration.objects.all()
        TeacherProfile = model("TeacherProfile")
        scope |= Q(
            user__iom_teacher_profile__in=TeacherProfile.objects.filter(teachers).values("pk")
        )
    if organises_events(user):
        scope |= Q(event__in=editable_pages(user).values("pk"))
    return Registration.objects.filter(scope)


def organises_events(user) -> bool:
    """Whether ``user`` may edit at least one event page (read once per request)."""
    if not (user and user.is_active):
        return False
    cached = getattr(user, "_iom_organises_events", None)
    if cached is None:
        EventPage = model("EventPage")
        cached = EventPage.objects.filter(pk__in=editable_pages(user).values("pk")).exists()
        user._iom_organises_events = cached
    return cached


def can_list_registrations(user) -> bool:
    """Whether the admin's "Sign-ups" screen shows the user anything at all."""
    return bool(
        user
        and user.is_active
        and (
            user.has_perm("wagtail_iom.view_registration")
            or can_decide_registrations(user)
            or organises_events(user)
        )
    )


def can_mark_attendance(user, event) -> bool:
    """Editors who may edit the event page mark its attendance."""
    if not (user and user.is_active):
        return False
    return event.permissions_for_user(user).can_edit()


# Routes. A route is reached through its teacher: whoever reaches the teacher (see above) and
# holds the permission to view routes reaches the teacher's routes. What they may do with a
# route depends on the role and the route's status (routes/workflow.py has the transitions).


def can_view_routes(user) -> bool:
    return bool(user and user.is_active and user.has_perm("wagtail_iom.view_route"))


def routes_visible_to(user):
    """The routes a staff member may list and open in the admin."""
    Route = model("Route")

    if not can_view_routes(user):
        return Route.objects.none()
    scope = teacher_scope(user)
    if not scope:
        return Route.objects.all()
    TeacherProfile = model("TeacherProfile")

    return Route.objects.filter(teacher__in=TeacherProfile.objects.filter(scope).values("pk"))


def can_see_route(user, route) -> bool:
    return routes_visible_to(user).filter(pk=route.pk).exists()


def _is_current_curator(user, route) -> bool:
    CuratorAssignment = model("CuratorAssignment")

    return CuratorAssignment.objects.filter(
        teacher_id=route.teacher_id, curator=user, ended_at__isnull=True
    ).exists()


def can_edit_route(user, route=None) -> bool:
    """Curators of the teacher and the centre head change a route's content; municipal
    methodists and school heads only read (and comment, approve, audit)."""
    if not (user and user.is_active and user.has_perm("wagtail_iom.change_route")):
        return False
    if route is not None and route_frozen(route):
        return False
    if is_centre_head(user) or not staff_roles(user):
        return True
    if not _role_values(user, StaffRole.CURATOR):
        return False
    return route is None or _is_current_curator(user, route)


def can_write_recommendations(user, route) -> bool:
    """Section 4 (recommendations) is written by the curator / tutor or the municipal
    methodist (000, appendix: «заполняется куратором / тьютором / муниципальным методистом»):
    those who may edit the route, and the methodists of the teacher's municipality. Not once
    the route is audited: the audit judged it with these recommendations (the further
    support it recommends is the audit's own)."""
    if route.status == "audited" or route_frozen(route):
        return False
    if can_edit_route(user, route):
        return True
    if not (user and user.is_active and user.has_perm("wagtail_iom.view_route")):
        return False
    municipalities = {m.municipality_id for m in _role_values(user, StaffRole.MUNICIPAL_METHODIST)}
    return route.teacher.municipality_id in municipalities


def can_write_curator_reflection(user, route) -> bool:
    """The curator's reflection on a route (stage 4) is written by the tutor / curator who
    accompanies the teacher (000 §4.5: «педагогом и закрепленным за ним тьютором /
    куратором»): the teacher's current curator, and the centre head, as for editing the route.
    Municipal methodists and school heads read it. Not while the route is frozen; the route's
    status is checked by :mod:`wagtail_iom.routes.reflection`."""
    return can_edit_route(user, route)


def can_approve_route(user, route) -> bool:
    """The head of the teacher's school (or the centre head) approves a route."""
    if not (user and user.is_active and user.has_perm("wagtail_iom.approve_route")):
        return False
    if route_frozen(route):
        return False
    if is_centre_head(user) or not staff_roles(user):
        return True
    schools = {m.school_id for m in _role_values(user, StaffRole.SCHOOL_HEAD)}
    return route.teacher.school_id in schools


def can_audit_route(user, route) -> bool:
    """The municipal methodist of the teacher's municipality (or the centre head) audits."""
    if not (user and user.is_active and user.has_perm("wagtail_iom.audit_route")):
        return False
    if route_frozen(route):
        return False
    if is_centre_head(user) or not staff_roles(user):
        return True
    municipalities = {m.municipality_id for m in _role_values(user, StaffRole.MUNICIPAL_METHODIST)}
    return route.teacher.municipality_id in municipalities


def audits_visible_to(user):
    """The methodical audits ``user`` may list and print: those of the routes they see (a
    methodist their municipality's, a school head their school's, a curator their teachers',
    the centre head all)."""
    RouteAudit = model("RouteAudit")

    if not can_view_routes(user):
        return RouteAudit.objects.none()
    if not teacher_scope(user):
        return RouteAudit.objects.all()
    return RouteAudit.objects.filter(route__in=routes_visible_to(user).values("pk"))


def can_comment_route(user, route) -> bool:
    return can_see_route(user, route)


def own_routes(user):
    """The teacher's own routes, for the cabinet, in every status: the route is composed with
    the teacher, so a draft in development is theirs to see too."""
    Route = model("Route")

    profile = teacher_profile(user)
    if profile is None:
        return Route.objects.none()
    return Route.objects.filter(teacher=profile)


def can_assign_curators(user) -> bool:
    """The centre head assigns teachers to curators (in bulk)."""
    return bool(
        user
        and user.is_active
        and user.has_perm("wagtail_iom.add_curatorassignment")
        and (is_centre_head(user) or not staff_roles(user))
    )


def can_propose_teachers(user) -> bool:
    """Municipal methodists propose teachers of their municipality for routes."""
    return bool(
        user
        and user.is_active
        and user.has_perm("wagtail_iom.add_teacherproposal")
        and (_role_values(user, StaffRole.MUNICIPAL_METHODIST) or is_centre_head(user))
    )


def can_recommend_teachers(user) -> bool:
    """School heads recommend teachers of their school for routes (000 §5.2)."""
    return bool(
        user
        and user.is_active
        and user.has_perm("wagtail_iom.add_teacherproposal")
        and _role_values(user, StaffRole.SCHOOL_HEAD)
    )


def teachers_recommendable_by(user):
    """The teachers a school head may recommend for a route: those of the own schools; nobody
    else any."""
    TeacherProfile = model("TeacherProfile")

    if not can_recommend_teachers(user):
        return TeacherProfile.objects.none()
    schools = [m.school_id for m in _role_values(user, StaffRole.SCHOOL_HEAD)]
    return TeacherProfile.objects.filter(school_id__in=schools)


def can_send_recommendations(user) -> bool:
    """Curators send their teachers the recommendation letter (000 §5.5); the centre head may
    send it to any teacher who has a curator."""
    return bool(
        can_view_teachers(user)
        and (is_centre_head(user) or not staff_roles(user) or _role_values(user, StaffRole.CURATOR))
    )


def teachers_recommendation_sendable_by(user):
    """The teachers the user may send the recommendation letter: a curator those currently
    assigned to them (not those they reach by another role), the centre head every teacher who
    has a curator; nobody else any."""
    TeacherProfile = model("TeacherProfile")
    CuratorAssignment = model("CuratorAssignment")

    if not can_send_recommendations(user):
        return TeacherProfile.objects.none()
    current = CuratorAssignment.objects.filter(ended_at__isnull=True)
    if not (is_centre_head(user) or not staff_roles(user)):
        current = current.filter(curator=user)
    return TeacherProfile.objects.filter(pk__in=current.values("teacher_id"))


# Staff roles and proposals (the "Curators" admin screens, curators/admin.py).


def can_manage_staff_roles(user, action="view") -> bool:
    """Giving and taking staff roles: the model permission ("add", "change", "delete", "view"
    a staff role) held by the centre head, a superuser, or centre staff without a scoped role.
    A curator, methodist or school head never manages roles, whatever their groups say."""
    return bool(
        user
        and user.is_active
        and user.has_perm(f"wagtail_iom.{action}_staffmembership")
        and (is_centre_head(user) or not staff_roles(user))
    )


def teachers_proposable_by(user):
    """The teachers a user may propose for a route: a municipal methodist those of the own
    municipalities, the centre head anyone; nobody else any."""
    TeacherProfile = model("TeacherProfile")

    if not can_propose_teachers(user):
        return TeacherProfile.objects.none()
    if is_centre_head(user):
        return TeacherProfile.objects.all()
    municipalities = [m.municipality_id for m in _role_values(user, StaffRole.MUNICIPAL_METHODIST)]
    return TeacherProfile.objects.filter(municipality_id__in=municipalities)


def teachers_draftable_by(user):
    """The teachers for whom a user may build route drafts from diagnostics on demand: those
    whose routes the user edits (the centre head and staff without a scoped role: everyone; a
    curator: the own current teachers); nobody for anyone else."""
    TeacherProfile = model("TeacherProfile")
    CuratorAssignment = model("CuratorAssignment")

    if not can_edit_route(user):
        return TeacherProfile.objects.none()
    if is_centre_head(user) or not staff_roles(user):
        return TeacherProfile.objects.all()
    return TeacherProfile.objects.filter(
        pk__in=CuratorAssignment.objects.filter(curator=user, ended_at__isnull=True).values(
            "teacher_id"
        )
    )


# Reports (reports/): counts, not people. The centre head reads the whole region, a municipal
# methodist the own municipalities, a school head the own school; a curator reads none.
# Staff who may view routes and hold no role at all (an institute that does not use roles)
# read everything, as everywhere else.


def can_read_reports(user) -> bool:
    """Whether the user may open the reports (and which rows they see: :func:`report_scope`)."""
    if not can_view_routes(user):
        return False
    return bool(
        sees_all_teachers(user)
        or _role_values(user, StaffRole.MUNICIPAL_METHODIST)
        or _role_values(user, StaffRole.SCHOOL_HEAD)
    )


class ReportScope:
    """What a reader's reports cover: everything (``region``), or the municipalities and
    schools of their roles. Rows for places outside the scope are never shown."""

    def __init__(self, region=False, municipality_ids=(), school_ids=()):
        self.region = region
        self.municipality_ids = tuple(municipality_ids)
        self.school_ids = tuple(school_ids)

    def teachers(self):
        """A Q over TeacherProfile for the teachers counted."""
        if self.region:
            return Q()
        return Q(municipality_id__in=self.municipality_ids) | Q(school_id__in=self.school_ids)

    @property
    def by_municipality(self) -> bool:
        """Whether rows per municipality make sense: a school head alone reads one school,
        never a municipality's total."""
        return self.region or bool(self.municipality_ids)


def report_scope(user):
    """The reader's :class:`ReportScope`; None for those who may not read reports."""
    if not can_read_reports(user):
        return None
    if sees_all_teachers(user):
        return ReportScope(region=True)
    return ReportScope(
        municipality_ids=[
            m.municipality_id for m in _role_values(user, StaffRole.MUNICIPAL_METHODIST)
        ],
        school_ids=[m.school_id for m in _role_values(user, StaffRole.SCHOOL_HEAD)],
    )


def routes_reportable_to(user):
    """The routes counted in the user's reports (routes_visible_to, with the report's scope:
    a curator's assigned teachers are not a report's rows)."""
    Route = model("Route")

    scope = report_scope(user)
    if scope is None:
        return Route.objects.none()
    if scope.region:
        return Route.objects.all()
    TeacherProfile = model("TeacherProfile")
    return Route.objects.filter(
        teacher__in=TeacherProfile.objects.filter(scope.teachers()).values("pk")
    )


# The monthly export of a municipality's routes (reports/municipal_export.py): the names and
# progress of its teachers, so narrower than the reports' counts. The municipality's own
# methodists receive it; the centre head may build and open any municipality's. Nobody else,
# whatever their groups say: a curator, a school head, staff without a role.


def municipalities_exportable_by(user):
    """The municipalities whose routes export ``user`` may build and download."""
    Municipality = model("Municipality")

    if not (user and user.is_authenticated and user.is_active):
        return Municipality.objects.none()
    if is_centre_head(user):
        return Municipality.objects.all()
    ids = [m.municipality_id for m in _role_values(user, StaffRole.MUNICIPAL_METHODIST)]
    return Municipality.objects.filter(pk__in=ids)


def can_export_municipal_routes(user) -> bool:
    """Whether the "Monthly export of routes" screen is open to ``user``."""
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and (is_centre_head(user) or _role_values(user, StaffRole.MUNICIPAL_METHODIST))
    )


def can_download_municipal_export(user, municipality_id) -> bool:
    """A signed link to a municipality's export opens only for a signed-in methodist of that
    municipality or the centre head: a forwarded e-mail opens nothing."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    if is_centre_head(user):
        return True
    return any(
        m.municipality_id == municipality_id
        for m in _role_values(user, StaffRole.MUNICIPAL_METHODIST)
    )
