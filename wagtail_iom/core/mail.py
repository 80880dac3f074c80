"""Every e-mail the package sends goes through this module.

A domain's ``emails.py`` decides who is told what, and when; this module does the rest, the
same way for all of them:

* :func:`render` builds the message from three templates under ``wagtail_iom/emails/``
  (``<name>_subject.txt``, ``<name>.txt`` and ``<name>.html``) in the language given (else
  ``settings.LANGUAGE_CODE``: nothing about a person's language is stored), and always marks it
  ``Auto-Submitted: auto-generated`` (RFC 3834: no out-of-office replies to a robot);
* :func:`send_once` sends it once per occasion: the occasion's key goes into
  :class:`~wagtail_iom.core.models.SentNotification` in the transaction that sends, so a
  repeated or retried task sends nothing twice, and a send that failed leaves no key behind;
* :func:`enqueue_on_commit` starts the Celery task that will send it, with primary keys only,
  once the transaction that caused it commits.

Sites' names and links come from :mod:`wagtail_iom.core.sites`.
"""

import functools
import re

from celery import current_app
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from wagtail_iom.core.models import SentNotification

TEMPLATES = "wagtail_iom/emails/"

# The package's Celery tasks are registered under this prefix (see wagtail_iom/tasks.py).
TASK_PREFIX = "wagtail_iom."

AUTO_SUBMITTED = {"Auto-Submitted": "auto-generated"}


def render(name, context, *, to, language=None, attachments=(), body=None):
    """The e-mail ``name`` to the address ``to``, as plain text with an HTML alternative.

    ``body`` names other body templates than ``name``'s (several subjects, one body).
    ``attachments`` are ``(file name, content, MIME type)``; a callable content is called in
    the e-mail's language, so that an attachment built once serves every recipient.
    """
    body = body or name
    with translation.override(language or settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"{TEMPLATES}{name}_subject.txt", context).split())
        context = {**context, "subject": subject}
        text = render_to_string(f"{TEMPLATES}{body}.txt", context)
        # Optional paragraphs leave blank lines behind: at most one between paragraphs.
        text = re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"
        html = render_to_string(f"{TEMPLATES}{body}.html", context)
        files = [
            (filename, content() if callable(content) else content, mimetype)
            for filename, content, mimetype in attachments
        ]
    return message(subject, text, to=to, html=html, attachments=files)


def message(subject, text, *, to, html=None, attachments=()):
    """An e-mail the package sends, from ready texts: marked ``Auto-Submitted``."""
    email = EmailMultiAlternatives(subject, text, to=[to], headers=dict(AUTO_SUBMITTED))
    if html is not None:
        email.attach_alternative(html, "text/html")
    for filename, content, mimetype in attachments:
        email.attach(filename, content, mimetype)
    return email


def keys_sent(keys) -> set:
    """Those of ``keys`` whose e-mail was sent already (one query), for a task that sends many:
    it then passes ``checked=True`` to :func:`send_once` for the others."""
    keys = list(dict.fromkeys(keys))
    return set(SentNotification.objects.filter(key__in=keys).values_list("key", flat=True))


def send_once(key, kind, user, build, checked=False) -> bool:
    """Insert ``key``, then send ``build()``'s message, in one transaction. True when sent.

    Two workers running the same task at once: the second waits on the unique key and then
    finds it taken. A failed send rolls the key back, so a retry sends the e-mail.
    ``checked``: the caller has just found the key unused (:func:`keys_sent`), so it is not
    looked up first; the unique key still decides.
    """
    if not checked and SentNotification.objects.filter(key=key).exists():
        return False
    with transaction.atomic():
        try:
            with transaction.atomic():
                SentNotification.objects.create(key=key, kind=kind, user=user)
        except IntegrityError:
            return False
        build().send()
    return True


def enqueue(task_name, *args):
    """Start the package's Celery task ``task_name`` now (runs at once when Celery is eager)."""
    current_app.tasks[TASK_PREFIX + task_name].delay(*args)


def enqueue_on_commit(task_name, *args):
    """Start the package's Celery task ``task_name`` once the current transaction commits.

    robust: the change is committed already; a broker that is down must not turn the user's
    successful action into an error page (the failure is logged).
    """
    transaction.on_commit(functools.partial(enqueue, task_name, *args), robust=True)


def absolute_url(base_url, url_name, *args) -> str:
    """``base_url`` and the path of the URL named ``url_name``; empty when the project has not
    included that URL (an e-mail then leaves the link out)."""
    try:
        return base_url + reverse(url_name, args=args)
    except NoReverseMatch:
        return ""
