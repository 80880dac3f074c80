"""Absolute links in answer to a request: at the address the request came to, on its own site."""

import pytest
from django.test import RequestFactory
from wagtail.models import Page, Site

from tests.factories import make_resource_map
from wagtail_iom.core import sites

pytestmark = pytest.mark.django_db


def test_a_page_of_the_requests_site_is_at_the_requests_scheme_host_and_port(resource_map):
    # The default site of a fresh database says localhost:80.
    assert Site.objects.get(is_default_site=True).root_url == "http://localhost"
    request = RequestFactory().get("/", HTTP_HOST="127.0.0.1:8000", secure=True)

    url = sites.page_url_for_request(resource_map, request)

    assert url == "https://127.0.0.1:8000/map/"


def test_a_page_of_another_site_is_at_that_sites_root_url(resource_map):
    other_home = Page.get_first_root_node().add_child(
        instance=Page(title="Другой институт", slug="other")
    )
    Site.objects.create(hostname="other.example.org", port=443, root_page=other_home)
    other_map = make_resource_map(parent=other_home, slug="karta")
    request = RequestFactory().get("/", HTTP_HOST="127.0.0.1:8000")

    assert sites.page_url_for_request(other_map, request) == "https://other.example.org/karta/"
    assert sites.page_url_for_request(resource_map, request) == "http://127.0.0.1:8000/map/"


def test_a_page_without_a_url_has_an_empty_one(db):
    request = RequestFactory().get("/", HTTP_HOST="127.0.0.1:8000")

    assert sites.page_url_for_request(Page.get_first_root_node(), request) == ""
