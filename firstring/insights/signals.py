"""Language and urgency of a customer's message: read from its text, without a model to train.

Language: py3langid (a maintained fork of langid.py that ships its model in the package), limited to
the languages a support team is likely to staff, and trusted only from 0.7 with three words or more:
"ok thx" has no language worth routing on. Urgency: cue phrases of five kinds, since a missed threat
to sue costs more than a false alarm an agent clears in a second:

- `churn`  — a threat to leave (cancel the account, switch to a competitor, never again);
- `legal`  — lawyers, courts, regulators, chargebacks;
- `safety` — injury, fire, food poisoning, threats, an emergency;
- `outage` — the service is down, nothing works, no signal;
- `repeat` — the customer says it is not the first time, or wrote in other conversations lately
  (two others within `REPEAT_WINDOW`, counted by the caller from the stored conversations).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

# A customer who opened this many other conversations in the window is contacting us again (a third
# contact in a week; a second one is often a new question).
REPEAT_WINDOW = timedelta(days=7)
REPEAT_MIN_OTHER_CONVERSATIONS = 2

LANGUAGES = [
    "en",
    "de",
    "es",
    "fr",
    "pt",
    "it",
    "nl",
    "sv",
    "da",
    "no",
    "fi",
    "pl",
    "cs",
    "sk",
    "sl",
    "hr",
    "ro",
    "hu",
    "el",
    "tr",
    "ru",
    "uk",
    "bg",
    "ar",
    "he",
    "fa",
    "hi",
    "bn",
    "ur",
    "ja",
    "zh",
    "ko",
    "id",
    "ms",
    "th",
    "vi",
    "ca",
]
MIN_LANGUAGE_CONFIDENCE = 0.7
MIN_LANGUAGE_WORDS = 3

URGENCY_KINDS = ("churn", "legal", "safety", "outage", "repeat")

_CUES: dict[str, re.Pattern[str]] = {
    "churn": re.compile(
        r"\b(cancel+(ing|ed)? (my|the|our) (account|subscription|service|contract|membership|plan|order)"
        r"|close (my|our) account|switch(ing)? (to|over to|providers?|carriers?|banks?)"
        r"|tak(e|ing) (my|our) (business|money) elsewhere"
        r"|(leav|quitt)(e|ing) (you|this (company|bank|airline))"
        r"|never (again|(going to |gonna )?(use|fly|shop|order|buy|book)\w* (with|from|at)? ?(you|again))"
        r"|done with (you|this company)|last time i('m| am| will)? (use|fly|shop|order|buy|book)"
        r"|find (a|another) (new )?(provider|carrier|bank|company)|going to a competitor|unsubscrib)",
        re.IGNORECASE,
    ),
    "legal": re.compile(
        r"\b(lawyers?|attorneys?|solicitors?|su(e|ing) (you|them)|lawsuits?|legal action|court|small claims"
        r"|ombudsman|trading standards|better business bureau|bbb|fcc|ftc|cfpb|regulator|chargeback"
        r"|class action|report(ing)? (you|this) to)\b",
        re.IGNORECASE,
    ),
    "safety": re.compile(
        r"\b(unsafe|dangerous|danger|injur(y|ies|ed)|hurt|bleeding|fire|smoke|explod\w*|burn(ed|t|s)?"
        r"|allergic|allergy|anaphyla\w*|food poisoning|poison\w*|hospital|ambulance|emergency|threat\w*"
        r"|assault\w*|harass\w*|choking|electric shock|carbon monoxide|gas leak|unconscious|seizure)\b",
        re.IGNORECASE,
    ),
    "outage": re.compile(
        r"\b(outages?|(is|are|was|went|been|seems?( to be)?) down|down again"
        r"|not working for (anyone|everyone)"
        r"|no (internet|service|signal|connection|power|network|wifi|wi-fi|data)"
        r"|can'?t connect|cannot connect"
        r"|unable to connect|offline|servers? (are |is )?down|nothing (works|is working|loads))",
        re.IGNORECASE,
    ),
    "repeat": re.compile(
        r"\b((called|contacted|emailed|messaged|written|wrote|asked|tweeted|chased|reached out)"
        r"( to)?( you| (you )?guys| support| them)?"
        r" (\d+|two|three|four|five|several|multiple|many|countless) times"
        r"|(\d+|two|three|four|five|several|multiple|many|countless|numerous) (calls|emails|e-mails|messages)"
        r"|(second|2nd|third|3rd|fourth|4th|fifth|5th) (time|call|email|message|attempt)"
        r"|again and again|still (no|not|waiting|haven'?t|hasn'?t|nothing)|yet again|once again"
        r"|keep (calling|asking|getting)|no one (is )?(responding|answer\w*|help\w*)"
        r"|nobody (responds|answers|helps|replied))",
        re.IGNORECASE,
    ),
}

_MENTION_OR_LINK = re.compile(r"@\w+|https?://\S+|#")


@dataclass(frozen=True)
class Signals:
    language: str
    language_confidence: float
    urgency: tuple[str, ...]

    @property
    def urgent(self) -> bool:
        return bool(self.urgency)


def urgency_cues(text: str) -> list[str]:
    """The kinds of urgency cues in a text, in `URGENCY_KINDS` order."""
    return [kind for kind in URGENCY_KINDS if _CUES[kind].search(text)]


@cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(LANGUAGES)
    return identifier


def detect_language(text: str) -> tuple[str, float]:
    """(ISO 639-1 code, confidence), or ("", confidence) when the text is too short or unclear."""
    cleaned = _MENTION_OR_LINK.sub(" ", text)
    if len(re.findall(r"\w+", cleaned)) < MIN_LANGUAGE_WORDS:
        return "", 0.0
    language, confidence = _identifier().classify(cleaned)
    confidence = round(float(confidence), 4)
    return (str(language) if confidence >= MIN_LANGUAGE_CONFIDENCE else ""), confidence


def read_signals(texts: Sequence[str]) -> list[Signals]:
    result = []
    for text in texts:
        language, confidence = detect_language(text)
        result.append(Signals(language, confidence, tuple(urgency_cues(text))))
    return result
