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
