"""The one place where the package is wired into the Wagtail admin."""

from wagtail import hooks

from .viewsets import DirectoryViewSetGroup


@hooks.register("register_admin_viewset")
def register_directory_viewsets():
    return DirectoryViewSetGroup()
