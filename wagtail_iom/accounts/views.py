"""Teachers' account pages: sign-up, e-mail confirmation, the consent step, login and logout.

Password reset is Django's own views with the package's templates (see ``urls.py``).
"""

from urllib.parse import urlencode

from django.conf import global_settings, settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from wagtail_iom.accounts import emails
from wagtail_iom.accounts import services as service
from wagtail_iom.accounts.forms import ConsentForm, SignupForm, ThrottledAuthenticationForm
from wagtail_iom.conf import iom_settings
from wagtail_iom.core import http, sites

TEMPLATES = "wagtail_iom/accounts/"


def _home():
    return "/"


@sensitive_post_parameters("password1", "password2")
@csrf_protect
@never_cache
@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect(_home())
    form = SignupForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            user = form.save()
        except service.AccountError as error:
            form.add_error("email", error)
        else:
            confirm_url = request.build_absolute_uri(
                reverse("wagtail_iom:confirm_email", args=[service.confirmation_token(user)])
            )
            language, name = get_language(), sites.site_name(sites.site_for_request(request))
            emails.email_confirmation_requested(user, confirm_url, language, name)
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


class LogoutView(auth_views.LogoutView):
    template_name = TEMPLATES + "logged_out.html"
