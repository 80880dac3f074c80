"""The app's configuration: what happens once Django has loaded every app."""

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WagtailIOMAppConfig(AppConfig):
    name = "wagtail_iom"
    label = "wagtail_iom"
    verbose_name = _("Individual educational routes")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported for their side effects: the system checks and the settings reload receiver
        # register themselves, and the Celery tasks, so that domains can start them by name
        # (core.mail.enqueue_on_commit) in any process.
        # The path converter of ids in the package's URLs, before any URLconf is loaded.
        from django.urls import register_converter

        from wagtail_iom import checks, conf, tasks  # noqa: F401
        from wagtail_iom.core.http import IdConverter

        register_converter(IdConverter, "iom_id")

        # The receivers that keep calendar states, waiting lists and feeds in step with
        # publishing.
        from wagtail_iom.events import receivers

        receivers.connect_delete_receivers()

        # An account that has been active no longer waits for its e-mail confirmation.
        from wagtail_iom.accounts import receivers as account_receivers

        account_receivers.connect_user_receivers()

        # A new teacher's profile takes the diagnostics results kept until the consent.
        from wagtail_iom.diagnostics import receivers as diagnostics_receivers

        diagnostics_receivers.connect_profile_receivers()

        # Wagtail's site history report unites the log models in one flat union, which
        # Django 6.1 needs once the teachers' log model is the third (core/history.py).
        from wagtail_iom.core import history

        history.install_site_history_union()

        # Permission policies, before any admin view asks Wagtail's policy registry.
        from wagtail_iom.curators import permissions as curator_permissions
        from wagtail_iom.routes import permissions as route_permissions

        curator_permissions.register()
        route_permissions.register()
