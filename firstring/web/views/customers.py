"""Customers: search, the profile with every identity and conversation, edit, merge and split."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from firstring.accounts.access import signed_in_user
from firstring.conversations.services import customer_merge, identity_split
from firstring.customers.models import Customer, Identity
from firstring.customers.services import customer_update
from firstring.lib.errors import NotFound
from firstring.web import selectors
from firstring.web.errors import agent_view, is_htmx
from firstring.web.forms import CustomerForm, CustomerSearchForm, MergeForm, SplitForm, form_errors, valid


@require_GET
@agent_view
def customer_list(request: HttpRequest) -> HttpResponse:
    data = valid(CustomerSearchForm(request.GET))
    customers = selectors.customer_search(user=signed_in_user(request), q=data["q"])
    context = {"customers": customers, "q": data["q"]}
    if is_htmx(request):
        return render(request, "web/customers.html#results", context)
    return render(request, "web/customers.html", context)


def _page(request: HttpRequest, customer: Customer, status: int = 200, **forms: Any) -> HttpResponse:
    customer = selectors.customer_with_identities(customer=customer)
    context = {
        "customer": customer,
        "conversations": selectors.customer_conversations_for_user(
            user=signed_in_user(request), customer=customer
        ),
        "profile_form": forms.get("profile_form")
        or CustomerForm(
            initial={
                "name": customer.name,
                "company": customer.company,
                "language": customer.language,
                "notes": customer.notes,
            }
        ),
        "merge_form": forms.get("merge_form") or MergeForm(),
        "split_form": SplitForm(),
        "error": forms.get("error", ""),
    }
    return render(request, "web/customer.html", context, status=status)


@require_http_methods(["GET", "POST"])
@agent_view
def customer_detail(request: HttpRequest, customer_id: int) -> HttpResponse:
    customer = selectors.customer_get_for_user(user=signed_in_user(request), customer_id=customer_id)
    if customer.pk != customer_id:
        # Merged away: its page is the survivor's.
        return redirect("web:customer", customer_id=customer.pk)
    if request.method == "POST":
        form = CustomerForm(request.POST)
        if not form.is_valid():
            return _page(request, customer, 422, profile_form=form, error=form_errors(form))
        customer_update(customer=customer, changes=form.cleaned_data)
        return redirect("web:customer", customer_id=customer.pk)
    return _page(request, customer)


@require_POST
@agent_view
def customer_merge_view(request: HttpRequest, customer_id: int) -> HttpResponse:
    """Fold another customer (by number) into this one."""
    user = signed_in_user(request)
    target = selectors.customer_get_for_user(user=user, customer_id=customer_id)
    form = MergeForm(request.POST)
    if not form.is_valid():
        return _page(request, target, 422, merge_form=form, error=form_errors(form))
    try:
        source = selectors.customer_get_for_user(user=user, customer_id=form.cleaned_data["other"])
    except NotFound:
        return _page(request, target, 404, merge_form=form, error="There is no such customer to merge.")
    survivor = customer_merge(source=source, target=target, actor=user)
    return redirect("web:customer", customer_id=survivor.pk)


@require_POST
@agent_view
def identity_split_view(request: HttpRequest, customer_id: int, identity_id: int) -> HttpResponse:
    user = signed_in_user(request)
    customer = selectors.customer_get_for_user(user=user, customer_id=customer_id)
    identity = Identity.objects.filter(pk=identity_id, customer=customer).first()
    if identity is None:
        raise NotFound(f"identity {identity_id} not found")
    data = valid(SplitForm(request.POST))
    new = identity_split(identity=identity, actor=user, name=data["name"])
    return redirect("web:customer", customer_id=new.pk)
