"""E-mails of the reports: the monthly export's signed link to the municipality's methodists,
built on :mod:`wagtail_iom.core.mail`."""

from django.conf import settings
from django.utils import translation

from wagtail_iom.core import mail, sites
from wagtail_iom.curators.emails import methodists_of
from wagtail_iom.reports import municipal_export
from wagtail_iom.reports.models import MunicipalRouteExport, MunicipalRouteExportStatus

KIND = "municipal_route_export"


def send_export_links(export_id, language=None) -> int:
    """E-mail the link of a ready export to each active methodist of its municipality not told
    yet about this export; returns how many e-mails were sent now. A rebuilt export (same
    municipality and month) is not e-mailed again: the link already sent opens the new file."""
    export = (
        MunicipalRouteExport.objects.select_related("municipality")
        .filter(pk=export_id, status=MunicipalRouteExportStatus.READY)
        .first()
    )
    if export is None or not municipal_export.is_downloadable(export):
        return 0
    language = language or settings.LANGUAGE_CODE
    link = mail.absolute_url(
        sites.admin_base_url(),
        "wagtail_iom_reports:municipal_export_download",
        municipal_export.download_token(export),
    )
    if not link:
        return 0
    sent = 0
    for user in methodists_of(export.municipality_id):

        def build(user=user):
            with translation.override(language):
                context = {
                    "name": user.get_full_name() or user.get_username(),
                    "export": export,
                    "municipality": export.municipality,
                    "link": link,
                    "expires_at": export.expires_at,
                    "site_name": sites.site_name(),
                }
            return mail.render(KIND, context, to=user.email, language=language)

        key = f"{KIND}:{export.pk}:{export.month:%Y-%m}:{user.pk}"
        if mail.send_once(key, KIND, user, build):
            sent += 1
    return sent
