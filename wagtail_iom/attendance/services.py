"""Attendance: editors mark who was present at each session; teachers see what they attended.

A teacher attended an event when at least one of its sessions is marked for their sign-up
(:class:`~wagtail_iom.models.AttendanceMark`); the attended hours are the academic hours of the
marked sessions. Only *confirmed* sign-ups of the session's event can be marked present: a
pending, waitlisted, declined or cancelled sign-up held no seat there.

Two ways in, both idempotent:

* :func:`mark_session` — the checkbox list of a session in the admin: the marks of the
  session's confirmed sign-ups become exactly the ticked ones;
* :func:`import_attendance` — a list of attendees' e-mails (CSV, XLSX or a plain text file,
  read by :func:`read_attendance_file`): each row is reported, the good ones are marked and
  nothing is unmarked.

And one way out: :func:`attended_events`, for the cabinet, the certificates and the competency
profile (the competencies an attended event targets are evidence for the teacher's profile).
"""

from __future__ import annotations

import datetime
import enum
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Prefetch
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from wagtail_iom.attendance.models import AttendanceMark
from wagtail_iom.conf import iom_settings
from wagtail_iom.core import tabular
from wagtail_iom.core.http import parse_id
from wagtail_iom.events.models import EventSession, Registration, RegistrationStatus

# Marking -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkResult:
    """What :func:`mark_session` did, as registration ids.

    ``refused`` are the ids asked for that are not confirmed sign-ups of the session's event
    (another event's, a cancelled or pending one, a made-up number): nothing was done for them.
    """

    added: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()
    unchanged: int = 0
    refused: tuple = ()

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def eligible_registrations(event_id):
    """The sign-ups that may be marked present: the confirmed ones of the event."""
    return Registration.objects.filter(event_id=event_id, status=RegistrationStatus.CONFIRMED)


def mark_session(session: EventSession, present_registration_ids, by_user) -> MarkResult:
    """Make the session's marks of confirmed sign-ups exactly ``present_registration_ids``.

    Confirmed sign-ups not in the list are unmarked; ids that are not confirmed sign-ups of
    this event are refused and reported, never marked. A mark left on a sign-up that is no
    longer confirmed (cancelled after the first day of a course) is kept: the checkbox list
    does not show it, so the editor did not take it back. Calling it twice with the same ids
    changes nothing the second time.
    """
    wanted, refused = set(), []
    for value in present_registration_ids:
        number = parse_id(value)
        if number is None:
            refused.append(value)
        else:
            wanted.add(number)

    with transaction.atomic():
        eligible = set(eligible_registrations(session.page_id).values_list("pk", flat=True))
        refused.extend(sorted(wanted - eligible))
        wanted &= eligible
        marked = set(
            AttendanceMark.objects.filter(
                session=session, registration_id__in=eligible
            ).values_list("registration_id", flat=True)
        )
        to_add = sorted(wanted - marked)
        to_remove = sorted(marked - wanted)
        if to_remove:
            AttendanceMark.objects.filter(session=session, registration_id__in=to_remove).delete()
        if to_add:
            # ignore_conflicts: another editor marking the same session at the same moment
            # is not an error, the mark is there either way.
            AttendanceMark.objects.bulk_create(
                [
                    AttendanceMark(registration_id=pk, session=session, marked_by=by_user)
                    for pk in to_add
                ],
                ignore_conflicts=True,
            )
    return MarkResult(
        added=tuple(to_add),
        removed=tuple(to_remove),
        unchanged=len(wanted & marked),
        refused=tuple(refused),
    )


def marked_registration_ids(session: EventSession) -> set[int]:
    return set(
        AttendanceMark.objects.filter(session=session).values_list("registration_id", flat=True)
    )


# Uploads of e-mails --------------------------------------------------------------------------


class AttendanceFileError(ValueError):
    """The uploaded file cannot be read as a list of e-mails; the message says why."""


