"""The teacher's side of the route (ИОМ) in the cabinet."""

from django.http import Http404


def route_list(request):  # replaced by the implementation
    raise Http404


def route_detail(request, pk):
    raise Http404


def choose_option(request, pk, step_id):
    raise Http404


def mark_step_done(request, pk, step_id):
    raise Http404


def reflection(request, pk):
    raise Http404


def request_correction(request, pk):
    raise Http404
