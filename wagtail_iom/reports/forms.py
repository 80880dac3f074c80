"""The forms of the reports' screens (the reports' filters are in filters.py)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from wagtail_iom.core import access
from wagtail_iom.core.forms import IdModelChoiceField


class MunicipalExportForm(forms.Form):
    """*Export now*: one of the municipalities the user may export (another one, or a value
    that is no id, is a form error)."""

    municipality = IdModelChoiceField(
        label=_("Municipality"), queryset=None, empty_label=None, required=True
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["municipality"]
        field.queryset = access.municipalities_exportable_by(user).order_by("name", "pk")
        field.error_messages["invalid_choice"] = _(
            "Choose one of the municipalities in the list: you may export only those."
        )
