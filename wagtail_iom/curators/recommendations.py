"""The recommendation letter (000 §5.5): once the centre has assigned a curator, the curator
e-mails the teacher the recommendation to build an individual route and the instructions —
how to enter the cabinet, fill in the profile and the professional request, and by when.

The letter is one editable template (:class:`~wagtail_iom.curators.models.RecommendationLetter`)
with placeholders in braces; :func:`fill` puts each teacher's values in, as plain text (the
HTML alternative escapes it), and never reads attributes or runs code: an unknown placeholder
is refused when the template is saved (:func:`unknown_placeholders`).

:func:`send` records each letter (:class:`~wagtail_iom.curators.models.RecommendationSent`)
and starts the Celery task ``wagtail_iom.send_recommendation`` once the transaction commits;
:mod:`wagtail_iom.curators.emails` sends it through :mod:`wagtail_iom.core.mail`.
"""

import datetime
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from wagtail_iom.core import access, mail, placeholders, sites

# The module, not its names: assignments imports the curators' e-mails, which import this.
from wagtail_iom.curators import assignments
from wagtail_iom.curators.models import RecommendationLetter, RecommendationSent
from wagtail_iom.people.models import TeacherProfile

KIND = "recommendation"

#: The placeholders a letter may use, with what each stands for (shown to the editor).
PLACEHOLDERS = {
    "teacher": _("the teacher's full name"),
    "teacher_name": _("the teacher's first name and patronymic, to address them"),
    "curator": _("the full name of the teacher's curator"),
    "curator_email": _("the curator's e-mail address"),
    "cabinet_url": _("the link to the teacher's cabinet"),
    "profile_url": _("the link to the profile form in the cabinet"),
    "request_url": _("the link to the professional request form in the cabinet"),
    "deadline": _("the deadline set below (empty: two weeks after the sending)"),
    "site_name": _("the site's name"),
}

#: The {deadline} of a letter whose template sets no date: this long after the sending.
DEFAULT_DEADLINE = datetime.timedelta(days=14)

#: A second click within this time sends nothing (a double POST, a reloaded page).
REPEAT_WINDOW = datetime.timedelta(minutes=1)

DEFAULT_SUBJECT = "Рекомендация: индивидуальный образовательный маршрут (ИОМ)"

DEFAULT_BODY = """Уважаемый(ая) {teacher_name}!

По результатам оценки профессиональных компетенций Вам рекомендовано методическое \
сопровождение: формирование и прохождение индивидуального образовательного маршрута (ИОМ). \
Вашим куратором (тьютором) назначен(а) {curator}; он(а) поможет составить маршрут и будет \
сопровождать Вас на всех его этапах.

Что нужно сделать до {deadline}:

1. Войдите в личный кабинет на сайте «{site_name}»: {cabinet_url}
   Если Вы ещё не зарегистрированы, зарегистрируйтесь на сайте и дайте согласие на обработку \
персональных данных.
2. Заполните профиль: место работы, должность, преподаваемые предметы, квалификацию, \
профессиональные достижения и повышение квалификации за последние три года: {profile_url}
3. Сформулируйте профессиональный запрос: проблемные зоны и темы, которые Вас интересуют: \
{request_url}

Данные личного кабинета войдут в электронную версию ИОМ. По ним и по результатам диагностики \
куратор вместе с Вами подберёт образовательные мероприятия и внесёт в маршрут рекомендации \
по преодолению профессиональных дефицитов.

Если возникнут вопросы, напишите куратору: {curator_email}

С уважением,
{curator}
"""


def unknown_placeholders(*texts):
    """The placeholders in ``texts`` that :func:`fill` does not know, each once, in order
    ("{teacher.user}" or "{0}" are refused as unknown rather than sent as they stand)."""
    return placeholders.unknown(PLACEHOLDERS, *texts)


def fill(text, values):
    """``text`` with each known placeholder replaced by its value (plain text)."""
    return placeholders.fill(text, values, known=PLACEHOLDERS)


