"""The teacher's competency profile (section 2 of the route document), as plain data.

For every competency of the framework the profile gives the latest score the teacher has, the
score before it, the change between them, whether the latest score is a deficit or a proficit,
and the evidence that attended events add: the events targeting the competency at which at
least one session of the teacher's sign-up is marked, and the academic hours of the marked
sessions.

"Latest" is per competency: the score from the most recent diagnostics that scored that
competency, and "previous" is the one from the diagnostics before it that scored it. So an
entry test that scores two competencies updates those two and leaves the rest of a full
self-diagnostics in place.

Thresholds come from ``WAGTAIL_IOM``: a score below ``DIAGNOSTICS_DEFICIT_BELOW`` is a deficit,
one at ``DIAGNOSTICS_PROFICIT_FROM`` or above is a proficit.

Every function here runs a fixed number of queries, whatever the number of diagnostics, scores,
sign-ups or attendance marks.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import OuterRef, Subquery, Sum

from wagtail_iom.attendance.models import AttendanceMark
from wagtail_iom.conf import iom_settings
from wagtail_iom.diagnostics.models import CompetencyScore, DiagnosticResult
from wagtail_iom.directory.models import Competency
from wagtail_iom.events.models import EventPage

DEFICIT = "deficit"
PROFICIT = "proficit"


def _decimal(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def deficit_threshold() -> Decimal:
    """Scores below this (a percentage) are deficits."""
    return _decimal(iom_settings.DIAGNOSTICS_DEFICIT_BELOW)


def proficit_threshold() -> Decimal:
    """Scores at this (a percentage) or above are proficits."""
    return _decimal(iom_settings.DIAGNOSTICS_PROFICIT_FROM)


def classify(score) -> str | None:
    """``"deficit"``, ``"proficit"`` or None (between the thresholds, or no score)."""
    if score is None:
        return None
    score = _decimal(score)
    if score < deficit_threshold():
        return DEFICIT
    if score >= proficit_threshold():
        return PROFICIT
    return None


def latest_results(profile) -> tuple[DiagnosticResult | None, DiagnosticResult | None]:
    """The teacher's latest diagnostics result and the one before it (either may be None).

    By date, then by the order they were entered; their scores are prefetched.
    """
    results = list(
        DiagnosticResult.objects.filter(teacher=profile)
        .order_by("-date", "-pk")
        .prefetch_related("scores__competency")[:2]
    )
    results += [None] * (2 - len(results))
    return results[0], results[1]


def latest_result_of_each(teacher_ids) -> list[DiagnosticResult]:
    """The latest diagnostics result of each of ``teacher_ids`` that has one (by date, then as
    entered), ordered by teacher. One query per 500 teachers."""
    latest = (
        DiagnosticResult.objects.filter(teacher_id=OuterRef("teacher_id"))
        .order_by("-date", "-pk")
        .values("pk")[:1]
    )
    results = []
    ids = sorted(set(teacher_ids))
    for start in range(0, len(ids), 500):
        results += list(
            DiagnosticResult.objects.filter(teacher_id__in=ids[start : start + 500])
            .filter(pk=Subquery(latest))
            .order_by("teacher_id")
        )
    return results


@dataclass
class HistoryEntry:
    """One diagnostics result of the teacher's history, with the competencies it found at a
    low level (deficits, the weakest first) and at a high level (proficits, the strongest
    first), as (competency, score) pairs."""

    result: DiagnosticResult
    deficits: list[tuple[Competency, Decimal]] = field(default_factory=list)
    proficits: list[tuple[Competency, Decimal]] = field(default_factory=list)


def diagnostic_history(profile, since=None, until=None) -> list[HistoryEntry]:
    """Every diagnostics result of the teacher dated from ``since`` to ``until`` (both
    included; None: no bound), oldest first, each with its own deficits and proficits (the
    thresholds of ``WAGTAIL_IOM``). Two queries (one when there is no result), whatever the
    number of results and scores."""
    results = DiagnosticResult.objects.filter(teacher=profile)
    if since is not None:
        results = results.filter(date__gte=since)
    if until is not None:
        results = results.filter(date__lte=until)
    entries = {result.pk: HistoryEntry(result) for result in results.order_by("date", "pk")}
    if not entries:
        return []
    scores = (
        CompetencyScore.objects.filter(result_id__in=entries)
        .select_related("competency")
        .order_by("score", "competency__code", "pk")
    )
    for score in scores:
        status = classify(score.score)
        entry = entries[score.result_id]
        if status == DEFICIT:
            entry.deficits.append((score.competency, score.score))
        elif status == PROFICIT:
            entry.proficits.insert(0, (score.competency, score.score))
    return list(entries.values())


@dataclass(frozen=True)
class ScorePoint:
    """One competency's score in one diagnostics result."""

    score: Decimal
    date: datetime.date
    result_id: int


@dataclass
class AttendedEvent:
    pk: int
    title: str
    hours: Decimal


@dataclass
class Evidence:
    """What attended events add to one competency."""

    events: list[AttendedEvent] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.events)

    @property
    def hours(self) -> Decimal:
        return sum((event.hours for event in self.events), Decimal(0))

    @property
    def titles(self) -> list[str]:
        return [event.title for event in self.events]


