"""The words of the demo: a fictional shop (Northwind Outfitters) and what its customers write.

Everything here was written for Firstring; no copied data sets. Placeholders in braces are filled by
the loader: {first}, {order}, {amount}, {product}, {date}, {agent}, {last4}.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

COMPANY = "Northwind Outfitters"
STAFF_DOMAIN = "staff.northwind.example"
CUSTOMER_DOMAINS = ["example.com", "example.org", "example.net", "mail.example", "post.example"]

TEAMS = [("Support", "support"), ("Billing", "billing"), ("Social", "social"), ("Technical", "technical")]

LANGUAGE_SKILLS = ["English", "German", "Spanish", "French", "Portuguese"]
TOPIC_SKILLS = ["Shipping", "Returns", "Payments", "Accounts", "App & website", "Product advice"]

# (name, role, teams, language code, skills with levels)
STAFF: list[tuple[str, str, list[str], str, list[tuple[str, str, int]]]] = [
    ("Priya Raman", "manager", ["support", "billing", "social", "technical"], "en",
     [("language", "English", 5), ("topic", "Payments", 4)]),
    ("Jonas Weber", "manager", ["support", "technical"], "de",
     [("language", "German", 5), ("language", "English", 4), ("topic", "App & website", 4)]),
    ("Lucía Ortega", "agent", ["support"], "es",
     [("language", "Spanish", 5), ("language", "English", 4), ("topic", "Returns", 4)]),
    ("Tom Becker", "agent", ["support"], "de",
     [("language", "German", 5), ("language", "English", 3), ("topic", "Shipping", 5)]),
    ("Amara Okafor", "agent", ["support", "social"], "en",
     [("language", "English", 5), ("language", "French", 3), ("topic", "Product advice", 5)]),
    ("Kenji Sato", "agent", ["support", "technical"], "en",
     [("language", "English", 4), ("topic", "App & website", 5), ("topic", "Accounts", 4)]),
    ("Sofia Lindqvist", "agent", ["billing"], "en",
     [("language", "English", 5), ("topic", "Payments", 5), ("topic", "Accounts", 3)]),
    ("Mateus Costa", "agent", ["billing", "support"], "pt",
     [("language", "Portuguese", 5), ("language", "Spanish", 3), ("topic", "Payments", 4)]),
    ("Claire Dubois", "agent", ["social", "support"], "fr",
     [("language", "French", 5), ("language", "English", 4), ("topic", "Product advice", 3)]),
    ("Noah Fischer", "agent", ["technical"], "de",
     [("language", "German", 4), ("language", "English", 5), ("topic", "App & website", 5)]),
]  # fmt: skip

TAGS = [
    ("shipping", "#2563eb"),
    ("returns", "#7c3aed"),
    ("refund", "#db2777"),
    ("invoice", "#0891b2"),
    ("payment", "#0d9488"),
    ("account", "#4b5563"),
    ("bug", "#dc2626"),
    ("feature-request", "#16a34a"),
    ("complaint", "#ea580c"),
    ("praise", "#65a30d"),
    ("vip", "#ca8a04"),
    ("outage", "#b91c1c"),
    ("product-question", "#0284c7"),
]

# (slug, kind, name, team slug, config). No channel here has real credentials; the API channel exists.
# The demo's customers are made up: its channels ask them no surveys ("surveys": false), or resolving
# the demo history would queue invitations nobody can receive.
CHANNELS: list[tuple[str, str, str, str, dict[str, Any]]] = [
    ("mail-support", "email", "support@northwind.example", "support",
     {"address": "support@northwind.example", "surveys": False}),
    ("mail-billing", "email", "billing@northwind.example", "billing",
     {"address": "billing@northwind.example", "surveys": False}),
    # The widget may be tried on this installation's own pages (/channels/webchat/web-chat/, as staff).
    ("web-chat", "chat", "Web chat", "support",
     {"widget": "northwind.example", "greeting": "Hi! This is Northwind support. How can we help?",
      "allowed_origins": ["https://northwind.example", "http://127.0.0.1:8000", "http://localhost:8000"],
      "prechat": {"name": "optional"}, "offline_channel": "mail-support", "surveys": False}),
    ("phone-main", "phone", "Hotline +1 202-555-0100", "support",
     {"number": "+12025550100", "surveys": False}),
    ("sms-main", "sms", "SMS +1 202-555-0101", "support", {"number": "+12025550101", "surveys": False}),
    ("whatsapp", "whatsapp", "WhatsApp Business", "support", {"number": "+12025550102", "surveys": False}),
    ("x-northwind", "social", "X @northwind", "social", {"network": "x", "handle": "northwind"}),
    ("bsky-northwind", "social", "Bluesky @northwind.example", "social",
     {"network": "bluesky", "handle": "northwind.example"}),
    ("mastodon-northwind", "social", "Mastodon @northwind@mastodon.example", "social",
     {"network": "mastodon", "handle": "northwind@mastodon.example"}),
]  # fmt: skip

FIRST_NAMES = [
    "Emma", "Liam", "Olivia", "Noah", "Ava", "Elijah", "Mia", "Lucas", "Chloe", "Mateo", "Hannah", "Leon",
    "Zoe", "Felix", "Isla", "Omar", "Yara", "Ravi", "Mei", "Diego", "Ingrid", "Kwame", "Aisha", "Lars",
    "Nadia", "Pablo", "Greta", "Hugo", "Sana", "Tariq", "Elif", "Jakob", "Léa", "Marco", "Freya", "Ikaika",
]  # fmt: skip
LAST_NAMES = [
    "Müller", "Smith", "García", "Nguyen", "Kowalski", "Johansson", "Rossi", "Dubois", "Okoye", "Tanaka",
    "Schneider", "Brown", "Hernández", "Silva", "Novak", "Andersen", "Costa", "Yılmaz", "Murphy", "Patel",  # noqa: RUF001
    "Kaur", "Wójcik", "Hoffmann", "Lopez", "Fischer", "Moreau", "Ivanova", "Chen", "Haddad", "Kim",
]  # fmt: skip
COMPANIES = [
    "",
    "",
    "",
    "",
    "Bergwerk GmbH",
    "Trailhead Co-op",
    "Lumen Studio",
    "Café Aurora",
    "Ridge Scouts",
]

PRODUCTS = [
    "Alpine 40L backpack", "Summit rain shell", "trail running shoes", "Nordlys down jacket",
    "two-person tent", "merino base layer", "insulated water bottle", "headlamp", "hiking poles",
    "sleeping bag (-5°C)", "fleece hoodie", "kids' snow boots",
]  # fmt: skip


@dataclass(frozen=True)
class Scenario:
    """One kind of conversation: what the customer writes, how an agent answers, how it may go on."""

    topic: str
    subject: str
    opening: list[str]
    replies: list[str]
    follow_ups: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tags: tuple[str, ...] = ()
    team: str = "support"
    tone: str = "neutral"
    # Short forms for SMS, chat and social, where nobody writes a letter.
    short: list[str] = field(default_factory=list)


SCENARIOS = [
    Scenario(
        topic="late delivery",
        subject="Order {order} has not arrived",
        opening=[
            "Hi,\n\nI ordered the {product} on {date} (order {order}) and it still hasn't arrived. The "
            'tracking page has said "in transit" for six days now. I need it for a trip this weekend — '
            "can you tell me what is going on?\n\nThanks,\n{first}",
            "Hello, my order {order} was supposed to arrive two days ago. Nothing yet and the carrier's "
            "hotline just plays music. Could you check where it is?\n\n{first}",
        ],
        short=[
            "where is my order {order}?? tracking hasn't moved in 5 days",
            "Hi! Order {order} still not here, any news?",
        ],
        replies=[
            "Hi {first},\n\nsorry for the wait. I checked with the carrier: the parcel was held at their "
            "depot because of a damaged label. It was relabelled this morning and should reach you "
            "tomorrow. If it doesn't, reply here and I'll send a replacement by express at our cost.\n\n"
            "Best,\n{agent}",
            "Hi {first}, thanks for your patience. Your parcel is out for delivery today — the new "
            "tracking link is in your inbox. — {agent}",
        ],
        follow_ups=["It arrived this morning, thank you!", "Still nothing today :( "],
        notes=["Carrier ticket opened, reference in the order notes.", "Second late parcel this month."],
        tags=("shipping",),
        tone="negative",
    ),
    Scenario(
        topic="return",
        subject="Return for {product}",
        opening=[
            "Hello,\n\nthe {product} I received is too small. How do I return it and get the next size "
            "up? Order {order}.\n\nKind regards,\n{first}",
            "Hi there, I'd like to return the {product} from order {order}; it's not what I expected. Is "
            "the return label free?",
        ],
        short=["how do I return the {product}? wrong size", "Can I swap my {product} for a bigger size?"],
        replies=[
            "Hi {first},\n\nof course. I've created a free return label for order {order} — you'll find "
            "it in your account under Orders. As soon as the parcel is scanned we ship the new size, so "
            "you don't have to wait for the refund.\n\n{agent}",
            "Hi {first}, returns are free within 60 days. Your label is on its way by e-mail. — {agent}",
        ],
        follow_ups=["Perfect, sent it back today.", "Got the label, thanks."],
        tags=("returns",),
    ),
    Scenario(
        topic="double charge",
        subject="Charged twice for order {order}",
        opening=[
            "Hello,\n\nmy card ending in {last4} was charged twice ({amount} each) for order {order}. "
            "Please refund the duplicate charge.\n\n{first}",
            "I see two payments of {amount} on my statement for one order ({order}). What happened?",
        ],
        short=["you charged me twice for {order}!!", "double payment of {amount}, please fix"],
        replies=[
            "Hi {first},\n\nyou're right, and I'm sorry: the second charge was a pre-authorisation that "
            "our payment provider should have released. I've released it now; your bank will show it "
            "back within 3 to 5 working days.\n\n{agent}",
            "Hi {first}, I've refunded the duplicate {amount}. You'll get a confirmation e-mail with the "
            "reference. — {agent}",
        ],
        follow_ups=["Thanks, I can see it as pending now.", "OK, I'll keep an eye on it."],
        notes=["Payment provider case opened for the duplicate pre-auth."],
        tags=("payment", "refund"),
        team="billing",
        tone="negative",
    ),
    Scenario(
        topic="invoice",
        subject="VAT invoice for order {order}",
        opening=[
            "Good morning,\n\ncould you send us an invoice with our VAT number for order {order}? We "
            "need it for our accounts. Company details are in the attachment of my previous mail.\n\n"
            "Best regards,\n{first}",
        ],
        short=["need an invoice with VAT number for {order}"],
        replies=[
            "Good morning {first},\n\nthe corrected invoice for {order} with your VAT number is now in "
            "your account under Invoices. Let me know if anything else needs to change.\n\n{agent}",
        ],
        follow_ups=["Received, thank you."],
        tags=("invoice",),
        team="billing",
    ),
    Scenario(
        topic="login",
        subject="Can't log in to my account",
        opening=[
            'Hi, I reset my password twice but the app still says "invalid credentials". I\'m on iOS, '
            "latest version. Can you help?\n\n{first}",
            "Hello, the password reset e-mail never arrives. I checked spam. My account is under this "
            "address.",
        ],
        short=["can't log in, reset email never comes", "app says invalid credentials after reset"],
        replies=[
            "Hi {first},\n\nthanks for the details. Your account was locked after several attempts; I've "
            "unlocked it. Please try once more — if the app still refuses, sign out fully and back in "
            "so it forgets the old session.\n\n{agent}",
            "Hi {first}, our mail provider had delays this morning. I've sent a fresh reset link that is "
            "valid for an hour. — {agent}",
        ],
        follow_ups=["That worked, thanks!", "Still can't get in, same error."],
        notes=["Reproduced on iOS 17 — reported to the app team."],
        tags=("account", "bug"),
        team="technical",
    ),
    Scenario(
        topic="app crash",
        subject="App crashes at checkout",
        opening=[
            'Every time I tap "Pay" in the Android app it closes itself. Tried three times with two '
            "different cards. Phone is a Pixel 7.\n\n{first}",
        ],
        short=["app crashes when I hit pay", "checkout keeps crashing on android"],
        replies=[
            "Hi {first},\n\nthank you for reporting this — we found the cause (a problem with one "
            "payment library on Android 14) and a fix ships tomorrow. Until then the website checkout "
            "works, and your basket is saved there.\n\n{agent}",
        ],
        follow_ups=["Updated the app and it works now.", "OK, used the website instead."],
        notes=["Linked to the checkout crash incident.", "Crash log attached to the incident."],
        tags=("bug", "outage"),
        team="technical",
        tone="negative",
    ),
    Scenario(
        topic="product question",
        subject="Question about the {product}",
        opening=[
            "Hello,\n\nis the {product} warm enough for winter hiking in the Alps, or should I look at "
            "something else? I usually get cold quickly.\n\nThanks a lot,\n{first}",
            "Hi, does the {product} come in a women's cut? The size chart only shows one.",
        ],
        short=["is the {product} waterproof?", "does the {product} come in green?"],
        replies=[
            "Hi {first},\n\ngreat question. For winter tours I'd combine it with the merino base layer "
            "— that's what our staff use on the glacier trips. If you run cold, size up so there's room "
            "for a layer underneath.\n\n{agent}",
            "Hi {first}! Yes — the women's cut is listed as a separate product; I've sent you the link. "
            "— {agent}",
        ],
        follow_ups=["Thanks, ordered both!", "Great advice, thank you."],
        tags=("product-question",),
        team="support",
        tone="positive",
    ),
    Scenario(
        topic="praise",
        subject="Thank you!",
        opening=[
            "Just wanted to say thank you to {agent} — the replacement arrived a day before our trip. "
            "Outstanding service!\n\n{first}",
        ],
        short=[
            "shoutout to @northwind, replacement arrived in one day 🙌",
            "best customer service ever, thanks!",
        ],
        replies=["Thank you so much, {first}! Have a wonderful trip. — {agent}"],
        tags=("praise",),
        team="social",
        tone="positive",
    ),
    Scenario(
        topic="complaint",
        subject="Very disappointed",
        opening=[
            "This is the third time my order is late and nobody answers the phone. I'm a loyal customer "
            "and I'm seriously thinking about going elsewhere.\n\n{first}",
        ],
        short=["@northwind 3rd late order in a row. not impressed.", "nobody answers the hotline, again"],
        replies=[
            "Hi {first},\n\nyou have every right to be annoyed, and I'm sorry. I've looked at all three "
            "orders: two were delayed by our warehouse move, which is now finished. I've refunded the "
            "shipping costs and added a voucher to your account. I'll personally follow order {order} "
            "until it's with you.\n\n{agent}",
            "Hi {first}, sorry about this — I've sent you a DM so we can sort it out properly. — {agent}",
        ],
        follow_ups=["Appreciate the honest answer.", "Fine. Let's see if it arrives."],
        notes=["VIP customer, handle with care.", "Escalated to the logistics lead."],
        tags=("complaint", "shipping"),
        tone="negative",
    ),
    Scenario(
        topic="feature request",
        subject="Suggestion: gift wrapping",
        opening=["Would be great if you offered gift wrapping at checkout! Would use it for every birthday."],
        short=["please add gift wrapping 🎁", "any plans for a wishlist feature?"],
        replies=["Thanks {first}, great idea — I've passed it on to our product team. — {agent}"],
        tags=("feature-request",),
        tone="positive",
    ),
    Scenario(
        topic="address change",
        subject="Change delivery address for {order}",
        opening=[
            "Hi, I just placed order {order} and noticed it will go to my old address. Can you change it "
            "before it ships? The new one is in my account.\n\n{first}",
        ],
        short=["wrong address on {order}, can you change it?"],
        replies=[
            "Hi {first}, caught it in time — the order now goes to your new address. — {agent}",
        ],
        follow_ups=["Phew, thank you!"],
        tags=("shipping",),
    ),
    Scenario(
        topic="warranty",
        subject="Zip broken on {product}",
        opening=[
            "Hello,\n\nthe zip on my {product} broke after three months of normal use. Is that covered "
            "by the warranty? Photos attached.\n\n{first}",
        ],
        short=["zip on my {product} broke after 3 months, warranty?"],
        replies=[
            "Hi {first},\n\nyes, that's covered. Send it back with the free label in your account and "
            "we'll repair it or send a new one within ten days.\n\n{agent}",
        ],
        follow_ups=["Great, it's on its way to you."],
        notes=["Third zip complaint for this product — told the buying team."],
        tags=("returns",),
    ),
]

GERMAN = Scenario(
    topic="Lieferung",
    subject="Bestellung {order} fehlt",
    opening=[
        "Guten Tag,\n\nmeine Bestellung {order} ist noch nicht angekommen, obwohl die Sendungsverfolgung "
        '"zugestellt" anzeigt. Können Sie bitte nachsehen?\n\nViele Grüße\n{first}',
    ],
    short=["Bestellung {order} ist nicht da, laut Tracking zugestellt?"],
    replies=[
        "Hallo {first},\n\ndanke für Ihre Nachricht. Der Paketdienst hat das Paket laut Nachweis beim "
        "Nachbarn abgegeben. Falls es dort nicht ist, schicken wir sofort Ersatz.\n\nViele Grüße\n{agent}",
    ],
    follow_ups=["Es war beim Nachbarn, danke!"],
    tags=("shipping",),
    tone="negative",
)
SPANISH = Scenario(
    topic="devolución",
    subject="Devolución del pedido {order}",
    opening=[
        "Hola,\n\nquiero devolver el {product} del pedido {order}, no me queda bien. ¿Cómo lo hago?\n\n"
        "Gracias,\n{first}",
    ],
    short=["hola, ¿cómo devuelvo el pedido {order}?"],
    replies=[
        "Hola {first},\n\nya tienes la etiqueta de devolución gratuita en tu cuenta. En cuanto el paquete "
        "esté en camino te devolvemos el importe.\n\nUn saludo,\n{agent}",
    ],
    follow_ups=["¡Perfecto, muchas gracias!"],
    tags=("returns",),
)
FRENCH = Scenario(
    topic="facture",
    subject="Facture pour la commande {order}",
    opening=["Bonjour,\n\npourriez-vous m'envoyer la facture de la commande {order} ?\n\nMerci,\n{first}"],
    short=["bonjour, où trouver ma facture {order} ?"],
    replies=[
        "Bonjour {first},\n\nla facture est disponible dans votre compte, rubrique Factures.\n\n"
        "Cordialement,\n{agent}",
    ],
    tags=("invoice",),
    team="billing",
)
LANGUAGE_SCENARIOS = {"de": GERMAN, "es": SPANISH, "fr": FRENCH}

CALL_TEMPLATE = (
    "Inbound call, {minutes} min {seconds} s.\n\n"
    "Summary: {summary}\n\n"
    "Transcript (excerpt):\n"
    "Agent: Northwind Outfitters, this is {agent}, how can I help?\n"
    "Caller: Hi, this is {first}. {line}\n"
    "Agent: Let me pull that up… I can see order {order} here.\n"
    "Caller: {line2}\n"
    "Agent: I'll take care of it and send you a message with the details."
)
CALL_SECOND_LINES = [
    "I've been waiting for a while and wanted to hear from a person.",
    "Could you also check my other order?",
    "Great, that's all I needed.",
    "I'd rather not wait another week.",
]

# Service levels: (name, position, priority, channel kind, customer tier, first response, next response,
# resolution in minutes, in office hours?)
OFFICE_HOURS = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
OFFICE_HOLIDAYS = [("12-25", "Christmas Day"), ("12-26", "Boxing Day"), ("01-01", "New Year's Day")]
SLA_POLICIES = [
    ("VIP customers", 10, None, "", "vip", 30, 60, 8 * 60, False),
    ("Urgent", 20, 4, "", "", 60, 120, 24 * 60, False),
    ("Live chat", 30, None, "chat", "", 5, 5, 4 * 60, False),
    ("E-mail, SMS and social", 100, None, "", "", 8 * 60, 8 * 60, 3 * 10 * 60, True),
]
# (name, position, keywords, tones, team slug, skills, set priority)
ROUTING_RULES = [
    (
        "Refunds and charges go to Billing",
        10,
        ["refund", "charged", "invoice", "chargeback"],
        [],
        "billing",
        [("topic", "Payments")],
        None,
    ),
    ("Angry customers move up", 20, [], ["negative"], None, [], 3),
]
LESSONS = [
    (
        "Refunds over 200 EUR",
        "Agents may refund up to 200 EUR without asking. Above that, escalate with the order number and the "
        "customer's history: a manager answers within the hour, and the customer hears from us the same day.",
    ),
    (
        "Delivery delays: say the date, not 'soon'",
        "Customers who were told a concrete delivery date stayed calm even when it was late; 'soon' brought "
        "them back angrier. Look the date up in the carrier's tracking before answering.",
    ),
]
