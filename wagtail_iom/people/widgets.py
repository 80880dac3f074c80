"""The admin widget that picks a teacher, for any form of the package that needs one.

It opens the teacher chooser of :mod:`wagtail_iom.people.admin` (registered by the admin
wiring), which lists only the teachers the user may see.
"""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.widgets import BaseChooser

from wagtail_iom.people.models import TeacherProfile

#: The chooser's URL namespace; the chooser viewset is registered under it.
TEACHER_CHOOSER = "wagtail_iom_teacher_chooser"


class AdminTeacherChooser(BaseChooser):
    model = TeacherProfile
    icon = "user"
    choose_one_text = _("Choose a teacher")
    choose_another_text = _("Choose another teacher")
    link_to_chosen_text = _("Edit the teacher")
    chooser_modal_url_name = f"{TEACHER_CHOOSER}:choose"
