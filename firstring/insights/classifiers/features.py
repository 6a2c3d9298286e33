"""Turn a message into sparse features: the same code at training time and at run time.

Pure Python on purpose (no numpy at run time): words and word pairs with negation marked, character
n-grams inside words (spelling, slang, inflections), emoji and punctuation runs, a sentiment lexicon's
sums, and customer-service cues that general tweets never teach (complaint phrases, "still waiting",
thanks). A feature is a string; its value is a float (1.0 for most).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import pairwise

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@\w+")
_HTML_ENTITY = re.compile(r"&(amp|lt|gt|quot|#39);")
_REPEAT = re.compile(r"(.)\1{2,}")
_NON_WORD = re.compile(r"[^a-z0-9' ]+")
# Words (with inner apostrophes), runs of ! and ?, and single symbols (emoji, emoticon parts).
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[!?]+|[^\sa-z0-9]")
_CLAUSE_END = frozenset({".", ",", ";", ":", "!", "?", "!!", "??", "?!", "!?"})
_NEGATIONS = frozenset(
    [
        "not",
        "no",
        "never",
        "nothing",
        "nobody",
        "none",
        "nowhere",
        "neither",
        "nor",
        "cannot",
        "cant",
        "dont",
        "doesnt",
        "didnt",
        "isnt",
        "arent",
        "wasnt",
        "werent",
        "wont",
        "wouldnt",
        "couldnt",
        "shouldnt",
        "havent",
        "hasnt",
        "hadnt",
        "aint",
        "without",
    ]
)
_NEGATION_SPAN = 3

# Customer-service cues: phrases whose tone general tweets do not teach. Each maps to a cue name; the
# model learns the cue's weight from its training data, not from this list.
CUES: Mapping[str, tuple[str, ...]] = {
    "cue:waiting": (
        "still waiting", "still not", "still no", "still have not", "still haven't", "still doesn't",
        "still does not", "still isn't", "still can't", "waiting for", "been waiting", "on hold",
        "hours", "days", "weeks", "yet again", "again", "no response", "no reply", "no answer",
        "never received", "never got", "never arrived", "hasn't arrived", "has not arrived", "not arrived",
        "not received", "haven't received", "haven't heard", "no one", "nobody", "no update",
    ),
    "cue:broken": (
        "not working", "doesn't work", "does not work", "isn't working", "won't work", "stopped working",
        "broken", "broke", "error", "crash", "crashes", "crashing", "glitch", "glitchy", "bug", "outage",
        "down again", "keeps", "keep getting", "can't log", "cannot log", "can't access", "unable to",
        "won't load", "not loading", "issue", "issues", "problem", "problems", "fails", "failed",
    ),
    "cue:money": (
        "charged", "overcharged", "refund", "refunded", "money back", "cancelled", "canceled", "delayed",
        "delay", "lost", "missing", "damaged", "wrong order", "wrong item", "late", "fee", "fees",
        "compensation", "rip off", "ripoff", "scam",
    ),
    "cue:anger": (
        "worst", "terrible", "awful", "horrible", "useless", "pathetic", "ridiculous", "joke", "disgusted",
        "disgusting", "disappointed", "disappointing", "unacceptable", "fed up", "sick of", "tired of",
        "never again", "never flying", "switching to", "cancel my", "poor service", "customer service",
        "wtf", "smh", "seriously", "shame", "rude", "fix", "sort it out", "sort this",
    ),
    "cue:thanks": (
        "thank you", "thanks", "thank u", "thx", "cheers", "appreciate", "appreciated", "grateful",
        "great service", "excellent service", "amazing service", "well done", "shout out", "shoutout",
        "kudos", "love you", "you guys rock", "the best", "so helpful", "very helpful", "sorted",
        "resolved", "fixed it", "all good", "works now", "working now",
    ),
    "cue:question": (
        "how do i", "how can i", "can i", "is there", "do you", "does the", "when will", "where can",
    ),
}  # fmt: skip

_CUE_OF = {phrase: cue for cue, phrases in CUES.items() for phrase in phrases}
# One alternation, longest phrases first, matched on word boundaries over the normalised text.
_CUE_PATTERN = re.compile(
    r"(?<![a-z0-9'])("
    + "|".join(re.escape(p) for p in sorted(_CUE_OF, key=len, reverse=True))
    + r")(?![a-z0-9'])"
)
_UPPER = re.compile(r"[A-Z]")
_LETTER = re.compile(r"[A-Za-z]")


def normalize(text: str) -> str:
    text = _HTML_ENTITY.sub(" ", text.lower())
    text = _URL.sub(" httpurl ", text)
    text = _MENTION.sub(" @user ", text)
    text = text.replace("\u2019", "'").replace("\u2018", "'")  # typographic apostrophes
    return _REPEAT.sub(r"\1\1", text)


def tokenize(normalized: str) -> list[str]:
    return _TOKEN.findall(normalized.replace("@user", " atuser "))


def _cue_counts(normalized: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for phrase in _CUE_PATTERN.findall(normalized):
        cue = _CUE_OF[phrase]
        found[cue] = found.get(cue, 0.0) + 1.0
    return found


def char_grams(padded: str) -> list[str]:
    """Character 3- and 4-grams of one word written as "<word>"; the only feature names without a colon."""
    end = len(padded)
    return [padded[i : i + 3] for i in range(end - 2)] + [padded[i : i + 4] for i in range(end - 3)]


def extract(
    text: str, lexicon: Mapping[str, float] | None = None
) -> tuple[list[str], list[str], dict[str, float]]:
    """The features of one message, in three parts.

    The names of binary features present (words, word pairs, flags; a repeat counts once), the words
    whose character n-grams are counted (as "<word>"; scoring caches each word's share), and the
    features with a value (lexicon sums, cue counts).
    """
    normalized = normalize(text)
    raw_tokens = tokenize(normalized)
    words: list[str] = []
    negated = 0
    lex_pos = lex_neg = 0.0
    for token in raw_tokens:
        if token in _CLAUSE_END or token[0] in "!?":
            negated = 0
            words.append(token[:2])
            continue
        plain = token.replace("'", "")
        if plain in _NEGATIONS or token.endswith("n't"):
            negated = _NEGATION_SPAN
            words.append(plain)
            continue
        if negated:
            negated -= 1
            words.append("NOT_" + plain)
        else:
            words.append(plain)
        if lexicon is not None:
            valence = lexicon.get(plain)
            if valence is not None:
                if negated or words[-1].startswith("NOT_"):
                    valence = -0.5 * valence
                if valence > 0:
                    lex_pos += valence
                else:
                    lex_neg -= valence
    padded = ["<" + t + ">" for t in raw_tokens if len(t) > 2 and t[0].isalnum()]
    present = ["bias"]
    present += ["w:" + w for w in words]
    present += ["b:" + a + " " + b for a, b in pairwise(words)]
    valued: dict[str, float] = {}
    if lexicon is not None:
        if lex_pos or lex_neg:
            valued["lex:pos"] = min(lex_pos, 8.0) / 4.0
            valued["lex:neg"] = min(lex_neg, 8.0) / 4.0
        else:
            present.append("lex:none")
    for cue, count in _cue_counts(normalized).items():
        valued[cue] = min(count, 3.0)
    if "?" in text:
        present.append("p:question")
    if "!" in text:
        present.append("p:exclaim")
    letters = len(_LETTER.findall(text))
    if letters > 8 and len(_UPPER.findall(text)) > 0.6 * letters:
        present.append("p:shouting")
    return present, padded, valued


def featurize(text: str, lexicon: Mapping[str, float] | None = None) -> dict[str, float]:
    """The sparse features of one message as a name -> value mapping (for training and learning)."""
    present, padded, valued = extract(text, lexicon)
    features = dict.fromkeys(present, 1.0)
    for word in padded:
        for gram in char_grams(word):
            features[gram] = features.get(gram, 0.0) + 1.0
    features.update(valued)
    return features
