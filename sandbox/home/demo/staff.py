"""Demo staff: a Wagtail group per role with its permissions, one person in each role, and the
curator assignments of the demo teachers. Safe to run again."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from wagtail_iom.models import CuratorAssignment, Municipality, StaffMembership, StaffRole

STAFF_PASSWORD = "iom-staff-2026"  # noqa: S105 - a published demo login, printed on the console

ADMIN_ACCESS = ("wagtailadmin", "access_admin")

#: Each role's Wagtail group and the permissions it needs (app label, codename).
GROUPS = {
    StaffRole.CENTRE_HEAD: (
        "Руководители центра",
        [
            ADMIN_ACCESS,
            *[
                ("wagtail_iom", f"{action}_{model}")
                for model in (
                    "route",
                    "teacherprofile",
                    "diagnosticresult",
                    "curatorassignment",
                    "staffmembership",
                    "teacherproposal",
                )  # fmt: skip
                for action in ("view", "add", "change")
            ],
            ("wagtail_iom", "approve_route"),
            ("wagtail_iom", "audit_route"),
            ("wagtail_iom", "decide_registration"),
            ("wagtail_iom", "view_registration"),
        ],
    ),
    StaffRole.CURATOR: (
        "Кураторы",
        [
            ADMIN_ACCESS,
            ("wagtail_iom", "view_route"),
            ("wagtail_iom", "add_route"),
            ("wagtail_iom", "change_route"),
            ("wagtail_iom", "view_teacherprofile"),
            ("wagtail_iom", "view_diagnosticresult"),
            ("wagtail_iom", "add_diagnosticresult"),
            ("wagtail_iom", "change_diagnosticresult"),
            ("wagtail_iom", "decide_registration"),
        ],
    ),
    StaffRole.MUNICIPAL_METHODIST: (
        "Муниципальные методисты",
        [
            ADMIN_ACCESS,
            ("wagtail_iom", "view_route"),
            ("wagtail_iom", "audit_route"),
            ("wagtail_iom", "view_teacherprofile"),
            ("wagtail_iom", "add_teacherproposal"),
            ("wagtail_iom", "view_teacherproposal"),
        ],
    ),
    StaffRole.SCHOOL_HEAD: (
        "Руководители ОО",
        [
            ADMIN_ACCESS,
            ("wagtail_iom", "view_route"),
            ("wagtail_iom", "approve_route"),
            ("wagtail_iom", "view_teacherprofile"),
            ("wagtail_iom", "decide_registration"),
            # Recommends teachers of the school for routes (Curators → Recommend teachers).
            ("wagtail_iom", "add_teacherproposal"),
        ],
    ),
}

# username, last, first, role, municipality OKTMO (methodist) or None
PEOPLE = [
    ("centre", "Соколова", "Ирина", StaffRole.CENTRE_HEAD),
    ("curator", "Лебедева", "Наталья", StaffRole.CURATOR),
    ("curator2", "Морозов", "Алексей", StaffRole.CURATOR),
    ("methodist", "Зайцева", "Галина", StaffRole.MUNICIPAL_METHODIST),
    ("schoolhead", "Григорьев", "Виктор", StaffRole.SCHOOL_HEAD),
]


def _group(role):
    name, perms = GROUPS[role]
    group, _ = Group.objects.get_or_create(name=name)
    wanted = [
        Permission.objects.get(content_type__app_label=app, codename=codename)
        for app, codename in perms
    ]
    group.permissions.set(wanted)
    return group


def build_staff(profiles, admin):
    """The staff of the demo centre; the first demo teacher's school and municipality are the
    school head's and the methodist's. Returns {username: user}."""
    User = get_user_model()
    first = profiles[0]
    people = {}
    for username, last, first_name, role in PEOPLE:
        user, _ = User.objects.get_or_create(
            username=username,
            defaults={
                "email": f"{username}@demo.example",
                "first_name": first_name,
                "last_name": last,
            },  # fmt: skip
        )
        user.is_staff = True
        user.is_active = True
        user.set_password(STAFF_PASSWORD)
        user.save()
        user.groups.set([_group(role)])
        where = {}
        if role == StaffRole.MUNICIPAL_METHODIST:
            where = {"municipality": first.municipality or Municipality.objects.first()}
        if role == StaffRole.SCHOOL_HEAD:
            where = {"school": first.school}
        StaffMembership.objects.get_or_create(user=user, role=role, **where)
        people[username] = user
    # Curators: the first curator has most teachers, the second the rest.
    for index, profile in enumerate(profiles):
        curator = people["curator"] if index % 4 != 3 else people["curator2"]
        current = CuratorAssignment.objects.filter(teacher=profile, ended_at__isnull=True).first()
        if current is None:
            CuratorAssignment.objects.create(
                teacher=profile, curator=curator, assigned_by=people["centre"]
            )
    return people
