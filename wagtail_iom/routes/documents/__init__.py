"""The printed route (ИОМ): one plain structure, rendered as an HTML print view, a PDF and a Word file.

:func:`route_document` builds a :class:`RouteDocument` — title, header facts, sections made of
tables (header row and body rows of strings), paragraphs and notes, signature lines — in one of
the four layouts of :class:`~wagtail_iom.models.RouteLayout`:

``full``
    The four-section document of the fullest regional form: general
    information, competencies and request, the development map by stage and level, the
    recommendations; signatures of the teacher, the school head, the municipal responsible
    and the centre's tutor.
``compact``
    The compact task table: deficit or task → educational task
    → actions and events → time by stage → form of presenting the result.
``competency_groups``
    The programme by competency groups: one block of rows per
    group of the competency framework, from the competencies the steps target.
``profiles``
    The seven parts of 002's «Структура ИОМ»: personal profile, professional profile, profile
    of competencies, professional request, goals and tasks (with the development map),
    recommendations, reflection.

The structure is built in :mod:`.structure`; :mod:`.html` renders it as HTML and as a PDF
(WeasyPrint), :mod:`.word` as a Word file (python-docx), so the three files hold the same rows.

Sections 1 and 2 come from the route's snapshots (``profile_snapshot`` and
``diagnostics_snapshot``, in the format written by :mod:`wagtail_iom.routes.builder`), so
that a printed route keeps saying what it said when it was approved; a route without snapshots
shows the teacher's profile as it is now. The diagnostic history of section 2 is read from the
database: every result from ``ROUTE_DIAGNOSTICS_LOOKBACK_MONTHS`` before the route's start to
its end.

Building a document runs a fixed number of queries, whatever the number of steps.
"""

from wagtail_iom.routes.documents.html import layout_pdf, render_html, render_pdf
from wagtail_iom.routes.documents.structure import (
    LAYOUTS,
    DocumentUnavailable,
    RouteDocument,
    default_layout,
    route_document,
)
from wagtail_iom.routes.documents.word import render_docx

FORMATS = ("html", "pdf", "docx")

CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def render(document, fmt, **html_options) -> bytes | str:
    """The document in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "html":
        return render_html(document, **html_options)
    if fmt == "pdf":
        return render_pdf(document)
    if fmt == "docx":
        return render_docx(document)
    raise ValueError(f"Not a document format: {fmt!r}")


__all__ = [
    "CONTENT_TYPES",
    "FORMATS",
    "LAYOUTS",
    "DocumentUnavailable",
    "RouteDocument",
    "default_layout",
    "layout_pdf",
    "render",
    "render_docx",
    "render_html",
    "render_pdf",
    "route_document",
]
