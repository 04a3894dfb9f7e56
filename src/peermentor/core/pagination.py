from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest

PAGE_SIZE = 50


def paginate(request: HttpRequest, queryset: QuerySet, per_page: int = PAGE_SIZE) -> Page:
    """One page of a list; a bad page number shows the nearest page instead of an error."""
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))
