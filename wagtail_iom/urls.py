"""The package's front-end URLs. Include them in the project's urls.py before Wagtail's::

path("iom/", include("wagtail_iom.urls")),
"""

from django.contrib.auth import views as auth_views
from django.urls import path

from wagtail_iom.accounts import views as accounts
from wagtail_iom.attendance import views as cabinet_attendance
from wagtail_iom.cabinet import views as cabinet
from wagtail_iom.diagnostics import views as cabinet_competencies
from wagtail_iom.people import views as cabinet_profile
from wagtail_iom.privacy import views as privacy
from wagtail_iom.routes import views as cabinet_routes

app_name = "wagtail_iom"

ACCOUNTS = "wagtail_iom/accounts/"

urlpatterns = [
    # The teacher's cabinet.
    path("cabinet/", cabinet.dashboard, name="cabinet"),
    path("cabinet/profile/", cabinet_profile.profile_edit, name="cabinet_profile"),
    path("cabinet/request/", cabinet_profile.request_edit, name="cabinet_request"),
    path(
        "cabinet/competencies/",
        cabinet_competencies.competency_profile,
        name="cabinet_competencies",
    ),
    path("cabinet/registrations/", cabinet.registrations, name="cabinet_registrations"),
    path(
        "cabinet/registrations/<iom_id:pk>/cancel/",
        cabinet.cancel_registration,
        name="cancel_registration",
    ),
    path("cabinet/attended/", cabinet_attendance.attended_events, name="cabinet_attended"),
    path(
        "cabinet/attended/<iom_id:registration_id>/certificate/",
        cabinet_attendance.certificate,
        name="certificate",
    ),
    path("cabinet/portfolio/", cabinet.portfolio, name="cabinet_portfolio"),
    path("cabinet/portfolio/pdf/", cabinet.portfolio_pdf, name="cabinet_portfolio_pdf"),
    path("cabinet/calendar/", cabinet.calendar_settings, name="cabinet_calendar"),
    path("cabinet/my-data/", privacy.my_data, name="cabinet_my_data"),
    path(
        "cabinet/my-data/withdraw/",
        privacy.withdraw_consent,
        name="cabinet_withdraw_consent",
    ),
    path(
        "cabinet/my-data/withdraw/cancel/",
        privacy.cancel_withdrawal,
        name="cabinet_cancel_withdrawal",
    ),
    path(
        "cabinet/my-data/<str:token>/",
        privacy.download,
        name="cabinet_my_data_download",
    ),
    path("calendar/<str:token>/", cabinet.personal_feed, name="personal_feed"),
    path("events/<iom_id:event_id>/signup/", cabinet.signup_for_event, name="event_signup"),
    # The teacher's routes.
    path("cabinet/routes/", cabinet_routes.route_list, name="cabinet_routes"),
    path("cabinet/routes/request/", cabinet_routes.ask_for_route, name="cabinet_route_request"),
    path("cabinet/routes/<iom_id:pk>/", cabinet_routes.route_detail, name="cabinet_route"),
    path(
        "cabinet/routes/<iom_id:pk>/steps/<str:step_id>/choose/",
        cabinet_routes.choose_option,
        name="cabinet_route_choose",
    ),
    path(
        "cabinet/routes/<iom_id:pk>/steps/<str:step_id>/done/",
        cabinet_routes.mark_step_done,
        name="cabinet_route_step_done",
    ),
    path(
        "cabinet/routes/<iom_id:pk>/reflection/",
        cabinet_routes.reflection,
        name="cabinet_route_reflection",
    ),
    path(
        "cabinet/routes/<iom_id:pk>/correction/",
        cabinet_routes.request_correction,
        name="cabinet_route_correction",
    ),
    path(
        "cabinet/routes/<iom_id:pk>/print/<slug:layout>.<str:fmt>",
        cabinet_routes.cabinet_print,
        name="cabinet_route_print",
    ),
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/signup/done/", accounts.signup_done, name="signup_done"),
    path("accounts/confirm/<str:token>/", accounts.confirm_email, name="confirm_email"),
    path(
        "accounts/resend-confirmation/",
        accounts.resend_confirmation,
        name="resend_confirmation",
    ),
    path(
        "accounts/resend-confirmation/done/",
        accounts.resend_confirmation_done,
        name="resend_confirmation_done",
    ),
    path("accounts/consent/", accounts.consent, name="consent"),
    path("accounts/invitation/<str:token>/", accounts.accept_invitation, name="accept_invitation"),
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/logout/", accounts.LogoutView.as_view(), name="logout"),
    path("accounts/password-reset/", accounts.PasswordResetView.as_view(), name="password_reset"),
    path(
        "accounts/password-reset/done/",
        auth_views.PasswordResetDoneView.as_view(
            template_name=ACCOUNTS + "password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "accounts/password-reset/<uidb64>/<token>/",
        accounts.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password-reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(
            template_name=ACCOUNTS + "password_reset_complete.html"
        ),
        name="password_reset_complete",
    ),
]
