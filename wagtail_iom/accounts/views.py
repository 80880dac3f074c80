"""Teachers' account pages: sign-up, e-mail confirmation and its resending, the consent step,
login and logout, password reset (Django's views with the package's templates and rate limit),
and the lockout page django-axes shows on every sign-in page of the site (:func:`lockout`).
"""

from urllib.parse import urlencode

from django.conf import global_settings, settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import NON_FIELD_ERRORS
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse, reverse_lazy
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from wagtail_iom.accounts import emails, ratelimit
from wagtail_iom.accounts import lockout as lockouts
from wagtail_iom.accounts import services as service
from wagtail_iom.accounts.forms import (
    ConsentForm,
    PasswordResetForm,
    ResendConfirmationForm,
    SignupForm,
    ThrottledAuthenticationForm,
)
from wagtail_iom.conf import iom_settings
from wagtail_iom.core import http, sites

TEMPLATES = "wagtail_iom/accounts/"
TOO_MANY_REQUESTS = 429


def _home():
    return "/"


def _rate_limited(request, action, email):
    """Count the request for ``action``; the seconds to wait when it is over a limit, else 0."""
    return ratelimit.hit(action, service.client_ip(request), email)


def _too_many(request, template, form, seconds):
    """The page again, with only the rate limit's message: nothing created, nothing sent, and
    nothing said about the address (whether it has an account, whether it is taken)."""
    response = TemplateResponse(
        request,
        template,
        {"form": form, "alert_message": ratelimit.message(seconds)},
        status=TOO_MANY_REQUESTS,
    )
    response["Retry-After"] = str(seconds)
    return response


def _send_confirmation(request, user):
    confirm_url = request.build_absolute_uri(
        reverse("wagtail_iom:confirm_email", args=[service.confirmation_token(user)])
    )
    language, name = get_language(), sites.site_name(sites.site_for_request(request))
    emails.email_confirmation_requested(user, confirm_url, language, name)


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect(_home())
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.counts_for_rate_limit():
        # Counted: each sign-up that would go ahead or finds its address taken; not the ones
        # sent back for a mistyped field.
        email = service.normalize_email(form.data.get("email"))
        seconds = _rate_limited(request, ratelimit.SIGNUP, email)
        if seconds:
            return _too_many(request, TEMPLATES + "signup.html", form.retyped(), seconds)
    if request.method == "POST" and form.is_valid():
        try:
            user = form.save()
        except service.AccountError as error:
            form.add_error("email", error)
        else:
            _send_confirmation(request, user)
            return redirect("wagtail_iom:signup_done")
    return TemplateResponse(request, TEMPLATES + "signup.html", {"form": form})


def signup_done(request):
    return TemplateResponse(
        request,
        TEMPLATES + "signup_done.html",
        {"valid_days": iom_settings.EMAIL_CONFIRMATION_DAYS},
    )


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def confirm_email(request, token):
    """GET shows a button, POST confirms: mail scanners that open links change nothing."""
    if request.method == "POST":
        try:
            service.confirm_email(token)
        except service.AccountError as error:
            return TemplateResponse(
                request,
                TEMPLATES + "confirm_email.html",
                {"error": error.messages[0], "code": error.code},
                status=400,
            )
        return TemplateResponse(request, TEMPLATES + "confirm_email_done.html")
    return TemplateResponse(request, TEMPLATES + "confirm_email.html", {"token": token})


@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def resend_confirmation(request):
    """A new confirmation link for an account that still waits for it. The answer is the same
    whether or not the address has such an account."""
    form = ResendConfirmationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"]
        seconds = _rate_limited(request, ratelimit.RESEND_CONFIRMATION, email)
        if seconds:
            return _too_many(request, TEMPLATES + "resend_confirmation.html", form, seconds)
        user = service.resend_confirmation(email)
        if user is not None:
            _send_confirmation(request, user)
        return redirect("wagtail_iom:resend_confirmation_done")
    return TemplateResponse(request, TEMPLATES + "resend_confirmation.html", {"form": form})


def resend_confirmation_done(request):
    return TemplateResponse(
        request,
        TEMPLATES + "resend_confirmation_done.html",
        {"valid_days": iom_settings.EMAIL_CONFIRMATION_DAYS},
    )


def consent_text(request):
    """The consent text as the user sees it now (their language, this site's name)."""
    # Rendered from the package's template with escaped values: safe to show as HTML.
    return mark_safe(  # noqa: S308
        render_to_string(
            TEMPLATES + "consent_text.html",
            {
                "site_name": sites.site_name(sites.site_for_request(request)),
                "consent_version": iom_settings.CONSENT_VERSION,
            },
        ).strip()
    )


