"""The teacher's side of the route (ИОМ) in the cabinet: the route with its progress, the choice
among offered events, done marks with evidence, the reflection and requests for a correction.

Every route is looked up in :func:`wagtail_iom.core.access.own_routes`, so another
teacher's route is a 404 and nothing changes. The changes are made by
:mod:`wagtail_iom.routes.teacher`; a refused change comes back as a message on the
route page.

Printed routes: the HTML print view, the PDF and the Word file of a route, in the layouts of
the regulations (see :mod:`wagtail_iom.routes.documents`).

Two entrances with the same files: the teacher's cabinet (the teacher's own routes only) and the
admin (the routes :func:`~wagtail_iom.core.access.routes_visible_to` gives the staff member).
A route outside them, an unknown layout or an unknown format is not found (404).
"""

import mimetypes

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import escape
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from wagtail_iom.core import access
from wagtail_iom.core.http import teacher_required
from wagtail_iom.people import access_log
from wagtail_iom.routes import documents
from wagtail_iom.routes import teacher as service
from wagtail_iom.routes.models import RouteLayout
from wagtail_iom.routes.services import RouteError

TEMPLATES = "wagtail_iom/cabinet/"


def _own_route(request, pk):
    return get_object_or_404(
        access.own_routes(request.user).select_related(
            "teacher", "curator", "curator_reflection_by"
        ),
        pk=pk,
    )


def _route_url(route, anchor=""):
    url = reverse("wagtail_iom:cabinet_route", args=[route.pk])
    return f"{url}#{anchor}" if anchor else url


def _step_anchor(step_id):
    return f"step-{step_id}"


# Forms -------------------------------------------------------------------------------------------


class ChooseOptionForm(forms.Form):
    event = forms.IntegerField(label=gettext_lazy("Event"), min_value=1)


class EvidenceForm(forms.Form):
    evidence_text = forms.CharField(
        label=gettext_lazy("What was done"),
        required=False,
        max_length=service.TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("The topic, what you did, what came of it."),
    )
    evidence_url = forms.URLField(
        label=gettext_lazy("Link"),
        required=False,
        max_length=service.URL_MAX_LENGTH,
        assume_scheme="https",
        help_text=gettext_lazy("A published work, a video of a lesson, a certificate online…"),
    )
    evidence_file = forms.FileField(
        label=gettext_lazy("File"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": service.EVIDENCE_ACCEPT}),
    )

    def __init__(self, *args, kept_file_name="", **kwargs):
        super().__init__(*args, **kwargs)
        self.kept_file_name = kept_file_name
        self.fields["evidence_file"].help_text = _(
            "PDF, DOC, DOCX, ODT, JPG, PNG or TXT, up to %(limit)s."
        ) % {"limit": _filesize(service.evidence_max_size())}
        if kept_file_name:
            self.fields["evidence_file"].help_text += " " + _(
                "A new file replaces “%(name)s”; leave empty to keep it."
            ) % {"name": escape(kept_file_name)}

    def clean_evidence_url(self):
        url = self.cleaned_data["evidence_url"]
        if url and not url.lower().startswith(("http://", "https://")):
            raise ValidationError(
                _("Give the link as a full address starting with https://."), code="invalid"
            )
        return url

    def clean_evidence_file(self):
        upload = self.cleaned_data.get("evidence_file")
        if upload:
            service.validate_evidence_file(upload)
        return upload

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        if not (
            (cleaned.get("evidence_text") or "").strip()
            or cleaned.get("evidence_url")
            or cleaned.get("evidence_file")
            or self.kept_file_name
        ):
            raise ValidationError(
                _("Say what was done, give a link, or attach a file: at least one of them."),
                code="no_evidence",
            )
        return cleaned


def _filesize(value):
    from django.template.defaultfilters import filesizeformat

    return filesizeformat(value)


class ReflectionForm(forms.Form):
    reflection = forms.CharField(
        label=gettext_lazy("Reflection"),
        required=False,
        max_length=service.REFLECTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=gettext_lazy(
            "What has changed in your work, which deficits are closed, what is still to do."
        ),
    )


class CorrectionForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("What should be corrected"),
        max_length=service.TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy(
            "E.g. an event's dates do not suit you, or a step should be replaced. Your "
            "curator gets the request by e-mail."
        ),
    )


