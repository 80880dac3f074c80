"""Build the demo institute: ``python manage.py load_demo_data [--host H] [--port P]``. Safe to
run again."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import translation
from wagtail.models import Site

from sandbox.home.demo import directory, events, framework, routes, site, staff, teachers
from wagtail_iom.directory.framework import load_default_framework
from wagtail_iom.models import Competency, CompetencyGroup


class Command(BaseCommand):
    help = "Create or refresh the demo institute's content and print the demo logins."

    def add_arguments(self, parser):
        parser.add_argument(
            "--schools-per-municipality",
            type=int,
            default=5,
            help="How many schools each demo municipality gets (default 5).",
        )
        parser.add_argument(
            "--host",
            default=site.DEFAULT_HOST,
            help=f"The host the demo is served at (default {site.DEFAULT_HOST}, as runserver's).",
        )
        parser.add_argument(
            "--port",
            type=int,
            default=site.DEFAULT_PORT,
            help=f"The port the demo is served at (default {site.DEFAULT_PORT}, as runserver's).",
        )

    @transaction.atomic
    def handle(self, *args, **options):
        # The data migration loads the framework; a flushed test database has lost it.
        with translation.override(settings.LANGUAGE_CODE):
            load_default_framework(CompetencyGroup, Competency)
        framework.fill_from_professional_standard()
        framework.fill_route_draft_texts()
        counts = directory.build_directory(options["schools_per_municipality"])
        home = site.build_site(options["host"], options["port"])
        resource_map = events.build_resource_map(home)
        event_pages = events.build_events(resource_map)
        admin = site.build_admin()
        profiles = teachers.build_teachers(resource_map, event_pages, admin)
        people = staff.build_staff(profiles, admin)
        demo_routes = routes.build_routes(profiles, people)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {counts['municipalities']} municipalities, "
                f"{counts['schools']} schools, {len(event_pages) + len(teachers.PAST_EVENTS)} events, "
                f"{len(profiles)} teachers, {len(demo_routes)} routes."
            )
        )
        root = Site.objects.get(is_default_site=True).root_url
        self.stdout.write(f"Site: {root}/")
        self.stdout.write(
            f"Admin: {root}/admin/  login: {site.ADMIN_USERNAME}  password: {site.ADMIN_PASSWORD}"
        )
        self.stdout.write(
            f"Teacher: {root}/iom/cabinet/  login: {teachers.TEACHER_EMAIL}  "
            f"password: {teachers.TEACHER_PASSWORD}"
        )
        with translation.override(settings.LANGUAGE_CODE):
            roles = ", ".join(f"{name} ({role.label})" for name, _l, _f, role in staff.PEOPLE)
        self.stdout.write(f"Staff (password {staff.STAFF_PASSWORD}): {roles}")
