"""The teacher's competency profile: diagnostics, deficits, proficits and evidence."""

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from wagtail_iom.conf import iom_settings
from wagtail_iom.core.http import teacher_required
from wagtail_iom.diagnostics import competency_profile as profile_service
from wagtail_iom.diagnostics.models import DiagnosticResult
from wagtail_iom.diagnostics.radar import radar_chart


@teacher_required
@require_http_methods(["GET", "HEAD"])
def competency_profile(request):
    """The chart and the table of the own competency profile, and the own diagnostics."""
    profile = request.iom_teacher
    results = list(DiagnosticResult.objects.filter(teacher=profile).order_by("-date", "-pk"))
    rows = profile_service.competency_profile(profile)
    context = {
        "cabinet_section": "competencies",
        "results": results,
        "latest_result": results[0] if results else None,
        "previous_result": results[1] if len(results) > 1 else None,
        "rows": rows,
        "chart": radar_chart(rows),
        "has_scores": any(row.latest is not None for row in rows),
        "has_evidence": any(row.evidence.count for row in rows),
        "deficits": profile_service.deficits(profile, rows=rows),
        "proficits": profile_service.proficits(profile, rows=rows),
        "deficit_below": iom_settings.DIAGNOSTICS_DEFICIT_BELOW,
        "proficit_from": iom_settings.DIAGNOSTICS_PROFICIT_FROM,
    }
    return render(request, "wagtail_iom/cabinet/competencies.html", context)
