"""Checks of uploaded files shared by every import (size, extension)."""

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _


def check_upload(upload, *, extensions, limit, wrong_type):
    """An uploaded table's name, size and emptiness, with a message for each problem.

    ``wrong_type`` is the message for a name without one of ``extensions`` (``%(name)s`` is
    the file's name); ``limit`` is in bytes.
    """
    if not upload.name.lower().endswith(tuple(extensions)):
        raise forms.ValidationError(wrong_type, code="file_type", params={"name": upload.name})
    if upload.size > limit:
        raise forms.ValidationError(
            _("The file is %(size)s; files up to %(limit)s are accepted. Split it into parts."),
            code="file_size",
            params={"size": filesizeformat(upload.size), "limit": filesizeformat(limit)},
        )
    if upload.size == 0:
        raise forms.ValidationError(_("The file is empty."), code="file_empty")
    return upload