#: Headers that name the e-mail column (compared in lower case, without spaces at the ends).
EMAIL_HEADERS = (
    "email",
    "e-mail",
    "e_mail",
    "mail",
    "почта",
    "эл. почта",
    "эл.почта",
    "электронная почта",
    "адрес электронной почты",
    "e-mail участника",
)

TEXT_EXTENSIONS = (".txt",)
TABLE_EXTENSIONS = (".csv", ".xlsx")
UPLOAD_EXTENSIONS = TEXT_EXTENSIONS + TABLE_EXTENSIONS


def read_attendance_file(content: bytes, file_name: str) -> list[tuple[int, str]]:
    """The e-mails of an uploaded file as ``(line, text)`` pairs, line numbers as in the file.

    * ``.txt``: one e-mail per line (UTF-8 or Windows-1251); a first line that names the column
      (``email``, ``e-mail``, ``почта``…) is skipped.
    * ``.csv`` / ``.xlsx``: a table; the e-mail column is the one headed by such a name, or the
      one whose first row holds an e-mail (a table without a header), or the only column.

    :raises AttendanceFileError: the file is of another kind, damaged, or has no e-mail column.
    """
    name = (file_name or "").lower()
    max_rows = iom_settings.IMPORT_MAX_ROWS
    if name.endswith(TEXT_EXTENSIONS) and content[:2] != b"PK":
        return _read_text(content, max_rows)
    if not name.endswith(TABLE_EXTENSIONS) and content[:2] != b"PK":
        raise AttendanceFileError(
            _("Upload a .csv, .xlsx or .txt file; “%(name)s” is none of these.")
            % {"name": file_name}
        )
    try:
        table = tabular.read_table(content, file_name, max_rows)
    except tabular.TableReadError as exc:
        raise AttendanceFileError(str(exc)) from exc
    return _email_column(table)


def _read_text(content: bytes, max_rows: int) -> list[tuple[int, str]]:
    try:
        text, _encoding = tabular.decode_csv_bytes(content)
    except tabular.TableReadError as exc:
        raise AttendanceFileError(str(exc)) from exc
    if "\x00" in text:
        raise AttendanceFileError(_("The file contains binary data: it is not a text file."))
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.strip().strip(";,\t").strip()
        if not value:
            continue
        if not rows and _is_email_header(value):
            continue
        if len(rows) >= max_rows:
            raise AttendanceFileError(
                _("The file has more than %(max)d rows. Split it into smaller files.")
                % {"max": max_rows}
            )
        rows.append((number, value))
    if not rows:
        raise AttendanceFileError(_("The file is empty: put one e-mail on each line."))
    return rows


def _is_email_header(value: str) -> bool:
    return value.strip().lower() in EMAIL_HEADERS


def _looks_like_email(value: str) -> bool:
    return "@" in value and " " not in value.strip()


def _email_column(table: tabular.Table) -> list[tuple[int, str]]:
    headers = table.headers
    column = next((i for i, h in enumerate(headers) if _is_email_header(h)), None)
    header_is_data = False
    if column is None:
        column = next((i for i, h in enumerate(headers) if _looks_like_email(h)), None)
        header_is_data = column is not None
    if column is None and len(headers) == 1:
        column = 0
    if column is None:
        raise AttendanceFileError(
            _(
                "No column of e-mails was found. Head the column with e-mails “email” "
                "(or “e-mail”, “почта”), or upload a file with one e-mail per line."
            )
        )
    # The line of the header row: the first row's line minus one is a guess for CSV files
    # with blank lines on top, so the header is simply reported as line 1.
    rows = [(1, headers[column])] if header_is_data else []
    for line, cells in table.rows:
        rows.append((line, cells[column] if column < len(cells) else ""))
    return rows


class RowStatus(enum.StrEnum):
    OK = "ok"
    INVALID_EMAIL = "invalid_email"
    DUPLICATE = "duplicate"
    UNKNOWN_EMAIL = "unknown_email"
    NOT_SIGNED_UP = "not_signed_up"
    NOT_CONFIRMED = "not_confirmed"


