"""The demo site's page tree and its administrator."""

from django.contrib.auth import get_user_model
from wagtail.coreutils import get_supported_content_language_variant
from wagtail.models import Locale, Page, Site

from sandbox.home.models import HomePage

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "iom-demo-2026"  # noqa: S105 - a published demo login, printed on the console

HOME_TITLE = "Индивидуальные образовательные маршруты педагогов"
HOME_LEAD = (
    "Региональный центр непрерывного повышения профессионального мастерства педагогических "
    "работников помогает каждому учителю выявить профессиональные дефициты и пройти "
    "индивидуальный образовательный маршрут: курсы, семинары, стажировки, наставничество "
    "и самообразование."
)
HOME_BODY = (
    "<p>Маршрут строится вместе с тьютором центра по результатам диагностики и включает "
    "мероприятия формального, неформального и информального образования на личностном, "
    "школьном, муниципальном, региональном и федеральном уровнях.</p>"
)


# Where `make demo` and `manage.py runserver` serve the demo.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
# runserver's "listen everywhere" addresses: links are made for this machine's own browser.
ANY_ADDRESS = ("0", "0.0.0.0", "::", "[::]")  # noqa: S104 - compared with, never bound


def site_hostname(host: str) -> str:
    """The Wagtail site's host name for a demo served at ``host``."""
    return "localhost" if host in ANY_ADDRESS else host


def build_site(host=DEFAULT_HOST, port=DEFAULT_PORT) -> HomePage:
    """Make a HomePage the root of the default site, replacing Wagtail's welcome page; the site
    is at ``host`` and ``port``, where the demo is served, so that links made outside a request
    (e-mails, feeds' UIDs) lead there."""
    # Wagtail's migrations create the locale and the root page; a flushed database has neither.
    Locale.objects.get_or_create(language_code=get_supported_content_language_variant("ru"))
    root = Page.get_first_root_node() or Page.add_root(instance=Page(title="Root", slug="root"))
    home = HomePage.objects.first()
    if home is None:
        welcome = (
            Page.objects.filter(depth=2, slug="home")
            .exclude(content_type__model="homepage")
            .first()
        )
        if welcome is not None:
            welcome.slug = "welcome-old"
            welcome.save_revision().publish()
        home = root.add_child(instance=HomePage(title=HOME_TITLE, slug="home"))
        if welcome is not None:
            Site.objects.filter(root_page=welcome).update(root_page=home)
            welcome.delete()
    home.title = HOME_TITLE
    home.lead = HOME_LEAD
    home.body = HOME_BODY
    home.save_revision().publish()
    site = Site.objects.filter(is_default_site=True).first() or Site(is_default_site=True)
    site.hostname = site_hostname(host)
    site.port = port
    site.root_page = home
    site.site_name = "ЦНППМ"
    site.save()
    return home


def build_admin():
    """The demo administrator; the password is reset to the published one on every run."""
    user_model = get_user_model()
    user, _created = user_model.objects.get_or_create(
        username=ADMIN_USERNAME,
        defaults={
            "email": "admin@example.org",
            "first_name": "Ирина",
            "last_name": "Соколова",
        },
    )
    user.is_staff = True
    user.is_superuser = True
    user.is_active = True
    user.set_password(ADMIN_PASSWORD)
    user.save()
    return user
