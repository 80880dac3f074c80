"""Form fields shared by the package's forms and filters."""

import django_filters
from django import forms

from wagtail_iom.core.http import parse_id


class IdModelChoiceField(forms.ModelChoiceField):
    """A ``ModelChoiceField`` whose value must be an id a row can have: a number past 64 bits
    or a text is an invalid choice (a form error), never a database error."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if self.to_field_name is None and parse_id(value) is None:
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice"
            )
        return super().to_python(value)


class IdModelChoiceFilter(django_filters.ModelChoiceFilter):
    """django-filter's ``ModelChoiceFilter`` on :class:`IdModelChoiceField`."""

    field_class = IdModelChoiceField
