"""Managers edit the routing rules in the app."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from firstring.accounts.access import require_manager, signed_in_user
from firstring.accounts.models import User
from firstring.lib.errors import NotFound
from firstring.routing.models import RoutingRule
from firstring.routing.services.rules import routing_rule_delete, routing_rule_save
from firstring.web.errors import agent_view
from firstring.web.forms import RoutingRuleForm, valid


def _manager(request: HttpRequest) -> User:
    return require_manager(signed_in_user(request), "only managers edit routing rules")


def _rule(rule_id: int) -> RoutingRule:
    rule = RoutingRule.objects.prefetch_related("skills").select_related("team").filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(f"routing rule {rule_id} not found")
    return rule


@require_http_methods(["GET", "POST"])
@agent_view
def rule_list(request: HttpRequest) -> HttpResponse:
    manager = _manager(request)
    if request.method == "POST":
        form = RoutingRuleForm(request.POST)
        valid(form)
        routing_rule_save(actor=manager, **form.service_fields())
        return redirect("web:routing-rules")
    rules = RoutingRule.objects.select_related("team").prefetch_related("skills").order_by("position", "id")
    return render(request, "web/rules.html", {"rules": rules, "form": RoutingRuleForm()})


@require_http_methods(["GET", "POST"])
@agent_view
def rule_edit(request: HttpRequest, rule_id: int) -> HttpResponse:
    manager = _manager(request)
    rule = _rule(rule_id)
    if request.method == "POST":
        form = RoutingRuleForm(request.POST)
        valid(form)
        routing_rule_save(actor=manager, rule=rule, **form.service_fields())
        return redirect("web:routing-rules")
    return render(request, "web/rule.html", {"rule": rule, "form": RoutingRuleForm.for_rule(rule)})


@require_POST
@agent_view
def rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    routing_rule_delete(actor=_manager(request), rule=_rule(rule_id))
    return redirect("web:routing-rules")
