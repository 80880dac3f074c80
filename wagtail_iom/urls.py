"""The package's front-end URLs. Include them in the project's urls.py before Wagtail's::

path("iom/", include("wagtail_iom.urls")),
"""

from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from .views import accounts

app_name = "wagtail_iom"

ACCOUNTS = "wagtail_iom/accounts/"

urlpatterns = [
    path("accounts/signup/", accounts.signup, name="signup"),
    path("accounts/signup/done/", accounts.signup_done, name="signup_done"),
    path("accounts/confirm/<str:token>/", accounts.confirm_email, name="confirm_email"),
    path("accounts/consent/", accounts.consent, name="consent"),
    path("accounts/login/", accounts.LoginView.as_view(), name="login"),
    path("accounts/logout/", accounts.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password-reset/",
        auth_views.PasswordResetView.as_view(
            template_name=ACCOUNTS + "password_reset_form.html",
            email_template_name=ACCOUNTS + "email/password_reset_email.txt",
            html_email_template_name=ACCOUNTS + "email/password_reset_email.html",
            subject_template_name=ACCOUNTS + "email/password_reset_subject.txt",
            success_url=reverse_lazy("wagtail_iom:password_reset_done"),
        ),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/done/",
        auth_views.PasswordResetDoneView.as_view(
            template_name=ACCOUNTS + "password_reset_done.html"
        ),
        name="password_reset_done",
    ),
    path(
        "accounts/password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(
            template_name=ACCOUNTS + "password_reset_confirm.html",
            success_url=reverse_lazy("wagtail_iom:password_reset_complete"),
        ),
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