# Views -------------------------------------------------------------------------------------------


@teacher_required
@require_http_methods(["GET", "HEAD"])
def route_list(request):
    routes = access.own_routes(request.user).select_related("curator").order_by("-starts_on", "-pk")
    context = {
        "cabinet_section": "routes",
        "routes": routes,
        "route_request": service.route_request_state(request.iom_teacher),
        "request_form": RouteRequestForm(),
    }
    return TemplateResponse(request, TEMPLATES + "routes.html", context)


class RouteRequestForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("Comment (optional)"),
        help_text=gettext_lazy("What you would like to work on, e.g. a deficit or an attestation."),
        required=False,
        max_length=service.REQUEST_COMMENT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "aria-describedby": "id_comment-help"}),
    )


@teacher_required
@require_http_methods(["POST"])
def ask_for_route(request):
    """The "Ask for an individual route" button of the cabinet's routes page."""
    back = reverse("wagtail_iom:cabinet_routes")
    form = RouteRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors.get("comment", [])))
        return redirect(back)
    try:
        service.ask_for_route(
            request.iom_teacher, form.cleaned_data["comment"], language=get_language()
        )
    except RouteError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _(
                "Your request is sent to the methodical service of your municipality. The centre "
                "will assign you a curator, who will build the route with you."
            ),
        )
    return redirect(back)


@teacher_required
@require_http_methods(["GET", "HEAD"])
def route_detail(request, pk):
    route = _own_route(request, pk)
    context = service.route_page(route)
    context["cabinet_section"] = "routes"
    return TemplateResponse(request, TEMPLATES + "route_detail.html", context)


@teacher_required
@require_http_methods(["POST"])
def choose_option(request, pk, step_id):
    route = _own_route(request, pk)
    form = ChooseOptionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose one of the events offered in this step."))
        return redirect(_route_url(route, _step_anchor(step_id)))
    try:
        event = service.choose_option(route, step_id, form.cleaned_data["event"], request.user)
    except RouteError as error:
        messages.error(request, error.message)
        return redirect(_route_url(route, _step_anchor(step_id)))
    messages.success(
        request,
        _("You chose “%(event)s”. Sign up for it in this step.") % {"event": event.title},
    )
    return redirect(_route_url(route, _step_anchor(step_id)))


def _download(completion):
    if completion is None or not completion.evidence_file:
        raise Http404
    name = service.evidence_file_name(completion)
    try:
        handle = completion.evidence_file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)


@teacher_required
@require_http_methods(["GET", "HEAD", "POST"])
def mark_step_done(request, pk, step_id):
    """GET: the form (``?download=1``: the evidence file); POST: save the mark, or take it back
    with ``action=undo``."""
    route = _own_route(request, pk)
    step = service.find_step(route, step_id)
    if step is None:
        raise Http404
    if request.method != "POST" and request.GET.get("download"):
        return _download(step.completion)
    back = _route_url(route, _step_anchor(step_id))
    refusal = service.mark_refusal(route, step)
    if refusal is not None:
        messages.error(request, refusal.message)
        return redirect(back)
    kept = service.evidence_file_name(step.completion)

    if request.method == "POST" and request.POST.get("action") == "undo":
        try:
            removed = service.unmark(route, step_id, request.user)
        except RouteError as error:
            messages.error(request, error.message)
        else:
            if removed:
                messages.success(request, _("The mark is taken back."))
        return redirect(back)

    if request.method == "POST":
        form = EvidenceForm(request.POST, request.FILES, kept_file_name=kept)
        if form.is_valid():
            try:
                service.mark_done(
                    route,
                    step_id,
                    request.user,
                    text=form.cleaned_data["evidence_text"],
                    url=form.cleaned_data["evidence_url"],
                    file=form.cleaned_data["evidence_file"] or None,
                )
            except RouteError as error:
                form.add_error(None, ValidationError(error.message, code=error.code))
            else:
                messages.success(request, _("The step is marked done."))
                return redirect(back)
    else:
        initial = {}
        if step.completion is not None:
            initial = {
                "evidence_text": step.completion.evidence_text,
                "evidence_url": step.completion.evidence_url,
            }
        form = EvidenceForm(initial=initial, kept_file_name=kept)
    context = {
        "cabinet_section": "routes",
        "route": route,
        "step": step,
        "form": form,
        "kept_file_name": kept,
        "back_url": back,
    }
    return TemplateResponse(request, TEMPLATES + "route_step_done.html", context)


