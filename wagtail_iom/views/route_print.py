"""Printed routes: HTML print views, PDF and Word, in the layouts of the regulations."""

from django.http import Http404


def cabinet_print(request, pk, layout, fmt):  # replaced by the implementation
    raise Http404
