"""Signal receivers of the accounts domain, connected when the app is ready."""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_save

from wagtail_iom.accounts import services


def on_user_saved(sender, instance, **kwargs):
    services.account_activated(instance)


def connect_user_receivers():
    """An account saved active no longer waits for its confirmation (activated by its link, in
    the admin or by a script): a confirmation link can never re-activate it later."""
    post_save.connect(
        on_user_saved, sender=get_user_model(), dispatch_uid="iom-accounts-user-saved"
    )
