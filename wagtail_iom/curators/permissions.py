"""The permission policy of staff roles, registered in ``AppConfig.ready()``."""

from wagtail.permission_policies import ModelPermissionPolicy

from wagtail_iom.core import access
from wagtail_iom.curators.models import StaffMembership


class StaffRolePermissionPolicy(ModelPermissionPolicy):
    """The model permissions, held by the centre head (not by a curator, methodist or school
    head, whatever their groups say): see access.can_manage_staff_roles."""

    def user_has_permission(self, user, action):
        return access.can_manage_staff_roles(user, action)


def register():
    from wagtail.permissions import policy_registry, register_permission_policy

    if not isinstance(
        policy_registry.get_by_type(StaffMembership, fallback=False), StaffRolePermissionPolicy
    ):
        register_permission_policy(
            StaffMembership, StaffRolePermissionPolicy(StaffMembership), exact_class=True
        )
