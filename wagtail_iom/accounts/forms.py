"""Forms of teachers' accounts: sign-up, the consent, a login that says when django-axes has
locked it out, password reset and resending the confirmation link."""

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.forms import PasswordResetForm as DjangoPasswordResetForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from wagtail_iom.accounts import emails, lockout
from wagtail_iom.accounts import services as service


def _attrs(autocomplete, **extra):
    return {"autocomplete": autocomplete, **extra}


class SignupForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=150,
        help_text=_("You will sign in with it; we will send a confirmation link there."),
        widget=forms.EmailInput(attrs=_attrs("email")),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=150,
        widget=forms.TextInput(attrs=_attrs("family-name")),
    )
    first_name = forms.CharField(
        label=_("First name"),
        max_length=150,
        widget=forms.TextInput(attrs=_attrs("given-name")),
    )
    patronymic = forms.CharField(
        label=_("Patronymic"),
        max_length=150,
        required=False,
        help_text=_("Leave empty if you have none."),
        widget=forms.TextInput(attrs=_attrs("additional-name")),
    )
    password1 = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs=_attrs("new-password")),
        help_text=password_validation.password_validators_help_text_html(),
    )
    password2 = forms.CharField(
        label=_("Password again"),
        strip=False,
        widget=forms.PasswordInput(attrs=_attrs("new-password")),
    )

    def clean_email(self):
        email = service.normalize_email(self.cleaned_data["email"])
        if service.email_taken(email):
            # An expired, never-confirmed sign-up does not block the address.
            User = get_user_model()
            user = User.objects.filter(username__iexact=email).first()
            if not (user and service.is_expired_unconfirmed(user)):
                raise service.duplicate_email_error()
        return email

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error(
                "password2",
                ValidationError(
                    _("The two passwords differ. Type the same password twice."),
                    code="password_mismatch",
                ),
            )
        elif password1:
            candidate = get_user_model()(
                username=cleaned.get("email") or "",
                email=cleaned.get("email") or "",
                first_name=cleaned.get("first_name") or "",
                last_name=cleaned.get("last_name") or "",
            )
            try:
                password_validation.validate_password(password1, candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned

    def counts_for_rate_limit(self) -> bool:
        """Valid, or refused only because the address is taken: a sign-up the rate limit
        counts (the second kind would otherwise let anyone test addresses without limit)."""
        if self.is_valid():
            return True
        return set(self.errors) == {"email"} and self.has_error("email", "duplicate_email")

    def retyped(self):
        """A fresh form with what was typed, passwords left out, and no verdict on it."""
        keep = ("email", "last_name", "first_name", "patronymic")
        return type(self)(initial={name: self.data.get(name, "") for name in keep})

    def save(self):
        data = self.cleaned_data
        return service.register_teacher(
            data["email"],
            data["password1"],
            last_name=data["last_name"],
            first_name=data["first_name"],
            patronymic=data["patronymic"],
        )


class ConsentForm(forms.Form):
    agree = forms.BooleanField(
        label=_(
            "I have read the text above and give my consent to the processing of my personal "
            "data on these terms."
        ),
        error_messages={
            "required": _(
                "Tick the box to give your consent: without it we cannot create your profile."
            )
        },
    )


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form, in the package's words. Failed sign-ins are counted by django-axes
    (its backend refuses, without trying the password, while a lockout holds); the form then
    says how long to wait instead of "wrong password"."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "The e-mail or password is wrong. Check them and try again; note that the "
            "password is case-sensitive."
        ),
        "unconfirmed": _(
            "Your e-mail address is not confirmed yet. Follow the link in the e-mail we sent "
            "you, then sign in."
        ),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("E-mail")
        self.fields["username"].widget.attrs["autocomplete"] = "username"
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"

    def clean_username(self):
        username = (self.cleaned_data.get("username") or "").strip()
        # Teachers' usernames are their e-mails in lower case; staff usernames are left as typed.
        return username.lower() if "@" in username else username

    def clean(self):
        username = self.cleaned_data.get("username")
        try:
            return super().clean()
        except ValidationError:
            if lockout.is_locked_out(self.request):
                raise ValidationError(lockout.message(self.request), code="locked_out") from None
            if username and self._unconfirmed(username, self.cleaned_data.get("password")):
                raise ValidationError(
                    self.error_messages["unconfirmed"], code="unconfirmed"
                ) from None
            raise

    @staticmethod
    def _unconfirmed(username, password):
        """The right password for an account still waiting for its e-mail confirmation."""
        if not password:
            return False
        user = get_user_model().objects.filter(username=username, is_active=False).first()
        return bool(user and service.awaiting_confirmation(user) and user.check_password(password))


class ResendConfirmationForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=150,
        help_text=_("The address you signed up with."),
        widget=forms.EmailInput(attrs=_attrs("email")),
    )

    def clean_email(self):
        return service.normalize_email(self.cleaned_data["email"])


class PasswordResetForm(DjangoPasswordResetForm):
    """Django's password reset form; its e-mail goes out like every e-mail of the package."""

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        to_email = args[1] if len(args) > 1 else kwargs["to_email"]
        emails.send_password_reset(context, to_email)