@login_required
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def consent(request):
    next_url = http.next_url(request, _home())
    if not service.needs_consent(request.user):
        return redirect(next_url)
    text = consent_text(request)
    form = ConsentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        service.record_consent(
            request.user,
            version=iom_settings.CONSENT_VERSION,
            text=text,
            ip=service.client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        return redirect(next_url)
    return TemplateResponse(
        request,
        TEMPLATES + "consent.html",
        {
            "form": form,
            "consent_text": text,
            "consent_version": iom_settings.CONSENT_VERSION,
            "next": next_url,
        },
    )


@method_decorator(require_http_methods(["GET", "POST"]), name="dispatch")
class LoginView(auth_views.LoginView):
    template_name = TEMPLATES + "login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = True

    def get_default_redirect_url(self):
        # Django's own default (/accounts/profile/) is not a page of an institute's site.
        if self.next_page or settings.LOGIN_REDIRECT_URL != global_settings.LOGIN_REDIRECT_URL:
            return super().get_default_redirect_url()
        return _home()

    def get_success_url(self):
        url = super().get_success_url()
        if service.needs_consent(self.request.user):
            return reverse("wagtail_iom:consent") + "?" + urlencode({"next": url})
        return url

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.has_error(NON_FIELD_ERRORS, "locked_out"):
            # The form says how long to wait; axes' middleware must not replace the page.
            lockouts.mark_answered(self.request)
            seconds = lockouts.seconds_left(self.request)
            response.status_code = TOO_MANY_REQUESTS
            if seconds:
                response["Retry-After"] = str(seconds)
        return response


class LogoutView(auth_views.LogoutView):
    template_name = TEMPLATES + "logged_out.html"


class PasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, rate-limited per IP address and per e-mail address. Over the
    limit nothing is sent, and the page says the same whether or not the address has an
    account."""

    template_name = TEMPLATES + "password_reset_form.html"
    form_class = PasswordResetForm
    success_url = reverse_lazy("wagtail_iom:password_reset_done")

    def form_valid(self, form):
        seconds = _rate_limited(self.request, ratelimit.PASSWORD_RESET, form.cleaned_data["email"])
        if seconds:
            return _too_many(self.request, self.template_name, form, seconds)
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's view behind the e-mailed link. A new password set through it also lifts the
    sign-in lockouts of the account's name: its owner has proved the mailbox is theirs."""

    template_name = TEMPLATES + "password_reset_confirm.html"
    success_url = reverse_lazy("wagtail_iom:password_reset_complete")

    def form_valid(self, form):
        response = super().form_valid(form)
        lockouts.unlock(form.user)
        return response


# The lockout page -------------------------------------------------------------------------


def lockout(request, *args):
    """The page django-axes answers a refused sign-in with (``AXES_LOCKOUT_CALLABLE``), on every
    sign-in page of the site: HTTP 429 with ``Retry-After``, never cached, saying how long to
    wait in the visitor's language.

    Wagtail's admin login gets its own page with the message above the form; Django's admin
    login and any other, a page in the package's layout. The package's login page says it in
    its form (``LoginView.form_invalid``) and reaches this only if a project changed it.

    axes 8.1 and later pass ``(request, original_response, credentials)``, earlier versions
    ``(request, credentials)``: the credentials are the last argument either way.
    """
    credentials = args[-1] if args and isinstance(args[-1], dict) else None
    message = lockouts.message(request, credentials)
    seconds = lockouts.seconds_left(request, credentials)
    username = (request.POST.get("username") or "")[:254] if request.method == "POST" else ""
    view_name = getattr(getattr(request, "resolver_match", None), "view_name", "")
    if view_name == "wagtailadmin_login":
        response = _wagtail_admin_lockout(request, username, message)
    elif view_name == "wagtail_iom:login":
        form = ThrottledAuthenticationForm(request, initial={"username": username})
        response = render(
            request,
            TEMPLATES + "login.html",
            {
                "form": form,
                "alert_message": message,
                "redirect_field_name": "next",
                "next": http.next_url(request, ""),
            },
        )
    else:
        response = render(
            request,
            TEMPLATES + "locked_out.html",
            {"lockout_message": message, "retry_url": request.get_full_path()},
        )
    response.status_code = getattr(settings, "AXES_HTTP_RESPONSE_CODE", TOO_MANY_REQUESTS)
    if seconds:
        response["Retry-After"] = str(seconds)
    add_never_cache_headers(response)
    return response


def _wagtail_admin_lockout(request, username, message):
    from django.contrib.auth import get_user_model
    from wagtail.admin.views.account import get_user_login_form, password_reset_enabled

    User = get_user_model()
    return render(
        request,
        "wagtail_iom/admin/login_locked.html",
        {
            "form": get_user_login_form()(request, initial={"username": username}),
            "lockout_message": message,
            "next": http.next_url(request, ""),
            "show_password_reset": password_reset_enabled(),
            "username_field": User._meta.get_field(User.USERNAME_FIELD).verbose_name,
        },
    )


@sensitive_post_parameters("new_password1", "new_password2")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def accept_invitation(request, token):
    """An invited teacher sets a password, which activates the account; then signs in."""
    try:
        user = service.invited_user(token)
    except service.AccountError as error:
        return TemplateResponse(
            request,
            TEMPLATES + "accept_invitation.html",
            {"error": error.messages[0], "code": error.code},
            status=400,
        )
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        service.accept_invitation(user, form.cleaned_data["new_password1"])
        return redirect("wagtail_iom:login")
    return TemplateResponse(request, TEMPLATES + "accept_invitation.html", {"form": form})
