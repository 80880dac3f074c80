"""The permission policy of routes: Django's model permissions, narrowed per route by the
access module, so that Wagtail's own per-object checks (bulk actions, the snippets API, the
generic views) ask :mod:`wagtail_iom.core.access`. Registered in ``AppConfig.ready()``."""

from wagtail.permission_policies import ModelPermissionPolicy

from wagtail_iom.core import access
from wagtail_iom.routes import builder as route_builder
from wagtail_iom.routes.models import Route


class RoutePermissionPolicy(ModelPermissionPolicy):
    """Django's model permissions, narrowed per route by the access module."""

    def user_has_permission_for_instance(self, user, action, instance):
        if not self.user_has_permission(user, action):
            return False
        if instance.pk is None:
            return access.can_edit_route(user, instance)
        if not access.can_see_route(user, instance):
            return False
        if action == "change":
            return route_builder.can_change_content(user, instance)
        if action == "delete":
            return route_builder.can_delete_route(user, instance)
        return True

    def instances_user_has_any_permission_for(self, user, actions):
        if not self.user_has_any_permission(user, actions):
            return Route.objects.none()
        return access.routes_visible_to(user)


def register():
    from wagtail.permissions import policy_registry, register_permission_policy

    if not isinstance(policy_registry.get_by_type(Route, fallback=False), RoutePermissionPolicy):
        register_permission_policy(Route, RoutePermissionPolicy(Route), exact_class=True)
