"""Printed routes: the HTML print view, the PDF and the Word file of a route, in the layouts of
the regulations (see :mod:`wagtail_iom.services.route_documents`).

Two entrances with the same files: the teacher's cabinet (the teacher's own routes only) and the
admin (the routes :func:`~wagtail_iom.services.access.routes_visible_to` gives the staff member).
A route outside them, an unknown layout or an unknown format is not found (404).
"""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from ..models import RouteLayout
from ..services import access
from ..services import route_documents as documents
from .decorators import teacher_required

#: The namespace of the admin's URLs: ``reverse("wagtail_iom_route_print:print",
#: args=(pk, layout, fmt))``.
ADMIN_NAMESPACE = "wagtail_iom_route_print"

ROUTE_RELATED = ("teacher__school", "teacher__municipality", "curator")


def _check(layout, fmt):
    if layout not in RouteLayout.values or fmt not in documents.FORMATS:
        raise Http404


def _links(url_for, layout, fmt):
    """The print view's toolbar: this layout as PDF and Word, and the other layouts."""
    links = [
        {"label": _("Download PDF"), "url": url_for(layout, "pdf"), "download": True},
        {"label": _("Download Word (.docx)"), "url": url_for(layout, "docx"), "download": True},
    ]
    for value, label in RouteLayout.choices:
        links.append(
            {
                "label": str(label),
                "url": url_for(value, "html"),
                "current": value == layout and fmt == "html",
            }
        )
    return links


def _respond(request, route, layout, fmt, url_for, fallback_url):
    document = documents.route_document(route, layout)
    if fmt == "html":
        html = documents.render_html(
            document,
            links=_links(url_for, layout, fmt),
            screen=True,
            notices=[str(message) for message in messages.get_messages(request)],
        )
        return HttpResponse(html, content_type=documents.CONTENT_TYPES["html"])
    try:
        content = documents.render(document, fmt)
    except documents.DocumentUnavailable as exc:
        messages.error(request, str(exc))
        return redirect(fallback_url)
    response = HttpResponse(content, content_type=documents.CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{document.filename(fmt)}"'
    return response


@require_http_methods(["GET", "HEAD"])
@teacher_required
def cabinet_print(request, pk, layout, fmt):
    """One of the teacher's own routes in ``layout`` as ``fmt`` (html, pdf, docx)."""
    _check(layout, fmt)
    route = get_object_or_404(access.own_routes(request.user).select_related(*ROUTE_RELATED), pk=pk)

    def url_for(layout_value, fmt_value):
        return reverse("wagtail_iom:cabinet_route_print", args=(route.pk, layout_value, fmt_value))

    return _respond(
        request,
        route,
        layout,
        fmt,
        url_for,
        fallback_url=url_for(layout, "html"),
    )


@require_http_methods(["GET", "HEAD"])
@never_cache
def admin_print(request, pk, layout, fmt):
    """A route the staff member may see, in ``layout`` as ``fmt`` (the admin's print view)."""
    _check(layout, fmt)
    route = get_object_or_404(
        access.routes_visible_to(request.user).select_related(*ROUTE_RELATED), pk=pk
    )

    def url_for(layout_value, fmt_value):
        return reverse(f"{ADMIN_NAMESPACE}:print", args=(route.pk, layout_value, fmt_value))

    return _respond(
        request,
        route,
        layout,
        fmt,
        url_for,
        fallback_url=url_for(layout, "html"),
    )


def admin_urlpatterns():
    """Included under ``iom/routes/`` of the admin by ``wagtail_hooks.py``."""
    return [path("<int:pk>/print/<slug:layout>.<str:fmt>", admin_print, name="print")]
