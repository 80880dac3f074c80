"""The teacher's profile (section 1) and professional request, edited in the cabinet."""

from django.http import Http404


def profile_edit(request):  # replaced by the implementation
    raise Http404


def request_edit(request):
    raise Http404
