"""The printed route as HTML (the print view) and as a PDF (WeasyPrint), from the structure of
:mod:`.structure`.
"""

from __future__ import annotations

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from wagtail_iom.routes.documents.structure import TEMPLATE, DocumentUnavailable


def render_html(document, *, links=None, screen=False, notices=()) -> str:
    """The document as a standalone HTML page with print CSS (A4; landscape pages for wide
    tables). ``screen`` adds the toolbar of the print view with ``links`` (a list of
    ``{"label", "url", "current", "download"}``) and ``notices`` (messages to the reader);
    the PDF is made without them."""
    return render_to_string(
        TEMPLATE,
        {
            "document": document,
            "links": links or [],
            "screen": screen,
            "notices": list(notices),
        },
    )


def render_pdf(document) -> bytes:
    """The document as PDF bytes (WeasyPrint; the fonts DejaVu Sans or Liberation Sans give
    Cyrillic).

    :raises DocumentUnavailable: WeasyPrint is not installed.
    """
    return layout_pdf(render_html(document)).write_pdf()


def layout_pdf(html):
    """WeasyPrint's laid-out document of ``html`` (its ``pages``, its ``write_pdf()``): for
    the printed forms that must count their pages before writing them (the audit's one page).

    :raises DocumentUnavailable: WeasyPrint is not installed.
    """
    try:
        from weasyprint import HTML
    except ImportError as exc:  # pragma: no cover - the pdf extra is installed in CI
        raise DocumentUnavailable(
            _("PDF files cannot be made on this site: WeasyPrint is not installed.")
        ) from exc
    return HTML(string=html).render()
