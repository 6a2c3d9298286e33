"""The inbox: a list of conversations by view, filters and sort, refreshed in place by HTMX."""

from __future__ import annotations

from django.db.models import prefetch_related_objects
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from firstring.accounts.models import User
from firstring.conversations.selectors import VIEWS, inbox_counts, inbox_page
from firstring.web.errors import agent_view, is_htmx
from firstring.web.forms import InboxForm
from firstring.web.selectors import filter_choices

PAGE_SIZE = 50


@require_GET
@agent_view
def inbox(request: HttpRequest) -> HttpResponse:
    user = request.user
    assert isinstance(user, User)
    form = InboxForm(request.GET)
    filters = form.to_filter()
    cursor = form.cleaned_data["cursor"] or None
    rows, next_cursor = inbox_page(user=user, filters=filters, cursor=cursor, limit=PAGE_SIZE)
    # Customers without a name show an identity instead: fetch those in one query, not one per row (and
    # none for customers the row shows by name).
    prefetch_related_objects([c.customer for c in rows if not c.customer.name], "identities")
    context = {
        "form": form,
        "filters": filters,
        "rows": rows,
        "next_cursor": next_cursor,
    }
    if cursor and is_htmx(request):
        # "Load more": only the next rows and the next button.
        return render(request, "web/inbox.html#rows", context)
    counts = inbox_counts(user=user)
    context["views"] = [(key, label, counts[key]) for key, label in VIEWS.items()]
    if is_htmx(request):
        context["oob"] = True
        return render(request, "web/inbox.html#list", context)
    context["choices"] = filter_choices(user=user)
    return render(request, "web/inbox.html", context)
