"""The teacher's cabinet: the overview, sign-ups from the event page and the cabinet."""

from django.http import Http404


def dashboard(request):  # replaced by the implementation
    raise Http404


def registrations(request):
    raise Http404


def cancel_registration(request, pk):
    raise Http404


def signup_for_event(request, event_id):
    raise Http404
