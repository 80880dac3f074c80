"""Attended events in the cabinet, with their hours, and participation certificates."""

from django.http import Http404


def attended_events(request):  # replaced by the implementation
    raise Http404


def certificate(request, registration_id):
    raise Http404
