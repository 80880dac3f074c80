"""The kinds (forms) of educational events, each belonging to a track: formal (accredited
further-education programmes), non-formal (seminars, conferences, clubs...) or informal
(self-education, mentoring, peer visits).

Institutes add their own with ``WAGTAIL_IOM["EVENT_KINDS_EXTRA"]``, a list of
``(code, label, track)`` triples; the field's choices are read from here at run time, so adding
a kind needs no migration.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from wagtail_iom.conf import iom_settings


class EventTrack(models.TextChoices):
    FORMAL = "formal", _("Formal education")
    NON_FORMAL = "non_formal", _("Non-formal education")
    INFORMAL = "informal", _("Informal education")


DEFAULT_EVENT_KINDS = [
    # Formal
    ("course", _("Further-education course"), EventTrack.FORMAL),
    ("retraining", _("Professional retraining"), EventTrack.FORMAL),
    ("internship", _("Internship"), EventTrack.FORMAL),
    # Non-formal
    ("seminar", _("Seminar"), EventTrack.NON_FORMAL),
    ("webinar", _("Webinar"), EventTrack.NON_FORMAL),
    ("master_class", _("Master class"), EventTrack.NON_FORMAL),
    ("conference", _("Conference"), EventTrack.NON_FORMAL),
    ("forum", _("Forum"), EventTrack.NON_FORMAL),
    ("round_table", _("Round table"), EventTrack.NON_FORMAL),
    ("competition", _("Professional skills competition"), EventTrack.NON_FORMAL),
    ("community_meeting", _("Professional community meeting"), EventTrack.NON_FORMAL),
    ("centre_project", _("Centre project or club"), EventTrack.NON_FORMAL),
    ("immersion", _("Educational session or immersion"), EventTrack.NON_FORMAL),
    ("consultation", _("Consultation"), EventTrack.NON_FORMAL),
    # Informal
    ("self_education", _("Self-education"), EventTrack.INFORMAL),
    ("mentoring", _("Mentoring session"), EventTrack.INFORMAL),
    ("peer_visit", _("Peer lesson visit"), EventTrack.INFORMAL),
    ("reading", _("Reading or online resource"), EventTrack.INFORMAL),
    ("personal_project", _("Personal project"), EventTrack.INFORMAL),
]


def event_kinds():
    """All kinds: ``[(code, label, track), …]``, the defaults then the project's own."""
    return [*DEFAULT_EVENT_KINDS, *[tuple(kind) for kind in iom_settings.EVENT_KINDS_EXTRA]]


def event_kind_choices():
    return [(code, label) for code, label, _track in event_kinds()]


def track_of_kind(code):
    for kind_code, _label, track in event_kinds():
        if kind_code == code:
            return track
    return None
