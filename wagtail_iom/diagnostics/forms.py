"""The upload form of the import of diagnostics results."""

from django import forms
from django.utils.translation import gettext_lazy as _

from wagtail_iom.conf import iom_settings
from wagtail_iom.core.uploads import check_upload


class DiagnosticImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_("A .csv (UTF-8 or Windows-1251) or .xlsx file with a header row."),
    )

    def clean_file(self):
        return check_upload(
            self.cleaned_data["file"],
            extensions=(".csv", ".txt", ".xlsx"),
            limit=iom_settings.DIAGNOSTICS_IMPORT_MAX_UPLOAD_SIZE,
            wrong_type=_("Upload a .csv or .xlsx file; “%(name)s” is neither."),
        )
