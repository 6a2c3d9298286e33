"""Demo knowledge: Northwind's help center at /help/ with a few articles, through the real services."""

from __future__ import annotations

from django.db import transaction

from firstring.accounts.models import User
from firstring.channels.models import Channel
from firstring.knowledge.models import Article, Category, HelpCenter, Section
from firstring.knowledge.services import (
    article_create,
    synonym_set_save,
    translation_add,
    translation_publish,
)

# (category, section, title, body, German title and body or None, visibility, publish)
ARTICLES = [
    ("Orders and delivery", "Tracking", "Track your parcel",
     "Every order gets a **tracking link** by e-mail once it ships.\n\n1. Open the shipping e-mail.\n"
     "2. Choose *Track parcel*.\n\nNo e-mail after three days? [Contact us](../../contact/).",
     ("Sendung verfolgen",
      "Jede Bestellung bekommt einen **Sendungslink** per E-Mail, sobald sie versandt ist."),
     "public", True),
    ("Orders and delivery", "Tracking", "My parcel is late",
     "Most parcels arrive within 3 to 5 working days. If the tracking page has not changed for two days, "
     "the courier may be delayed; we open an inquiry after five days.", None, "public", True),
    ("Orders and delivery", "Returns", "Return an item",
     "You can return unworn items within **30 days**.\n\n| Item | Free return |\n|---|---|\n"
     "| Clothing | yes |\n| Tents | yes, unused |\n",
     ("Artikel zurücksenden", "Sie können ungetragene Artikel innerhalb von **30 Tagen** zurücksenden."),
     "public", True),
    ("Payments", "Refunds", "When will I get my refund?",
     "Refunds reach your card 5 to 10 working days after we receive the return.", None, "public", True),
    ("Payments", "Invoices", "Download an invoice",
     "Sign in, open *Orders* and choose *Invoice (PDF)* next to the order.", None, "public", True),
    ("Account", "Signing in", "Reset your password",
     "Choose **Forgot password** on the sign-in page and follow the link we e-mail you.",
     ("Passwort zurücksetzen", "Wählen Sie **Passwort vergessen** auf der Anmeldeseite."), "public", True),
    ("Payments", "Refunds", "Refund overrides (agents)",
     "Refunds above 500 USD need a team lead's approval in the billing tool before you promise them.",
     None, "internal", True),
    ("Account", "Signing in", "Two-step sign-in (coming soon)",
     "Draft: how to switch on two-step sign-in.", None, "public", False),
]  # fmt: skip


def knowledge_demo_load(*, editor: User) -> str:
    """Create the demo help center once; a second call finds it and adds nothing."""
    if HelpCenter.objects.filter(prefix="help").exists():
        return "Help center: already there at /help/."
    with transaction.atomic():
        center = HelpCenter.objects.create(
            name="Northwind Help",
            prefix="help",
            default_language="en",
            languages=["de"],
            tagline="Answers about orders, payments and your account.",
            primary_color="#1f6f43",
            phone="+1 202-555-0100",
            email="support@northwind.example",
        )
        center.contact_channels.set(Channel.objects.filter(kind__in=["chat", "sms", "whatsapp", "social"]))
        sections: dict[tuple[str, str], Section] = {}
        for position, (category_name, section_name, title, body, german, visibility, publish) in enumerate(
            ARTICLES
        ):
            key = (category_name, section_name)
            if key not in sections:
                category, _ = Category.objects.get_or_create(
                    help_center=center,
                    slug=category_name.lower().replace(" ", "-"),
                    defaults={"name": category_name, "position": position},
                )
                sections[key] = Section.objects.create(
                    category=category, slug=section_name.lower().replace(" ", "-"), name=section_name
                )
            translation = article_create(
                actor=editor,
                section=sections[key],
                language="en",
                title=title,
                body=body,
                visibility=Article.Visibility(visibility),
            )
            if publish:
                translation_publish(actor=editor, translation=translation)
            if german:
                de = translation_add(
                    actor=editor, article=translation.article, language="de", title=german[0], body=german[1]
                )
                translation_publish(actor=editor, translation=de)
        Category.objects.filter(help_center=center, slug="payments").update(names={"de": "Zahlungen"})
        Category.objects.filter(help_center=center, slug="account").update(names={"de": "Konto"})
        Category.objects.filter(help_center=center, slug="orders-and-delivery").update(
            names={"de": "Bestellungen und Versand"}
        )
        synonym_set_save(actor=editor, help_center=center, words="refund, money back, reimbursement")
        synonym_set_save(actor=editor, help_center=center, words="parcel, package, delivery, shipment")
    return f"Help center: {len(ARTICLES)} demo articles at /help/ (staff edit them under /kb/)."
