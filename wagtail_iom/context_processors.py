"""Template context the package's front-end templates read.

Add ``"wagtail_iom.context_processors.iom"`` to the project's context processors so that the
package's pages extend the institute's own layout (``WAGTAIL_IOM["BASE_TEMPLATE"]``); without it
they fall back to the package's minimal layout.
"""

from wagtail_iom.conf import iom_settings


def iom(request):
    return {
        "wagtail_iom_base_template": iom_settings.BASE_TEMPLATE,
        "wagtail_iom_include_stylesheet": iom_settings.INCLUDE_STYLESHEET,
    }
