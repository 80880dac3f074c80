"""Reports → Withdrawals of consent: the open withdrawals, for the head of the centre, who may
bring one forward ("run now": it becomes due at once, and the depersonalisation task is
started on commit), and the depersonalisations carried out, with their counts."""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from wagtail.admin.menu import MenuItem

from wagtail_iom.core import mail
from wagtail_iom.core.http import forbidden
from wagtail_iom.people import access_log
from wagtail_iom.privacy import withdrawal as service
from wagtail_iom.privacy.models import AnonymisationRecord

#: How many of the latest depersonalisations the screen lists.
RECORDS_SHOWN = 50

URL_NAMESPACE = "wagtail_iom_withdrawals"
MENU_LABEL = gettext_lazy("Withdrawals of consent")


def can_manage_withdrawals(user) -> bool:
    """The head of the centre (and superusers), who read the access log, see the withdrawals."""
    return access_log.can_read_access_log(user)


def _refused(request):
    return forbidden(request, _("Only the head of the centre sees the withdrawals of consent."))


@require_GET
def index(request):
    if not can_manage_withdrawals(request.user):
        return _refused(request)
    return TemplateResponse(
        request,
        "wagtail_iom/admin/withdrawals/index.html",
        {
            "withdrawals": service.pending().order_by("anonymise_after", "pk"),
            "records": AnonymisationRecord.objects.select_related("carried_out_by")[:RECORDS_SHOWN],
        },
    )


@require_POST
def run_now(request, pk):
    if not can_manage_withdrawals(request.user):
        return _refused(request)
    withdrawal = get_object_or_404(service.pending(), pk=pk)
    with transaction.atomic():
        service.bring_forward(withdrawal)
        mail.enqueue_on_commit("anonymise_withdrawal", withdrawal.pk, request.user.pk)
    messages.success(
        request,
        _(
            "The withdrawal is due now: its data are being depersonalised without waiting for "
            "the remaining days."
        ),
    )
    return redirect(f"{URL_NAMESPACE}:index")


def urlpatterns():
    return [
        path("", index, name="index"),
        path("<iom_id:pk>/run-now/", run_now, name="run_now"),
    ]


class WithdrawalsMenuItem(MenuItem):
    def is_shown(self, request):
        return can_manage_withdrawals(request.user)


def withdrawals_menu_item():
    """*Reports → Withdrawals of consent*, shown to the head of the centre."""
    return WithdrawalsMenuItem(
        MENU_LABEL,
        reverse(f"{URL_NAMESPACE}:index"),
        name="iom-consent-withdrawals",
        icon_name="warning",
        order=910,
    )
