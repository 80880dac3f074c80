"""Curator assignment: who accompanies which teacher. Municipal methodists propose teachers,
the centre verifies the lists and assigns curators.

The centre head assigns teachers to curators in bulk; a municipal methodist proposes teachers
of the own municipality and the centre verifies the proposal, accepting it (with a curator) or
rejecting it. :class:`~wagtail_iom.models.CuratorAssignment` rows are never deleted: a new
curator or an unassignment *ends* the current row, so the rows are the log of who was assigned
to whom, by whom and when. Each change is also written to Wagtail's log of the teacher's
profile (``wagtail.log_actions``), so that it shows in the profile's history in the admin.

Access follows the assignment rows directly (``access.teacher_scope`` reads them in every
query), so an unassigned curator loses the teacher on the next request.

These functions do not check who calls them (views do, through :mod:`wagtail_iom.core.access`), except
:func:`propose`, whose rule *is* the scope: a methodist proposes only the own municipality's
teachers.
"""

import uuid
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail_iom.core import access
from wagtail_iom.core.access import StaffRole
from wagtail_iom.core.text import name_search
from wagtail_iom.curators import emails
from wagtail_iom.curators.models import (
    CuratorAssignment,
    StaffMembership,
    TeacherProposal,
    TeacherProposalOrigin,
    TeacherProposalStatus,
)
from wagtail_iom.people.models import TeacherProfile

# Log actions (registered with a label and message in curators/admin.py, register_log_actions).
LOG_ASSIGNED = "wagtail_iom.curator_assigned"
LOG_UNASSIGNED = "wagtail_iom.curator_unassigned"
LOG_PROPOSED = "wagtail_iom.teacher_proposed"
LOG_PROPOSAL_ACCEPTED = "wagtail_iom.proposal_accepted"
LOG_PROPOSAL_REJECTED = "wagtail_iom.proposal_rejected"

# Ids are looked up in chunks: "all teachers matching the filter" can be a whole region, more
# than a database accepts as parameters of one query.
CHUNK = 500


class AssignmentError(Exception):
    """An assignment that cannot be made; :attr:`message` says why and what to do."""

    def __init__(self, code, message):
        self.code = code
        self.message = str(message)
        super().__init__(self.message)


@dataclass(frozen=True)
class AssignmentResult:
    assigned: int = 0  # had no curator
    reassigned: int = 0  # moved from another curator
    unchanged: int = 0  # already had this curator

    @property
    def changed(self):
        return self.assigned + self.reassigned


@dataclass(frozen=True)
class UnassignResult:
    unassigned: int = 0
    not_assigned: int = 0  # had no curator: nothing to end


@dataclass
class ProposalResult:
    created: list = field(default_factory=list)  # the new TeacherProposal rows
    refused: list = field(default_factory=list)  # teachers the user may not propose
    already_proposed: list = field(default_factory=list)  # awaiting the centre already


# Reading -------------------------------------------------------------------------------------


