"""The site's base URL and name, for links and texts built outside a request (e-mails, feeds,
certificates), and absolute links built in answer to one. Every part of the package asks these
functions; none reads ``WAGTAILADMIN_BASE_URL`` or ``WAGTAIL_SITE_NAME`` itself.
"""

from django.conf import settings
from wagtail.admin.utils import get_admin_base_url
from wagtail.models import Site


def default_site():
    """The Wagtail site marked as default, or None."""
    return Site.objects.filter(is_default_site=True).first()


def base_url(site=None) -> str:
    """``site``'s root URL (the default site's when None), without a trailing slash; with no
    site at all, ``WAGTAILADMIN_BASE_URL``, else ``http://localhost``."""
    site = site or default_site()
    if site is not None:
        return site.root_url.rstrip("/")
    return (getattr(settings, "WAGTAILADMIN_BASE_URL", "") or "http://localhost").rstrip("/")


def site_name(site=None) -> str:
    """``site``'s name (the default site's when None), else ``WAGTAIL_SITE_NAME``."""
    site = site or default_site()
    return (site.site_name if site else "") or getattr(settings, "WAGTAIL_SITE_NAME", "")


def site_for_request(request):
    """The Wagtail site that serves ``request``, or None."""
    return Site.find_for_request(request)


def page_url_for_request(page, request) -> str:
    """``page``'s absolute URL, for a link in the answer to ``request``; "" when the page has
    no URL.

    A page of the site that serves the request is at the scheme, host and port the request came
    to, so that the link works wherever the site is reached: Wagtail's ``get_full_url`` would
    give the Wagtail site's host and port, which may not be those served (the demo, served at
    ``127.0.0.1:8000`` while its site says ``localhost:80``). A page of another site is at that
    site's root URL.
    """
    url = page.get_url(request)  # relative on the request's own site
    if not url:
        return ""
    return request.build_absolute_uri(url)


def admin_base_url() -> str:
    """Where the Wagtail admin is served, for links in e-mails to staff:
    ``WAGTAILADMIN_BASE_URL``, else the default site's root URL."""
    return (get_admin_base_url() or base_url()).rstrip("/")
