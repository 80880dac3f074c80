"""Template tags for links to the calendar feeds: ``{% load wagtail_iom_feeds %}``.

<a href="{% webcal_url feed_https_url %}">Subscribe</a>
"""

from django import template

from wagtail_iom.events.calendar import webcal

register = template.Library()


@register.simple_tag
def webcal_url(http_url):
    """``http(s)://…`` → ``webcal://…``, the address that opens a subscription in calendar apps."""
    return webcal(http_url)