@teacher_required
@require_http_methods(["GET", "HEAD", "POST"])
def reflection(request, pk):
    route = _own_route(request, pk)
    back = _route_url(route, "reflection")
    if not service.can_reflect(route):
        messages.error(
            request,
            _("Writing the reflection is not possible while the route is “%(status)s”.")
            % {"status": route.get_status_display()},
        )
        return redirect(back)
    if request.method == "POST":
        form = ReflectionForm(request.POST)
        if form.is_valid():
            try:
                service.save_reflection(route, form.cleaned_data["reflection"], request.user)
            except RouteError as error:
                form.add_error(None, ValidationError(error.message, code=error.code))
            else:
                messages.success(request, _("Your reflection is saved."))
                return redirect(back)
    else:
        form = ReflectionForm(initial={"reflection": route.reflection})
    context = {"cabinet_section": "routes", "route": route, "form": form, "back_url": back}
    return TemplateResponse(request, TEMPLATES + "route_reflection.html", context)


@teacher_required
@require_http_methods(["GET", "HEAD", "POST"])
def request_correction(request, pk):
    route = _own_route(request, pk)
    back = _route_url(route, "corrections")
    if not service.can_request_correction(route):
        messages.error(
            request,
            _("Asking for a correction is not possible while the route is “%(status)s”.")
            % {"status": route.get_status_display()},
        )
        return redirect(back)
    if request.method == "POST":
        form = CorrectionForm(request.POST)
        if form.is_valid():
            try:
                result = service.request_correction(
                    route, form.cleaned_data["text"], request.user, language=get_language()
                )
            except RouteError as error:
                form.add_error(None, ValidationError(error.message, code=error.code))
            else:
                if result.recipient is not None and result.recipient.email:
                    messages.success(request, _("Your request is sent to your curator."))
                else:
                    messages.warning(
                        request,
                        _(
                            "Your request is saved. No curator is assigned to you yet: the "
                            "centre will see it with the route."
                        ),
                    )
                return redirect(back)
    else:
        form = CorrectionForm()
    context = {
        "cabinet_section": "routes",
        "route": route,
        "form": form,
        "back_url": back,
        "curator": service.route_curator(route),
    }
    return TemplateResponse(request, TEMPLATES + "route_correction.html", context)


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


def _respond(request, route, layout, fmt, url_for, fallback_url, public_events_only=False):
    document = documents.route_document(route, layout, public_events_only=public_events_only)
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
        # The teacher never reads the title of an event they may not see.
        public_events_only=True,
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

    response = _respond(
        request,
        route,
        layout,
        fmt,
        url_for,
        fallback_url=url_for(layout, "html"),
    )
    if response.status_code == 200:
        access_log.record(
            request.user,
            access_log.Action.PRINT_ROUTE,
            route.teacher_id,
            object_id=route.pk,
            detail=f"{layout}.{fmt}",
        )
    return response


def admin_urlpatterns():
    """Included under ``iom/routes/`` of the admin by ``wagtail_hooks.py``."""
    return [path("<iom_id:pk>/print/<slug:layout>.<str:fmt>", admin_print, name="print")]
