"""What every admin listing of the package adds to Wagtail's ``IndexView``."""

from wagtail.search.backends.base import OrderByFieldError

from wagtail_iom.core.exports import SafeCSVExportMixin


class SearchOrderingMixin:
    """A search with an ``ordering`` the search index cannot sort by (a column that is not a
    filter field of the index, an annotation, a value typed into the address) is shown by
    relevance instead of failing."""

    def search_queryset(self, queryset):
        try:
            return super().search_queryset(queryset)
        except OrderByFieldError:
            self.__dict__["is_explicitly_ordered"] = False  # a cached_property of IndexView
            return super().search_queryset(queryset.order_by())


class ListingMixin(SafeCSVExportMixin, SearchOrderingMixin):
    """Put it first among the bases of each index view of the package."""
