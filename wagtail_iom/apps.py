from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WagtailIOMAppConfig(AppConfig):
    name = "wagtail_iom"
    label = "wagtail_iom"
    verbose_name = _("Individual educational routes")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Imported for their side effects: system checks, the settings reload receiver and the
        # receivers that keep calendar feeds in step with publishing.
        from . import checks, conf, signal_handlers  # noqa: F401

        signal_handlers.connect_delete_receivers()
