"""The teacher's competency profile: diagnostics, deficits, proficits and evidence."""

from django.http import Http404


def competency_profile(request):  # replaced by the implementation
    raise Http404
