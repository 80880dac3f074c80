"""Participation certificates: a one-page A4 PDF for an attended event, made with WeasyPrint.

The page is the template ``wagtail_iom/certificates/participation.html`` (override it in the
project to add a logo, signatures or a seal). Fonts: the template asks for DejaVu Sans, then
Liberation Sans, which Debian packages (``fonts-dejavu-core``) and which have Cyrillic; the
server needs one of them installed, or the names come out in boxes.

WeasyPrint is the optional dependency ``wagtail-iom[pdf]``.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail_iom.attendance.services import attended_event
from wagtail_iom.core import sites
from wagtail_iom.core.text import participant_name

TEMPLATE = "wagtail_iom/certificates/participation.html"


class CertificateError(Exception):
    """No certificate can be made; the message says why."""


class NotAttended(CertificateError):
    """The sign-up has no session marked: there is nothing to certify."""


class CertificateUnavailable(CertificateError):
    """WeasyPrint is not installed (``pip install wagtail-iom[pdf]``)."""


def certificate_number(registration) -> str:
    """Stable and unique per sign-up, so that a reprint carries the same number."""
    return f"IOM-{registration.event_id}-{registration.pk}"


def certificate_filename(registration) -> str:
    return f"certificate-{certificate_number(registration)}.pdf"


def certificate_context(registration, site_name=None) -> dict:
    item = attended_event(registration)
    if item is None:
        raise NotAttended(_("This sign-up has no attended session, so it has no certificate."))
    event = item.event
    registration = item.registration
    return {
        "registration": registration,
        "attended": item,
        "event": event,
        "site_name": site_name or sites.site_name(event.get_site()),
        "participant_name": participant_name(registration.user),
        "number": certificate_number(registration),
        "date_from": item.date_from,
        "date_to": item.date_to,
        "hours": item.hours,
        "issued_on": timezone.localdate(),
    }


def render_certificate_html(registration, site_name=None) -> str:
    return render_to_string(TEMPLATE, certificate_context(registration, site_name=site_name))


def participation_certificate_pdf(registration, site_name=None) -> bytes:
    """The certificate of participation of an attended sign-up, as PDF bytes.

    Rendered in the active language. ``site_name`` defaults to the name of the event's site.

    :raises NotAttended: no session of the sign-up is marked.
    :raises CertificateUnavailable: WeasyPrint is not installed.
    """
    html = render_certificate_html(registration, site_name=site_name)
    try:
        from weasyprint import HTML
    except ImportError as exc:  # pragma: no cover - the pdf extra is installed in CI
        raise CertificateUnavailable(
            _("Certificates cannot be made on this site: WeasyPrint is not installed.")
        ) from exc
    return HTML(string=html).write_pdf()