@dataclass
class CompetencyRow:
    """One competency of the profile."""

    competency: Competency
    latest: ScorePoint | None = None
    previous: ScorePoint | None = None
    evidence: Evidence = field(default_factory=Evidence)

    @property
    def group(self):
        return self.competency.group

    @property
    def latest_score(self) -> Decimal | None:
        return self.latest.score if self.latest else None

    @property
    def previous_score(self) -> Decimal | None:
        return self.previous.score if self.previous else None

    @property
    def change(self) -> Decimal | None:
        """Latest minus previous, in percentage points (None without both)."""
        if self.latest is None or self.previous is None:
            return None
        return self.latest.score - self.previous.score

    @property
    def status(self) -> str | None:
        return classify(self.latest_score)

    @property
    def is_deficit(self) -> bool:
        return self.status == DEFICIT

    @property
    def is_proficit(self) -> bool:
        return self.status == PROFICIT


def framework() -> list[Competency]:
    """Every competency, in the framework's order: by group, then within the group (one
    query)."""
    return list(
        Competency.objects.select_related("group").order_by(
            "group__sort_order", "group__name", "group__pk", "sort_order", "name", "pk"
        )
    )


def score_histories(teacher_ids) -> dict[int, dict[int, list[ScorePoint]]]:
    """The two most recent scores of each competency each teacher was scored on, by teacher
    id, then by competency id (one query, whatever the number of teachers)."""
    rows = (
        CompetencyScore.objects.filter(result__teacher_id__in=list(teacher_ids))
        .order_by("result__teacher_id", "-result__date", "-result__pk")
        .values_list("result__teacher_id", "competency_id", "score", "result__date", "result_id")
    )
    histories: dict[int, dict[int, list[ScorePoint]]] = {}
    for teacher_id, competency_id, score, date, result_id in rows:
        points = histories.setdefault(teacher_id, {}).setdefault(competency_id, [])
        if len(points) < 2:
            points.append(ScorePoint(score=score, date=date, result_id=result_id))
    return histories


def attended_hours_by_event(profile) -> dict[int, AttendedEvent]:
    """The events the teacher attended, by id, with the academic hours of the marked sessions.

    An event is attended when at least one session of the teacher's sign-up to it is marked.
    Sessions without academic hours count 0. One query.
    """
    rows = (
        AttendanceMark.objects.filter(registration__user_id=profile.user_id)
        .values("registration__event_id", "registration__event__title")
        .annotate(hours=Sum("session__academic_hours"))
        .order_by("registration__event__title", "registration__event_id")
    )
    return {
        row["registration__event_id"]: AttendedEvent(
            pk=row["registration__event_id"],
            title=row["registration__event__title"],
            hours=row["hours"] if row["hours"] is not None else Decimal(0),
        )
        for row in rows
    }


def _evidence(profile) -> dict[int, Evidence]:
    """Per competency id: the attended events that target it (two queries)."""
    events = attended_hours_by_event(profile)
    evidence: dict[int, Evidence] = {}
    if not events:
        return evidence
    targets = EventPage.competencies.through.objects.filter(
        eventpage_id__in=list(events)
    ).values_list("competency_id", "eventpage_id")
    by_competency: dict[int, set[int]] = {}
    for competency_id, event_id in targets:
        by_competency.setdefault(competency_id, set()).add(event_id)
    for competency_id, event_ids in by_competency.items():
        chosen = sorted((events[pk] for pk in event_ids), key=lambda e: (e.title, e.pk))
        evidence[competency_id] = Evidence(events=chosen)
    return evidence


def competency_profile(profile, *, with_evidence: bool = True) -> list[CompetencyRow]:
    """One row per competency of the framework, grouped by the framework's group order.

    Each row has the latest and previous score (:class:`ScorePoint` or None), the change, the
    deficit / proficit status of the latest score, and (unless ``with_evidence`` is False) the
    evidence from attended events. Four queries at most, whatever the amount of data.
    """
    history = score_histories([profile.pk]).get(profile.pk, {})
    evidence = _evidence(profile) if with_evidence else {}
    return profile_rows(framework(), history, evidence)


def profile_rows(competencies, history, evidence=None) -> list[CompetencyRow]:
    """:func:`competency_profile` from what was read already: ``competencies`` (from
    :func:`framework`), the teacher's ``history`` (from :func:`score_histories`) and the
    evidence by competency id. No query."""
    evidence = evidence or {}
    rows = []
    for competency in competencies:
        points = history.get(competency.pk, [])
        rows.append(
            CompetencyRow(
                competency=competency,
                latest=points[0] if points else None,
                previous=points[1] if len(points) > 1 else None,
                evidence=evidence.get(competency.pk) or Evidence(),
            )
        )
    return rows


def deficits(profile, rows: list[CompetencyRow] | None = None) -> list[CompetencyRow]:
    """The teacher's deficits: competencies whose latest score is below the deficit threshold.

    The weakest first. Each row's ``competency`` is the :class:`~wagtail_iom.models.Competency`,
    e.g. to find events that target it::

        wanted = [row.competency for row in deficits(profile)]
        EventPage.objects.filter(competencies__in=wanted)

    Two queries; none when ``rows`` (from :func:`competency_profile`) are given.
    """
    if rows is None:
        rows = competency_profile(profile, with_evidence=False)
    return sorted((row for row in rows if row.is_deficit), key=lambda row: row.latest_score)


def proficits(profile, rows: list[CompetencyRow] | None = None) -> list[CompetencyRow]:
    """The teacher's proficits: competencies whose latest score reaches the proficit threshold.

    The strongest first. Two queries; none when ``rows`` are given.
    """
    if rows is None:
        rows = competency_profile(profile, with_evidence=False)
    return sorted(
        (row for row in rows if row.is_proficit),
        key=lambda row: row.latest_score,
        reverse=True,
    )