@dataclass(frozen=True)
class ImportRow:
    line: int
    value: str
    status: RowStatus
    registration_id: int | None = None
    # For OK rows: True when the mark was already there (an upload repeated).
    already_marked: bool = False
    # For NOT_CONFIRMED rows: the sign-up's status label.
    registration_status: str = ""

    @property
    def ok(self) -> bool:
        return self.status == RowStatus.OK

    @property
    def message(self) -> str:
        """What happened to the row, in the active language."""
        if self.status == RowStatus.OK:
            if self.already_marked:
                return _("Already marked present.")
            return _("Marked present.")
        if self.status == RowStatus.INVALID_EMAIL:
            if not self.value:
                return _("The e-mail is empty.")
            return _("This is not a valid e-mail address.")
        if self.status == RowStatus.DUPLICATE:
            return _("The same e-mail is higher up in the file; this row is skipped.")
        if self.status == RowStatus.UNKNOWN_EMAIL:
            return _("Nobody on the site has this e-mail.")
        if self.status == RowStatus.NOT_SIGNED_UP:
            return _("This person is not signed up for this event.")
        return _(
            "This person's sign-up is not confirmed (its status is “%(status)s”), "
            "so they cannot be marked present."
        ) % {"status": self.registration_status}


@dataclass(frozen=True)
class ImportReport:
    rows: tuple[ImportRow, ...] = ()
    added: int = 0

    @property
    def counts(self) -> dict[str, int]:
        counts = Counter(row.status.value for row in self.rows)
        return {status.value: counts.get(status.value, 0) for status in RowStatus}

    @property
    def ok_rows(self):
        return [row for row in self.rows if row.ok]

    @property
    def bad_rows(self):
        return [row for row in self.rows if not row.ok]


def import_attendance(session: EventSession, rows, by_user) -> ImportReport:
    """Mark present the people whose e-mails are listed; report on every row.

    ``rows`` are ``(line, e-mail)`` pairs (from :func:`read_attendance_file`) or plain
    strings (numbered from 1). A row is good when its e-mail belongs to a user with a confirmed
    sign-up for the session's event; good rows are marked (marks already there stay), bad rows
    are reported and change nothing. Nobody is unmarked. The queries do not grow with the rows.
    """
    numbered = [
        row if isinstance(row, tuple) else (number, row) for number, row in enumerate(rows, 1)
    ]
    parsed = []  # (line, value, normalised e-mail or None, status or None)
    seen = set()
    for line, raw in numbered:
        value = str(raw or "").strip()
        if value.lower().startswith("mailto:"):
            value = value[len("mailto:") :]
        key = value.lower()
        try:
            validate_email(value)
        except ValidationError:
            parsed.append((line, value, None, RowStatus.INVALID_EMAIL))
            continue
        if key in seen:
            parsed.append((line, value, None, RowStatus.DUPLICATE))
            continue
        seen.add(key)
        parsed.append((line, value, key, None))

    users_by_email: dict[str, list[int]] = {}
    if seen:
        User = get_user_model()
        email_field = User.get_email_field_name()
        for pk, email in (
            User.objects.annotate(_email_lower=Lower(email_field))
            .filter(_email_lower__in=seen, is_active=True)
            .values_list("pk", "_email_lower")
        ):
            users_by_email.setdefault(email, []).append(pk)
    user_ids = {pk for pks in users_by_email.values() for pk in pks}

    report_rows = []
    with transaction.atomic():
        registrations = {}
        for registration in Registration.objects.filter(
            event_id=session.page_id, user_id__in=user_ids
        ):
            registrations[registration.user_id] = registration
        marked = set(
            AttendanceMark.objects.filter(
                session=session, registration__user_id__in=user_ids
            ).values_list("registration_id", flat=True)
        )
        to_add = []
        for line, value, key, status in parsed:
            if status is not None:
                report_rows.append(ImportRow(line, value, status))
                continue
            candidates = users_by_email.get(key)
            if not candidates:
                report_rows.append(ImportRow(line, value, RowStatus.UNKNOWN_EMAIL))
                continue
            found = [registrations[pk] for pk in candidates if pk in registrations]
            if not found:
                report_rows.append(ImportRow(line, value, RowStatus.NOT_SIGNED_UP))
                continue
            # Two accounts with one e-mail: the confirmed sign-up, if either has one.
            found.sort(key=lambda r: r.status != RegistrationStatus.CONFIRMED)
            registration = found[0]
            if registration.status != RegistrationStatus.CONFIRMED:
                report_rows.append(
                    ImportRow(
                        line,
                        value,
                        RowStatus.NOT_CONFIRMED,
                        registration_id=registration.pk,
                        registration_status=str(registration.get_status_display()),
                    )
                )
                continue
            already = registration.pk in marked
            if not already:
                to_add.append(registration.pk)
                marked.add(registration.pk)
            report_rows.append(
                ImportRow(
                    line,
                    value,
                    RowStatus.OK,
                    registration_id=registration.pk,
                    already_marked=already,
                )
            )
        if to_add:
            AttendanceMark.objects.bulk_create(
                [
                    AttendanceMark(registration_id=pk, session=session, marked_by=by_user)
                    for pk in to_add
                ],
                ignore_conflicts=True,
            )
    return ImportReport(rows=tuple(report_rows), added=len(to_add))