def default_letter():
    """The letter offered until the centre head saves one (not saved)."""
    return RecommendationLetter(subject=DEFAULT_SUBJECT, body=DEFAULT_BODY)


def letter():
    """The saved letter, else the default one."""
    return RecommendationLetter.objects.order_by("pk").first() or default_letter()


def deadline(the_letter, today=None):
    """The date the letter names: the template's, else :data:`DEFAULT_DEADLINE` from today."""
    return the_letter.deadline or (today or timezone.localdate()) + DEFAULT_DEADLINE


def values(teacher, curator, the_letter):
    """What the placeholders stand for in ``teacher``'s letter."""
    base = sites.base_url()
    return {
        "teacher": teacher.full_name,
        "teacher_name": " ".join(p for p in (teacher.first_name, teacher.patronymic) if p)
        or teacher.full_name,
        "curator": (curator.get_full_name() or curator.get_username()) if curator else "",
        "curator_email": curator.email if curator else "",
        "cabinet_url": mail.absolute_url(base, "wagtail_iom:cabinet"),
        "profile_url": mail.absolute_url(base, "wagtail_iom:cabinet_profile"),
        "request_url": mail.absolute_url(base, "wagtail_iom:cabinet_request"),
        "deadline": date_format(deadline(the_letter), "j E Y"),
        "site_name": sites.site_name(),
    }


def rendered(teacher, curator=None, the_letter=None):
    """The letter's subject and text for ``teacher``, as they will be sent."""
    the_letter = the_letter or letter()
    if curator is None:
        curator = assignments.current_curator(teacher)
    filled = values(teacher, curator, the_letter)
    subject = " ".join(fill(the_letter.subject, filled).split())
    return subject, fill(the_letter.body, filled).strip() + "\n"


@dataclass
class SendResult:
    sent: list = field(default_factory=list)
    #: Teachers who withdrew their consent to personal-data processing: nothing is sent.
    consent_withdrawn: list = field(default_factory=list)
    #: Teachers without an e-mail address.
    no_email: list = field(default_factory=list)
    #: Teachers sent the letter a moment ago (a double click): not sent again.
    just_sent: list = field(default_factory=list)

    @property
    def skipped(self):
        return len(self.consent_withdrawn) + len(self.no_email) + len(self.just_sent)


def send(teacher_ids, by_user, language=None) -> SendResult:
    """Record a letter to each teacher and send them once the transaction commits.

    The caller has checked that ``by_user`` may send to these teachers
    (:func:`~wagtail_iom.core.access.teachers_recommendation_sendable_by`). A teacher whose
    consent is withdrawn, who has no e-mail address, or who was sent the letter within
    :data:`REPEAT_WINDOW` is skipped. Sending again later is a deliberate re-send.
    """
    result = SendResult()
    now = timezone.now()
    with transaction.atomic():
        teachers = list(
            TeacherProfile.objects.select_for_update(of=("self",))
            .filter(pk__in=list(teacher_ids))
            .select_related("user")
            .order_by("last_name", "first_name", "patronymic", "pk")
        )
        recent = set(
            RecommendationSent.objects.filter(
                teacher__in=teachers, sent_at__gt=now - REPEAT_WINDOW
            ).values_list("teacher_id", flat=True)
        )
        for teacher in teachers:
            if access.processing_stopped(teacher.user, lock=True):
                result.consent_withdrawn.append(teacher)
                continue
            if not teacher.user.email:
                result.no_email.append(teacher)
                continue
            if teacher.pk in recent:
                result.just_sent.append(teacher)
                continue
            try:
                with transaction.atomic():
                    row = RecommendationSent.objects.create(
                        teacher=teacher,
                        sent_by=by_user,
                        sent_at=now,
                        key=f"{teacher.pk}:{now:%Y%m%d%H%M}",
                    )
            except IntegrityError:
                result.just_sent.append(teacher)
                continue
            mail.enqueue_on_commit("send_recommendation", row.pk, language)
            result.sent.append(row)
    return result
