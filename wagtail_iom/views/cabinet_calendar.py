"""The teacher's personal calendar feed at a secret address, and its regeneration."""

from django.http import Http404


def calendar_settings(request):  # replaced by the implementation
    raise Http404


def personal_feed(request, token):
    raise Http404
