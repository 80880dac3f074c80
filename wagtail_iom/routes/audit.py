"""The methodical audit of a completed route (000 §5.13, 002).

«По итогам выполнения ИОМ на базе муниципальной методической службы проводится методический
аудит успешности реализации ИОМ … Данные о результатах реализации ИОМ передаются в ЦНППМ.»

A municipal methodist of the teacher's municipality (or the centre head:
:func:`wagtail_iom.core.access.can_audit_route`) audits a *completed* route with one form:

* a result per goal and task of the route (:func:`audit_rows`: the goal, then each line of the
  tasks), achieved / partly / not achieved, with a comment;
* the transfer of what was learnt to the teacher's practice;
* the level group, one of the four groups 002 recommends differentiating the audit by (the
  diagnostic levels), proposed from the teacher's latest diagnostic result and editable
  (:func:`initial_level`; the audit remembers the result and whether it was kept);
* the further support recommended, and the conclusion.

:func:`record_audit` checks and saves it and moves the route to "audited" in one transaction
(the route's row locked, as the workflow does); once it commits, the audit is e-mailed to the
centre as a one-page PDF (:mod:`wagtail_iom.routes.emails`). A route becomes audited only this
way: :func:`wagtail_iom.routes.workflow.transition` refuses a bare move to "audited".

:func:`audit_pdf` prints the audit on exactly one A4 page: texts that do not fit are shortened
(with "…") in steps until the page holds them, and the page says so; the full audit stays in
the system.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from wagtail_iom.core import access
from wagtail_iom.diagnostics.models import DiagnosticLevel, DiagnosticResult
from wagtail_iom.routes import emails
from wagtail_iom.routes.documents import layout_pdf
from wagtail_iom.routes.models import AuditResult, Route, RouteAudit, RouteStatus
from wagtail_iom.routes.services import RouteError
from wagtail_iom.routes.workflow import transition

TEMPLATE = "wagtail_iom/routes/print/audit.html"

TEXT_MAX_LENGTH = 4000
COMMENT_MAX_LENGTH = 1000
TEXT_FIELDS = ("transfer_to_practice", "further_support", "conclusion")
REQUIRED_FIELDS = ("transfer_to_practice", "conclusion")


class AuditInvalid(RouteError):
    """The audit's data are not valid; :attr:`errors` maps a field (``results`` rows as
    ``result_<n>`` / ``comment_<n>``) to its message."""

    def __init__(self, errors):
        self.errors = errors
        super().__init__("invalid", _("Correct the errors in the audit form."))


@dataclass(frozen=True)
class AuditRow:
    kind: str  # "goal" or "task"
    text: str


def audit_rows(route) -> list[AuditRow]:
    """What the audit judges: the route's goal, then each task (one per line)."""
    rows = []
    if route.goal.strip():
        rows.append(AuditRow("goal", route.goal.strip()))
    rows.extend(AuditRow("task", line.strip()) for line in route.tasks.splitlines() if line.strip())
    return rows


def latest_diagnostic(teacher_id):
    """The teacher's latest diagnostic result (by date), or None."""
    return DiagnosticResult.objects.filter(teacher_id=teacher_id).order_by("-date", "-pk").first()


def initial_level(route):
    """(the level group proposed, the result it comes from): the latest diagnostic's level,
    or ("", None) when the teacher has no result."""
    result = latest_diagnostic(route.teacher_id)
    return (result.level, result) if result else ("", None)


def refusal(route, user):
    """Why ``user`` may not audit ``route`` now (a :class:`RouteError`), or None."""
    if route.status != RouteStatus.COMPLETED:
        if route.status == RouteStatus.AUDITED:
            return RouteError("already_audited", _("This route has already been audited."))
        return RouteError(
            "status",
            _("Only a completed route is audited; this one is “%(status)s”.")
            % {"status": route.get_status_display()},
        )
    if not access.can_audit_route(user, route):
        return RouteError(
            "forbidden",
            _(
                "A route is audited by a methodist of the teacher's municipality or by the "
                "head of the centre."
            ),
        )
    return None


def can_audit(user, route) -> bool:
    return refusal(route, user) is None


def clean(route, data) -> dict:
    """The audit's values from ``data`` (see :func:`record_audit`), or :class:`AuditInvalid`."""
    errors = {}
    rows = audit_rows(route)
    given = list(data.get("results") or [])
    results = []
    for number, row in enumerate(rows):
        item = given[number] if number < len(given) and isinstance(given[number], dict) else {}
        result = item.get("result") or ""
        comment = str(item.get("comment") or "").strip()
        if result not in AuditResult.values:
            errors[f"result_{number}"] = _("Choose how far this was achieved.")
        if len(comment) > COMMENT_MAX_LENGTH:
            errors[f"comment_{number}"] = _("Write at most %(count)d characters.") % {
                "count": COMMENT_MAX_LENGTH
            }
        results.append({"kind": row.kind, "text": row.text, "result": result, "comment": comment})
    values = {"results": results}
    for name in TEXT_FIELDS:
        text = str(data.get(name) or "").strip()
        if name in REQUIRED_FIELDS and not text:
            errors[name] = _("This field is required.")
        elif len(text) > TEXT_MAX_LENGTH:
            errors[name] = _("Write at most %(count)d characters.") % {"count": TEXT_MAX_LENGTH}
        values[name] = text
    level = data.get("level_group") or ""
    if level not in DiagnosticLevel.values:
        errors["level_group"] = _("Choose the level group.")
    values["level_group"] = level
    if errors:
        raise AuditInvalid(errors)
    return values


