"""The cabinet's "My data" page: ask for the export, see its state, download it; and the
withdrawal of the consent to personal-data processing, with its cancellation."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from wagtail_iom.conf import iom_settings
from wagtail_iom.core.http import teacher_required
from wagtail_iom.privacy import exports as service
from wagtail_iom.privacy import withdrawal as withdrawals


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
@require_http_methods(["GET", "HEAD", "POST"])
def withdraw_consent(request):
    """GET: what a withdrawal does, and a confirmation form; or, when one is open, its date and
    the cancellation form. POST: withdraw."""
    if request.method == "POST":
        try:
            result = withdrawals.withdraw(request.user, language=get_language())
        except withdrawals.WithdrawalError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                ngettext(
                    "Your consent is withdrawn. %(count)d sign-up for an event was cancelled.",
                    "Your consent is withdrawn. %(count)d sign-ups for events were cancelled.",
                    len(result.cancelled),
                )
                % {"count": len(result.cancelled)},
            )
        return redirect("wagtail_iom:cabinet_withdraw_consent")
    return TemplateResponse(
        request,
        "wagtail_iom/cabinet/withdraw_consent.html",
        {
            "cabinet_section": "my_data",
            "withdrawal": withdrawals.open_withdrawal(request.user),
            "days": iom_settings.CONSENT_WITHDRAWAL_DAYS,
        },
    )


@teacher_required
@require_POST
def cancel_withdrawal(request):
    try:
        withdrawals.cancel(request.user)
    except withdrawals.WithdrawalError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _(
                "Your withdrawal is cancelled: your data are processed again and your route "
                "may change. The sign-ups cancelled by the withdrawal stay cancelled: sign up "
                "again if the events still take sign-ups."
            ),
        )
    return redirect("wagtail_iom:cabinet_withdraw_consent")


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
