from django.urls import path

from firstring.web.views import (
    community,
    conversation,
    customers,
    escalations,
    inbox,
    insights,
    knowledge,
    phone,
    routing,
    rules,
    sla,
    supervisor,
)

app_name = "web"

urlpatterns = [
    path("", inbox.inbox, name="inbox"),
    path("conversations/<int:conversation_id>/", conversation.conversation_detail, name="conversation"),
    path(
        "conversations/<int:conversation_id>/timeline/",
        conversation.conversation_timeline,
        name="conversation-timeline",
    ),
    path("conversations/<int:conversation_id>/reply/", conversation.reply, name="conversation-reply"),
    path("conversations/<int:conversation_id>/note/", conversation.note, name="conversation-note"),
    path("conversations/<int:conversation_id>/assign/", conversation.assign, name="conversation-assign"),
    path("conversations/<int:conversation_id>/team/", conversation.set_team, name="conversation-team"),
    path("conversations/<int:conversation_id>/status/", conversation.set_status, name="conversation-status"),
    path(
        "conversations/<int:conversation_id>/priority/",
        conversation.set_priority,
        name="conversation-priority",
    ),
    path("conversations/<int:conversation_id>/tags/", conversation.set_tags, name="conversation-tags"),
    path(
        "conversations/<int:conversation_id>/messages/<int:message_id>/tone/",
        conversation.message_tone,
        name="message-tone",
    ),
    path(
        "conversations/<int:conversation_id>/messages/<int:message_id>/topics/",
        conversation.message_topic,
        name="message-topic",
    ),
    path("routing/presence/", routing.set_presence, name="routing-presence"),
    path("routing/offers/", routing.offers, name="routing-offers"),
    path("routing/offers/<int:task_id>/accept/", routing.accept, name="offer-accept"),
    path("routing/offers/<int:task_id>/decline/", routing.decline, name="offer-decline"),
    path("kb/", knowledge.index, name="kb-index"),
    path("kb/new/", knowledge.article_new, name="kb-new"),
    path("kb/missing/", knowledge.missing, name="kb-missing"),
    path("kb/insights/", knowledge.insights, name="kb-insights"),
    path("kb/structure/", knowledge.structure, name="kb-structure"),
    path("kb/t/<int:translation_id>/", knowledge.translation_detail, name="kb-translation"),
    path("kb/t/<int:translation_id>/edit/", knowledge.translation_edit, name="kb-edit"),
    path("kb/t/<int:translation_id>/<str:name>/", knowledge.translation_action, name="kb-action"),
    path(
        "kb/t/<int:translation_id>/restore/<int:number>/",
        knowledge.translation_restore_view,
        name="kb-restore",
    ),
    path("kb/a/<int:article_id>/translate/", knowledge.article_translate, name="kb-translate"),
    path("kb/a/<int:article_id>/visibility/", knowledge.article_visibility, name="kb-visibility"),
    path("kb/a/<int:article_id>/attach/", knowledge.article_attach, name="kb-attach"),
    path("kb/suggest/<int:conversation_id>/", knowledge.suggestions, name="kb-suggest"),
    path("community/", community.queue, name="community"),
    path("community/new/", community.thread_new, name="community-new"),
    path(
        "conversations/<int:conversation_id>/community/",
        community.conversation_publish,
        name="conversation-publish",
    ),
    path("community/threads/<int:thread_id>/", community.thread_detail, name="community-thread"),
    *[
        path(
            f"community/threads/<int:thread_id>/{action}/",
            community.thread_action,
            {"action": action},
            name=f"community-thread-{action}",
        )
        for action in ("answer", "accept", "merge", "move", "lock", "unlock")
    ],
    path("community/posts/<int:post_id>/article/", community.post_article, name="community-post-article"),
    *[
        path(
            f"community/posts/<int:post_id>/{action}/",
            community.post_action,
            {"action": action},
            name=f"community-post-{action}",
        )
        for action in ("hide", "restore")
    ],
    *[
        path(
            f"community/members/<int:member_id>/{action}/",
            community.member_action,
            {"action": action},
            name=f"community-member-{action}",
        )
        for action in ("ban", "unban")
    ],
    path("insights/", insights.dashboard, name="insights"),
    path("insights/conversations/", insights.drill_down, name="insights-conversations"),
    path("insights/surveys/", insights.survey_answers, name="insights-surveys"),
    path("insights/emerging/", insights.emerging, name="insights-emerging"),
    path("insights/emerging/<int:key>/name/", insights.emerging_name, name="insights-emerging-name"),
    path("insights/export/<slug:table>.csv", insights.export, name="insights-export"),
    path("conversations/<int:conversation_id>/escalate/", escalations.escalate, name="conversation-escalate"),
    path("escalations/", escalations.escalation_list, name="escalations"),
    path("escalations/<int:escalation_id>/", escalations.escalation_detail, name="escalation"),
    *[
        path(
            f"escalations/<int:escalation_id>/{action}/",
            escalations.escalation_action,
            {"action": action},
            name=f"escalation-{action}",
        )
        for action in ("acknowledge", "take", "resolve")
    ],
    path("lessons/", escalations.lessons, name="lessons"),
    path("supervisor/", supervisor.supervisor, name="supervisor"),
    path("phone/", phone.phone, name="phone"),
    path("phone/calls/<int:call_id>/recording.wav", phone.call_recording, name="call-recording"),
    path("routing/rules/", rules.rule_list, name="routing-rules"),
    path("routing/rules/<int:rule_id>/", rules.rule_edit, name="routing-rule"),
    path("routing/rules/<int:rule_id>/delete/", rules.rule_delete, name="routing-rule-delete"),
    path("sla/", sla.policy_list, name="sla"),
    path("sla/preview/", sla.preview, name="sla-preview"),
    path("sla/policies/<int:policy_id>/", sla.policy_edit, name="sla-policy"),
    path("sla/policies/<int:policy_id>/delete/", sla.policy_delete, name="sla-policy-delete"),
    path("sla/calendars/", sla.calendar_list, name="sla-calendars"),
    path("sla/calendars/<int:calendar_id>/", sla.calendar_edit, name="sla-calendar"),
    path("sla/calendars/<int:calendar_id>/delete/", sla.calendar_delete, name="sla-calendar-delete"),
    path("sla/calendars/<int:calendar_id>/holidays/", sla.holiday_create, name="sla-holiday-add"),
    path(
        "sla/calendars/<int:calendar_id>/holidays/<int:holiday_id>/delete/",
        sla.holiday_delete,
        name="sla-holiday-remove",
    ),
    path("notifications/", routing.notifications, name="notifications"),
    path("notifications/<int:notification_id>/open/", routing.notification_open, name="notification-open"),
    path("notifications/read/", routing.notifications_clear, name="notifications-clear"),
    path("customers/", customers.customer_list, name="customers"),
    path("customers/<int:customer_id>/", customers.customer_detail, name="customer"),
    path("customers/<int:customer_id>/merge/", customers.customer_merge_view, name="customer-merge"),
    path(
        "customers/<int:customer_id>/identities/<int:identity_id>/split/",
        customers.identity_split_view,
        name="identity-split",
    ),
]
