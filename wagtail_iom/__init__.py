"""wagtail-iom: individual educational routes (ИОМ) for teachers on a Wagtail site."""

__version__ = "0.1.0.dev0"