def record_audit(route, user, data, *, notify=True, language=None) -> RouteAudit:
    """Record the audit of ``route`` by ``user`` and move the route to "audited".

    ``data``: ``results`` (a list, per :func:`audit_rows` row, of ``{"result", "comment"}``),
    ``transfer_to_practice``, ``level_group`` (a :class:`DiagnosticLevel`),
    ``further_support`` and ``conclusion``. Refused with :class:`AuditInvalid` (bad data) or
    :class:`RouteError` (``status``, ``already_audited``, ``forbidden``, ``frozen``), and then
    nothing changes. With ``notify``, the centre gets the audit's PDF once this commits.
    """
    with transaction.atomic():
        current = Route.objects.select_for_update().select_related("teacher").get(pk=route.pk)
        problem = refusal(current, user)
        if problem is not None:
            raise problem
        values = clean(current, data)
        diagnostic = latest_diagnostic(current.teacher_id)
        audit = RouteAudit.objects.create(
            route=current,
            auditor=user,
            audited_at=timezone.now(),
            diagnostic=diagnostic,
            level_from_diagnostic=bool(diagnostic and diagnostic.level == values["level_group"]),
            **values,
        )
        transition(
            current,
            RouteStatus.AUDITED,
            user,
            comment=values["conclusion"][:4000],
            notify=False,
            audit=True,
        )
        if notify:
            emails.route_audited(audit, language=language)
    route.status = RouteStatus.AUDITED
    return audit


# The one-page PDF -----------------------------------------------------------------------------

#: The steps of shortening, tried in turn until the audit fits on one page: the longest text
#: of each field, of a row's goal or task, of a row's comment, and the most rows shown.
FIT_STEPS = (
    {"text": None, "row": None, "comment": None, "rows": None},
    {"text": 2000, "row": 400, "comment": 500, "rows": 30},
    {"text": 1500, "row": 300, "comment": 400, "rows": 24},
    {"text": 1200, "row": 250, "comment": 300, "rows": 20},
    {"text": 900, "row": 200, "comment": 250, "rows": 16},
    {"text": 700, "row": 160, "comment": 200, "rows": 14},
    {"text": 550, "row": 140, "comment": 160, "rows": 12},
    {"text": 400, "row": 120, "comment": 120, "rows": 10},
    {"text": 300, "row": 100, "comment": 90, "rows": 8},
    {"text": 250, "row": 90, "comment": 75, "rows": 7},
    {"text": 200, "row": 80, "comment": 60, "rows": 6},
    {"text": 100, "row": 60, "comment": 30, "rows": 4},
)


def shorten(text, limit):
    text = text or ""
    if limit is None or len(text) <= limit:
        return text, False
    return text[: limit - 1].rstrip() + "…", True


def _audit_context(audit, step):
    shortened = False
    results = audit.results or []
    rows = []
    task_number = 0
    for item in results[: step["rows"]] if step["rows"] else results:
        task_number += item.get("kind") == "task"
        text, cut1 = shorten(item.get("text", ""), step["row"])
        comment, cut2 = shorten(item.get("comment", ""), step["comment"])
        shortened |= cut1 or cut2
        label = (
            AuditResult(item["result"]).label if item.get("result") in AuditResult.values else ""
        )
        rows.append(
            {
                "kind": item.get("kind"),
                "number": task_number,
                "text": text,
                "result": label,
                "comment": comment,
            }
        )
    hidden = len(results) - len(rows)
    texts = {}
    for name in TEXT_FIELDS:
        texts[name], cut = shorten(getattr(audit, name), step["text"])
        shortened |= cut
    route = audit.route
    return {
        "audit": audit,
        "route": route,
        "teacher": route.teacher,
        "auditor_name": (audit.auditor.get_full_name() or audit.auditor.get_username())
        if audit.auditor
        else "",
        "curator_name": (route.curator.get_full_name() or route.curator.get_username())
        if route.curator
        else "",
        "rows": rows,
        "hidden_rows": hidden,
        "texts": texts,
        "shortened": shortened or hidden > 0,
    }


def audit_html(audit, step=FIT_STEPS[0]) -> str:
    return render_to_string(TEMPLATE, _audit_context(audit, step))


def audit_pdf(audit) -> bytes:
    """The audit as a one-page PDF (see the module's documentation).

    :raises DocumentUnavailable: WeasyPrint is not installed.
    """
    document = layout_pdf(audit_html(audit, FIT_STEPS[0]))
    if len(document.pages) == 1:
        return document.write_pdf()
    # The steps shorten more and more: find the first that fits by halving (four or five
    # layouts rather than up to eleven). The last step always fits.
    low, high = 1, len(FIT_STEPS) - 1
    best = None
    while low <= high:
        middle = (low + high) // 2
        candidate = layout_pdf(audit_html(audit, FIT_STEPS[middle]))
        if len(candidate.pages) == 1:
            best, high = candidate, middle - 1
        else:
            low = middle + 1
    if best is None:  # pragma: no cover - the last step holds four short rows
        best = layout_pdf(audit_html(audit, FIT_STEPS[-1]))
    return best.write_pdf()


def audit_filename(audit) -> str:
    """Named like the printed route's files: by the route's id, no one's name."""
    return f"route-{audit.route_id}-audit.pdf"


def audited_route(audit_pk):
    """The audit with what its PDF and e-mail show, or None."""
    return (
        RouteAudit.objects.select_related(
            "route__teacher__school",
            "route__teacher__municipality",
            "route__curator",
            "auditor",
            "diagnostic",
        )
        .filter(pk=audit_pk)
        .first()
    )