def curators():
    """The users who hold the curator role (those a teacher can be assigned to)."""
    return (
        get_user_model()
        .objects.filter(is_active=True, iom_staff_roles__role=StaffRole.CURATOR)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


def is_curator(user) -> bool:
    return bool(
        user
        and user.pk
        and user.is_active
        and StaffMembership.objects.filter(user=user, role=StaffRole.CURATOR).exists()
    )


def person_name(user):
    """How a staff member is named on screens and in the log."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def current_curator(teacher):
    """The teacher's current curator (a user), or None."""
    row = (
        CuratorAssignment.objects.filter(teacher=teacher, ended_at__isnull=True)
        .select_related("curator")
        .first()
    )
    return row.curator if row else None


def current_curators(teacher_ids) -> dict:
    """The current curator (a user) of each of ``teacher_ids`` that has one, by teacher id.
    One query, whatever the number of teachers."""
    rows = CuratorAssignment.objects.filter(
        teacher_id__in=list(teacher_ids), ended_at__isnull=True
    ).select_related("curator")
    return {row.teacher_id: row.curator for row in rows}


def assignment_history(teacher):
    """All the teacher's assignment rows, the newest first, with the people involved."""
    return CuratorAssignment.objects.filter(teacher=teacher).select_related(
        "curator", "assigned_by", "ended_by"
    )


def current_assignments_prefetch(to_attr="current_assignments"):
    """A Prefetch of each teacher's current row with its curator, for listings (one query)."""
    from django.db.models import Prefetch

    return Prefetch(
        "curator_assignments",
        queryset=CuratorAssignment.objects.filter(ended_at__isnull=True).select_related("curator"),
        to_attr=to_attr,
    )


def filter_teachers(
    queryset, *, municipality=None, school=None, has_curator=None, curator=None, search=""
):
    """Narrow a TeacherProfile queryset as the assignment screens' filter form does.

    ``has_curator`` is True (with a current curator), False (without) or None (either).
    ``search``: every word must occur in the last, first or middle name. The search runs in the
    database, and SQLite folds only ASCII letters, so each word is also tried in the usual
    capitalisations of a name (and with "ё" as "е").
    """
    if municipality is not None:
        queryset = queryset.filter(municipality=municipality)
    if school is not None:
        queryset = queryset.filter(school=school)
    current = CuratorAssignment.objects.filter(ended_at__isnull=True)
    if curator is not None:
        queryset = queryset.filter(pk__in=current.filter(curator=curator).values("teacher_id"))
    if has_curator is True:
        queryset = queryset.filter(pk__in=current.values("teacher_id"))
    elif has_curator is False:
        queryset = queryset.exclude(pk__in=current.values("teacher_id"))
    if search:
        queryset = queryset.filter(name_search(search))
    return queryset


# Changing ------------------------------------------------------------------------------------


def _teacher_ids(teachers):
    if isinstance(teachers, QuerySet):
        return list(teachers.order_by().values_list("pk", flat=True).distinct())
    ids = []
    for teacher in teachers:
        ids.append(teacher if isinstance(teacher, int) else teacher.pk)
    return list(dict.fromkeys(ids))


def _chunks(ids):
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _log_teachers(teacher_ids, action, by_user, data_for, timestamp, titles=None):
    """Write one Wagtail log entry per teacher, as ``wagtail.log_actions.log`` would, in bulk.

    ``data_for(teacher_id)`` gives each entry's data. Entries of one change share a uuid, so the
    admin's history groups them as one action.
    """
    from wagtail.log_actions import registry

    log_model = registry.get_log_model_for_model(TeacherProfile)
    if log_model is None or not teacher_ids:
        return
    content_type = ContentType.objects.get_for_model(TeacherProfile, for_concrete_model=False)
    if titles is None:
        titles = {}
        for chunk in _chunks(teacher_ids):
            for profile in TeacherProfile.objects.filter(pk__in=chunk).only(
                "pk", "last_name", "first_name", "patronymic"
            ):
                titles[profile.pk] = profile.full_name
    batch = uuid.uuid4()
    # The package's log model records the teacher each entry is about (core/history.py).
    names_teacher = any(field.name == "teacher" for field in log_model._meta.concrete_fields)
    log_model.objects.bulk_create(
        [
            log_model(
                content_type=content_type,
                object_id=str(teacher_id),
                label=titles.get(teacher_id, str(teacher_id)),
                action=action,
                data=data_for(teacher_id),
                timestamp=timestamp,
                user=by_user if by_user and by_user.pk else None,
                uuid=batch,
                **({"teacher_id": teacher_id} if names_teacher else {}),
            )
            for teacher_id in teacher_ids
        ],
        batch_size=CHUNK,
    )


def _person(user):
    return {"id": user.pk, "title": person_name(user)} if user else None


def _lock_teachers(ids):
    """Lock the teachers' rows so that two assignments of one teacher cannot both insert a
    "current" row (the unique constraint would refuse the second with an error page)."""
    # Always in the order of the ids, so that two bulk changes cannot deadlock each other.
    found = []
    for chunk in _chunks(sorted(ids)):
        found += list(
            TeacherProfile.objects.select_for_update()
            .filter(pk__in=chunk)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    return found


def _current_rows(ids):
    rows = {}
    for chunk in _chunks(ids):
        for row in CuratorAssignment.objects.filter(
            teacher_id__in=chunk, ended_at__isnull=True
        ).select_related("curator"):
            rows[row.teacher_id] = row
    return rows


def _end_rows(rows, by_user, now):
    ids = [row.pk for row in rows]
    for chunk in _chunks(ids):
        CuratorAssignment.objects.filter(pk__in=chunk).update(ended_at=now, ended_by=by_user)


def assign(teachers, curator, by_user) -> AssignmentResult:
    """Assign the teachers (profiles, ids or a queryset) to ``curator``, in one transaction.

    A teacher with another curator is moved: that row is ended and a new one created. A teacher
    who already has this curator keeps the row. Raises :class:`AssignmentError` when
    ``curator`` does not hold the curator role.
    """
    if not is_curator(curator):
        raise AssignmentError(
            "not_a_curator",
            _(
                "%(name)s does not hold the curator role, so teachers cannot be assigned to "
                "them. Give them the role under “Staff roles” first, or choose another curator."
            )
            % {"name": person_name(curator) or "—"},
        )
    ids = _teacher_ids(teachers)
    if not ids:
        return AssignmentResult()
    now = timezone.now()
    with transaction.atomic():
        ids = _lock_teachers(ids)
        current = _current_rows(ids)
        unchanged = [i for i in ids if i in current and current[i].curator_id == curator.pk]
        moved = [current[i] for i in ids if i in current and current[i].curator_id != curator.pk]
        new_ids = [i for i in ids if i not in current or current[i].curator_id != curator.pk]
        _end_rows(moved, by_user, now)
        CuratorAssignment.objects.bulk_create(
            [
                CuratorAssignment(
                    teacher_id=teacher_id, curator=curator, assigned_at=now, assigned_by=by_user
                )
                for teacher_id in new_ids
            ],
            batch_size=CHUNK,
        )
        previous = {row.teacher_id: row.curator for row in moved}
        _log_teachers(
            new_ids,
            LOG_ASSIGNED,
            by_user,
            lambda teacher_id: {
                "curator": _person(curator),
                "previous_curator": _person(previous.get(teacher_id)),
            },
            now,
        )
    return AssignmentResult(
        assigned=len(new_ids) - len(moved), reassigned=len(moved), unchanged=len(unchanged)
    )


def unassign(teachers, by_user) -> UnassignResult:
    """End the teachers' current assignments; the curators lose them on their next request."""
    ids = _teacher_ids(teachers)
    if not ids:
        return UnassignResult()
    now = timezone.now()
    with transaction.atomic():
        ids = _lock_teachers(ids)
        current = _current_rows(ids)
        rows = list(current.values())
        _end_rows(rows, by_user, now)
        _log_teachers(
            [row.teacher_id for row in rows],
            LOG_UNASSIGNED,
            by_user,
            lambda teacher_id: {"curator": _person(current[teacher_id].curator)},
            now,
        )
    return UnassignResult(unassigned=len(rows), not_assigned=len(ids) - len(rows))


# Proposals -----------------------------------------------------------------------------------


def propose(
    teachers, by_user, comment="", origin=TeacherProposalOrigin.METHODIST, language=None
) -> ProposalResult:
    """A municipal methodist proposes teachers for routes, or a school head recommends them
    (``origin``); the centre verifies each proposal.

    Only teachers in the user's scope are proposed: for a methodist
    :func:`~wagtail_iom.core.access.teachers_proposable_by` (the own municipalities), for a
    school head's recommendation :func:`~wagtail_iom.core.access.teachers_recommendable_by`
    (the own schools); the others are refused and listed in the result, as are teachers whose
    earlier proposal still awaits the centre. The methodists of the teachers' municipalities
    are e-mailed about each recommendation once the transaction commits.
    """
    if origin == TeacherProposalOrigin.SCHOOL_HEAD:
        scope = access.teachers_recommendable_by(by_user)
    elif origin == TeacherProposalOrigin.METHODIST:
        scope = access.teachers_proposable_by(by_user)
    else:
        raise ValueError(f"propose() does not make proposals of origin {origin!r}")
    ids = _teacher_ids(teachers)
    result = ProposalResult()
    if not ids:
        return result
    allowed, pending = set(), set()
    for chunk in _chunks(ids):
        allowed |= set(scope.filter(pk__in=chunk).values_list("pk", flat=True))
        pending |= set(
            TeacherProposal.objects.filter(
                teacher_id__in=chunk, status=TeacherProposalStatus.PROPOSED
            ).values_list("teacher_id", flat=True)
        )
    profiles = {}
    for chunk in _chunks(ids):
        profiles.update(TeacherProfile.objects.in_bulk(chunk))
    to_create = []
    for teacher_id in ids:
        profile = profiles.get(teacher_id)
        if profile is None or teacher_id not in allowed:
            result.refused.append(profile if profile is not None else teacher_id)
        elif teacher_id in pending:
            result.already_proposed.append(profile)
        else:
            to_create.append(profile)
    if not to_create:
        return result
    now = timezone.now()
    with transaction.atomic():
        result.created = TeacherProposal.objects.bulk_create(
            [
                TeacherProposal(
                    teacher=profile,
                    proposed_by=by_user,
                    proposed_at=now,
                    comment=comment or "",
                    origin=origin,
                )
                for profile in to_create
            ],
            batch_size=CHUNK,
        )
        _log_teachers(
            [profile.pk for profile in to_create],
            LOG_PROPOSED,
            by_user,
            lambda teacher_id: {"comment": comment or "", "origin": origin},
            now,
            titles={profile.pk: profile.full_name for profile in to_create},
        )
        if origin != TeacherProposalOrigin.METHODIST:
            emails.proposals_created(result.created, language)
    return result


def request_route(teacher, comment="", language=None) -> TeacherProposal:
    """The teacher asks for an individual route: a proposal of origin "teacher's request" in
    the queue of the teacher's municipality, and an e-mail to its methodists on commit.

    Raises :class:`AssignmentError` with the code ``no_municipality`` (the teacher's profile
    names no municipality: nobody would receive the request) or ``already_requested`` (a
    proposal of the teacher still awaits the centre). The teacher's row is locked, so that
    two clicks make one request. Whether the teacher already follows a route is checked by the
    caller (:func:`wagtail_iom.routes.teacher.ask_for_route`), in the same transaction.
    """
    with transaction.atomic():
        teacher = TeacherProfile.objects.select_for_update().get(pk=teacher.pk)
        if teacher.municipality_id is None:
            raise AssignmentError(
                "no_municipality",
                _(
                    "Your profile names no municipality, so nobody would receive the request. "
                    "Choose your school in the profile, then ask again."
                ),
            )
        if TeacherProposal.objects.filter(
            teacher=teacher, status=TeacherProposalStatus.PROPOSED
        ).exists():
            raise AssignmentError(
                "already_requested",
                _(
                    "A request for your route is already waiting for the centre: you do not "
                    "need to ask again. The centre will assign you a curator."
                ),
            )
        now = timezone.now()
        proposal = TeacherProposal.objects.create(
            teacher=teacher,
            proposed_by=teacher.user,
            proposed_at=now,
            comment=(comment or "").strip(),
            origin=TeacherProposalOrigin.TEACHER,
        )
        _log_teachers(
            [teacher.pk],
            LOG_PROPOSED,
            teacher.user,
            lambda teacher_id: {"comment": proposal.comment, "origin": proposal.origin},
            now,
            titles={teacher.pk: teacher.full_name},
        )
        emails.proposals_created([proposal], language)
    return proposal


def _check_pending(proposal):
    if proposal.status != TeacherProposalStatus.PROPOSED:
        raise AssignmentError(
            "already_decided",
            _("This proposal has already been decided (%(status)s); it cannot be decided again.")
            % {"status": proposal.get_status_display()},
        )


def accept_proposal(proposal, curator, by_user) -> AssignmentResult:
    """Verify a proposal: it is accepted and the teacher assigned to ``curator``."""
    with transaction.atomic():
        proposal = TeacherProposal.objects.select_for_update().get(pk=proposal.pk)
        _check_pending(proposal)
        result = assign([proposal.teacher_id], curator, by_user)
        proposal.status = TeacherProposalStatus.ACCEPTED
        proposal.decided_by = by_user
        proposal.decided_at = timezone.now()
        proposal.save(update_fields=["status", "decided_by", "decided_at"])
        _log_teachers(
            [proposal.teacher_id],
            LOG_PROPOSAL_ACCEPTED,
            by_user,
            lambda teacher_id: {"proposal": proposal.pk, "curator": _person(curator)},
            proposal.decided_at,
        )
    return result


def reject_proposal(proposal, by_user, comment=""):
    """Reject a proposal. The reason goes to the teacher's log (the proposal row keeps the
    methodist's own comment), where :func:`rejection_comments` finds it."""
    with transaction.atomic():
        proposal = TeacherProposal.objects.select_for_update().get(pk=proposal.pk)
        _check_pending(proposal)
        proposal.status = TeacherProposalStatus.REJECTED
        proposal.decided_by = by_user
        proposal.decided_at = timezone.now()
        proposal.save(update_fields=["status", "decided_by", "decided_at"])
        _log_teachers(
            [proposal.teacher_id],
            LOG_PROPOSAL_REJECTED,
            by_user,
            lambda teacher_id: {"proposal": proposal.pk, "comment": comment or ""},
            proposal.decided_at,
        )
    return proposal


def rejection_comments(proposals):
    """{proposal id: the centre's reason} for the rejected ones among ``proposals`` (one query)."""
    from wagtail.log_actions import registry

    rejected = [p for p in proposals if p.status == TeacherProposalStatus.REJECTED]
    log_model = registry.get_log_model_for_model(TeacherProfile)
    if not rejected or log_model is None:
        return {}
    wanted = {p.pk for p in rejected}
    entries = log_model.objects.filter(
        content_type=ContentType.objects.get_for_model(TeacherProfile, for_concrete_model=False),
        action=LOG_PROPOSAL_REJECTED,
        object_id__in={str(p.teacher_id) for p in rejected},
    ).only("data")
    comments = {}
    for entry in entries:
        proposal_id = (entry.data or {}).get("proposal")
        if proposal_id in wanted:
            comments[proposal_id] = entry.data.get("comment", "")
    return comments


def approvers_and_methodists(teacher):
    """The active staff roles that receive the teacher's route: the heads of the teacher's
    school and the methodists of the teacher's municipality (their users selected)."""
    scope = Q(pk__in=[])
    if teacher.school_id:
        scope |= Q(role=StaffRole.SCHOOL_HEAD, school_id=teacher.school_id)
    if teacher.municipality_id:
        scope |= Q(role=StaffRole.MUNICIPAL_METHODIST, municipality_id=teacher.municipality_id)
    return StaffMembership.objects.filter(scope, user__is_active=True).select_related("user")
