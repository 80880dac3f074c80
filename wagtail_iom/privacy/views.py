"""The cabinet's "My data" page: ask for the export, see its state, download it."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from wagtail_iom.conf import iom_settings
from wagtail_iom.core.http import teacher_required
from wagtail_iom.privacy import exports as service


@teacher_required
@require_http_methods(["GET", "HEAD", "POST"])
def my_data(request):
    if request.method == "POST":
        _export, created = service.request_export(request.user)
        if created:
            messages.success(
                request,
                _(
                    "We are preparing your data. It takes a few minutes: reload this page to "
                    "see when the file is ready."
                ),
            )
        else:
            messages.info(
                request,
                _("Your data is already being prepared: the file will be ready in a few minutes."),
            )
        return redirect("wagtail_iom:cabinet_my_data")
    export = service.latest_export(request.user)
    return TemplateResponse(
        request,
        "wagtail_iom/cabinet/my_data.html",
        {
            "cabinet_section": "my_data",
            "export": export,
            "downloadable": service.is_downloadable(export),
            "download_token": service.download_token(export) if export else "",
            "days": iom_settings.PERSONAL_DATA_EXPORT_DAYS,
        },
    )


@teacher_required
@require_http_methods(["GET", "HEAD"])
def download(request, token):
    """The signed link: the requester's own export, ready and not expired; otherwise 404."""
    export = service.export_for_token(token, request.user)
    if export is None:
        raise Http404(_("This link has expired or is not yours. Ask for your data again."))
    try:
        handle = export.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    filename = f"my-data-{export.finished_at:%Y-%m-%d}.zip"
    return FileResponse(
        handle, as_attachment=True, filename=filename, content_type="application/zip"
    )