# Reading -------------------------------------------------------------------------------------


@dataclass
class AttendedEvent:
    """One event a teacher attended: the sign-up, what was attended, the event's facts."""

    registration: Registration
    sessions_attended: list = field(default_factory=list)
    sessions_total: int = 0
    hours: Decimal = Decimal(0)

    @property
    def event(self):
        return self.registration.event

    @property
    def competencies(self):
        return list(self.event.competencies.all())

    @property
    def sessions(self):
        return self.event.session_list

    @property
    def date_from(self) -> datetime.date | None:
        sessions = self.sessions
        return sessions[0].date if sessions else None

    @property
    def date_to(self) -> datetime.date | None:
        sessions = self.sessions
        return sessions[-1].date if sessions else None

    @property
    def attended_dates(self) -> list[datetime.date]:
        return sorted({s.date for s in self.sessions_attended})

    @property
    def attended_all(self) -> bool:
        return bool(self.sessions_total) and len(self.sessions_attended) == self.sessions_total


def _attended_queryset(registrations):
    from wagtail_iom.events.models import EventSession as Session

    return (
        registrations.filter(attendance__isnull=False)
        .distinct()
        .select_related("event", "user", "user__iom_teacher_profile")
        .prefetch_related(
            Prefetch("event__sessions", queryset=Session.objects.order_by("date", "start_time")),
            "event__competencies__group",
            Prefetch("attendance", queryset=AttendanceMark.objects.select_related("session")),
        )
    )


def _attended(registration) -> AttendedEvent:
    marks = list(registration.attendance.all())
    sessions = sorted((m.session for m in marks), key=lambda s: (s.date, s.start_time))
    hours = sum((s.academic_hours or Decimal(0) for s in sessions), Decimal(0))
    return AttendedEvent(
        registration=registration,
        sessions_attended=sessions,
        sessions_total=len(registration.event.sessions.all()),
        hours=hours,
    )


def attended_events(user) -> list[AttendedEvent]:
    """The user's sign-ups with at least one session marked, latest event first.

    A fixed number of queries however many sign-ups there are.
    """
    if not (user and user.is_authenticated):
        return []
    registrations = Registration.objects.filter(user=user)
    items = [_attended(r) for r in _attended_queryset(registrations)]
    items.sort(
        key=lambda item: (item.date_to or datetime.date.min, item.registration.pk),
        reverse=True,
    )
    return items


def attended_event(registration) -> AttendedEvent | None:
    """The same for one sign-up; None when none of its sessions is marked."""
    found = list(_attended_queryset(Registration.objects.filter(pk=registration.pk)))
    return _attended(found[0]) if found else None


def total_hours(items) -> Decimal:
    return sum((item.hours for item in items), Decimal(0))


def is_attended(registration) -> bool:
    """Whether at least one session of the sign-up's event is marked for it."""
    return AttendanceMark.objects.filter(registration=registration).exists()
