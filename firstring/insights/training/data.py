"""The labelled text the tone model is trained and measured on, read from ../shared/data (never shipped).

- TweetEval sentiment (general tweets): the validation file and a seeded 70% of the test file train
  the model; the other 30% of the test file is held out for measurement (`tweeteval_split`).
- Customer Support on Twitter (twcs_threads_dev.csv, real support threads): customers are split in two
  halves by a hash of their id. The training half gives distant labels: a brand reply that apologises
  marks the customer's tweet before it as negative, one that is glad or welcomes thanks marks it as
  positive (replies that do neither say little and are not used). The other half measures the model.
  All 1,439 customer tweets of the sample were labelled by hand by one engineer, without looking at
  any model's output (`twcs_tone_labels.tsv`: ids and labels only, the text stays in shared/):
  negative for a complaint, a problem or frustration (sarcasm included), positive for thanks, praise
  or joy, neutral for questions, information and everything without an evident feeling.
"""

from __future__ import annotations

import csv
import hashlib
import os
import random
import re
from pathlib import Path

LABELS = ("negative", "neutral", "positive")

_NEGATIVE_REPLY = re.compile(
    r"sorry|apolog|frustrat|disappoint|not the experience|hate to hear|hear that|inconvenien|unfortunately"
    r"|not what we|concern|understand how|we understand|that's not|that isn't|not ideal|never want|upsetting"
    r"|saddening|let you down|bear with|not good",
    re.IGNORECASE,
)
_POSITIVE_REPLY = re.compile(
    r"glad|happy to hear|great to hear|love to hear|you're welcome|you are welcome|thanks for the love"
    r"|shout|kind words|awesome|yay|enjoy|love that|love this|so happy|appreciate you|thanks for the support"
    r"|pleasure|woohoo|have fun|looks great|👍|😊|😀|❤|💙",
    re.IGNORECASE,
)


def shared_data() -> Path:
    default = Path(__file__).resolve().parents[3].parent / "shared" / "data"
    return Path(os.environ.get("FIRSTRING_SHARED_DATA", str(default)))


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def tweeteval_split(seed: int = 8) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(train, held_out) as (text, label) pairs."""
    folder = shared_data() / "tweeteval_sentiment"

    def pairs(name: str) -> list[tuple[str, str]]:
        texts = _lines(folder / f"{name}_text.txt")
        labels = _lines(folder / f"{name}_labels.txt")
        return [(t, LABELS[int(y)]) for t, y in zip(texts, labels, strict=True)]

    test = pairs("test")
    order = list(range(len(test)))
    random.Random(seed).shuffle(order)
    cut = int(len(order) * 0.7)
    return pairs("val") + [test[i] for i in order[:cut]], [test[i] for i in order[cut:]]


def _twcs_rows() -> list[dict[str, str]]:
    with (shared_data() / "twcs_threads_dev.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _half(author_id: str) -> int:
    return int(hashlib.sha1(author_id.encode(), usedforsecurity=False).hexdigest(), 16) % 2


def twcs_distant(half: int = 0) -> list[tuple[str, str]]:
    """Customer tweets of one half, labelled by what the brand answered."""
    rows = _twcs_rows()
    by_id = {row["tweet_id"]: row for row in rows}
    found = []
    for row in rows:
        if row["inbound"] != "True" or _half(row["author_id"]) != half:
            continue
        replies = [
            by_id[i]["text"]
            for i in row["response_tweet_id"].split(",")
            if i in by_id and by_id[i]["inbound"] == "False"
        ]
        if not replies:
            continue
        text = " ".join(replies)
        negative, positive = bool(_NEGATIVE_REPLY.search(text)), bool(_POSITIVE_REPLY.search(text))
        if negative != positive:
            found.append((row["text"], "negative" if negative else "positive"))
    return found


def twcs_unlabelled(half: int = 0) -> list[str]:
    return [r["text"] for r in _twcs_rows() if r["inbound"] == "True" and _half(r["author_id"]) == half]


def twcs_hand_labelled(half: int | None = None) -> list[tuple[str, str]]:
    """Every customer tweet of the sample with its tone labelled by hand, or those of one half."""
    rows = _twcs_rows()
    by_id = {row["tweet_id"]: row for row in rows}
    path = Path(__file__).with_name("twcs_tone_labels.tsv")
    labelled = [line.split("\t") for line in _lines(path)[1:]]
    return [
        (by_id[tweet_id]["text"], label)
        for tweet_id, label in labelled
        if half is None or _half(by_id[tweet_id]["author_id"]) == half
    ]


# BANKING77 (CC BY 4.0): customers writing to a bank. Intents that report something gone wrong read as
# complaints (negative); intents that ask how something works read as neutral questions. Intents that
# could be either (pending payments, fees, refunds, closing the account) are left out.
BANKING77_PROBLEMS = frozenset(
    [
        "Refund_not_showing_up",
        "balance_not_updated_after_bank_transfer",
        "balance_not_updated_after_cheque_or_cash_deposit",
        "beneficiary_not_allowed",
        "card_arrival",
        "card_not_working",
        "card_payment_not_recognised",
        "card_payment_wrong_exchange_rate",
        "card_swallowed",
        "cash_withdrawal_not_recognised",
        "compromised_card",
        "contactless_not_working",
        "declined_card_payment",
        "declined_cash_withdrawal",
        "declined_transfer",
        "direct_debit_payment_not_recognised",
        "extra_charge_on_statement",
        "failed_transfer",
        "lost_or_stolen_card",
        "lost_or_stolen_phone",
        "pin_blocked",
        "reverted_card_payment?",
        "top_up_failed",
        "top_up_reverted",
        "transaction_charged_twice",
        "transfer_not_received_by_recipient",
        "unable_to_verify_identity",
        "virtual_card_not_working",
        "wrong_amount_of_cash_received",
        "wrong_exchange_rate_for_cash_withdrawal",
    ]
)
BANKING77_QUESTIONS = frozenset(
    [
        "activate_my_card",
        "age_limit",
        "apple_pay_or_google_pay",
        "atm_support",
        "automatic_top_up",
        "card_about_to_expire",
        "card_acceptance",
        "card_delivery_estimate",
        "card_linking",
        "change_pin",
        "country_support",
        "disposable_card_limits",
        "edit_personal_details",
        "exchange_rate",
        "exchange_via_app",
        "fiat_currency_support",
        "get_disposable_virtual_card",
        "get_physical_card",
        "getting_spare_card",
        "getting_virtual_card",
        "order_physical_card",
        "receiving_money",
        "supported_cards_and_currencies",
        "top_up_by_cash_or_cheque",
        "top_up_limits",
        "topping_up_by_card",
        "transfer_into_account",
        "verify_my_identity",
        "verify_source_of_funds",
        "verify_top_up",
        "visa_or_mastercard",
        "why_verify_identity",
        "transfer_timing",
    ]
)


def banking77_distant(name: str = "train") -> list[tuple[str, str]]:
    with (shared_data() / "banking77" / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    found = []
    for row in rows:
        if row["category"] in BANKING77_PROBLEMS:
            found.append((row["text"], "negative"))
        elif row["category"] in BANKING77_QUESTIONS:
            found.append((row["text"], "neutral"))
    return found
