"""A phone number's self-service menu: its definition, validated, and the step from one input to the next.

A definition (JSON, stored in PhoneMenu.definition):

    {
      "greeting": "Thanks for calling Acme.",
      "languages": [                                  optional: asked first when there are two or more
        {"key": "1", "code": "en", "label": "English", "say": "en-US", "prompt": "For English, press 1."},
        {"key": "2", "code": "es", "label": "Español", "say": "es-ES", "prompt": "Para español, pulse 2."}
      ],
      "prompt": "For billing press 1 or say billing. For our hours press 2. For a person press 0.",
      "options": [
        {"key": "1", "keywords": ["billing", "invoice"], "action": "queue", "label": "Billing",
         "team": "billing", "skills": ["Billing"]},
        {"key": "2", "keywords": ["hours"], "action": "hours"},
        {"key": "3", "keywords": ["delivery"], "action": "answer", "text": "Orders ship within two days."},
        {"key": "4", "keywords": ["password"], "action": "answer", "article": 12}   read from a live public
      ],                                                                             knowledge base article
      "hours_message": "We answer the phone from 8 to 6, Monday to Friday.",
      "calendar": "Office hours",                    optional: a business calendar (the SLA app's);
      "closed_message": "We are closed right now.",  outside its hours callers hear this and leave a
                                                     message, which becomes a conversation
      "human": {"team": "support", "skills": []},    the queue 0 and "agent" go to
      "timeout_seconds": 5
    }

0, or saying "agent" (or "operator", "person", "human", "representative"), goes to the human queue from
any step; so does a caller who gives no or an invalid answer twice in a row: nobody is trapped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from firstring.lib.errors import InvalidInput

HUMAN_KEY = "0"
HUMAN_WORDS = ("agent", "operator", "person", "human", "representative")
ACTIONS = ("queue", "answer", "hours")
OPTION_KEYS = tuple("123456789*#")
MAX_TEXT = 1000
# An input nobody understood is repeated once; the second miss in a row goes to a person.
MISSES_BEFORE_HUMAN = 2
CLOSED_MESSAGE = "We are closed right now. Please leave a message after the tone and we will call you back."

DEFAULT_MENU: dict[str, Any] = {
    "greeting": "Thank you for calling.",
    "prompt": "To speak to a person, press 0 or say agent.",
    "options": [],
    "human": {},
}


@dataclass(frozen=True)
class Queue:
    """Where a call waits: a team (by slug, "" for the number's own team) and skills (by name)."""

    label: str
    team: str = ""
    skills: tuple[str, ...] = ()


@dataclass(frozen=True)
class Step:
    """What the menu does after an input: say something, then ask again or queue the call."""

    state: dict[str, Any]
    say: list[str] = field(default_factory=list)
    queue: Queue | None = None
    # What the input was taken as, for the call's menu path ("" when nothing was chosen).
    chose: str = ""
    language: str = ""
    # A knowledge base article whose short answer is to be said (read when the call gets there).
    article: int | None = None


def _storable(value: str, where: str) -> None:
    if "\x00" in value:
        raise InvalidInput(f"{where} may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"{where} must be valid Unicode (no lone surrogates)") from None


def _text(value: object, where: str, *, required: bool = True) -> str:
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidInput(f"{where} must be a non-empty text")
    if len(value) > MAX_TEXT:
        raise InvalidInput(f"{where} is longer than {MAX_TEXT} characters")
    _storable(value, where)
    return value.strip()


def _words(value: object, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(word, str) and word.strip() for word in value):
        raise InvalidInput(f"{where} must be a list of words")
    for word in value:
        _storable(word, where)
    return [word.strip().lower()[:100] for word in value]


def menu_validate(
    definition: object,
    *,
    teams: set[str] | None = None,
    skills: set[str] | None = None,
    calendars: set[str] | None = None,
    articles: set[int] | None = None,
) -> dict[str, Any]:
    """The definition in canonical form, or InvalidInput (422) saying what is wrong and where.

    `teams` (slugs) and `skills` (names, lower case), when given, are what queues may name;
    `calendars` (names) what the menu's calendar may be, `articles` (ids) what answers may read out.
    """
    if not isinstance(definition, dict):
        raise InvalidInput("the menu must be a JSON object")
    unknown = set(definition) - {
        "greeting",
        "languages",
        "prompt",
        "options",
        "hours_message",
        "calendar",
        "closed_message",
        "human",
        "timeout_seconds",
    }
    if unknown:
        raise InvalidInput(f"unknown menu fields: {', '.join(sorted(unknown))}")
    menu: dict[str, Any] = {
        "greeting": _text(definition.get("greeting"), "greeting"),
        "prompt": _text(definition.get("prompt"), "prompt"),
        "hours_message": _text(definition.get("hours_message"), "hours_message", required=False),
        "calendar": _text(definition.get("calendar"), "calendar", required=False),
        "closed_message": _text(definition.get("closed_message"), "closed_message", required=False)
        or CLOSED_MESSAGE,
    }
    if menu["calendar"] and calendars is not None and menu["calendar"] not in calendars:
        raise InvalidInput(f"calendar: no business calendar is named {menu['calendar']!r}")
    timeout = definition.get("timeout_seconds", 5)
    if type(timeout) is not int or not 1 <= timeout <= 30:
        raise InvalidInput("timeout_seconds must be a whole number from 1 to 30")
    menu["timeout_seconds"] = timeout

    languages = definition.get("languages") or []
    if not isinstance(languages, list):
        raise InvalidInput("languages must be a list")
    menu["languages"] = []
    for index, language in enumerate(languages):
        where = f"languages[{index}]"
        if not isinstance(language, dict):
            raise InvalidInput(f"{where} must be an object")
        key = language.get("key")
        if key not in OPTION_KEYS:
            raise InvalidInput(f"{where}.key must be one of {' '.join(OPTION_KEYS)} (0 is the human queue)")
        code = _text(language.get("code"), f"{where}.code")
        if not re.fullmatch(r"[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})?", code):
            raise InvalidInput(f"{where}.code must be a language code such as en or pt-BR")
        menu["languages"].append(
            {
                "key": key,
                "code": code.lower(),
                "label": _text(language.get("label"), f"{where}.label"),
                "say": _text(language.get("say"), f"{where}.say", required=False) or code,
                "prompt": _text(language.get("prompt"), f"{where}.prompt", required=False),
            }
        )
    _unique([lang["key"] for lang in menu["languages"]], "language keys")

    options = definition.get("options") or []
    if not isinstance(options, list):
        raise InvalidInput("options must be a list")
    menu["options"] = []
    for index, option in enumerate(options):
        where = f"options[{index}]"
        if not isinstance(option, dict):
            raise InvalidInput(f"{where} must be an object")
        key = option.get("key")
        if key == HUMAN_KEY:
            raise InvalidInput(f"{where}.key: 0 always goes to a person and cannot be given to an option")
        if key not in OPTION_KEYS:
            raise InvalidInput(f"{where}.key must be one of {' '.join(OPTION_KEYS)}")
        action = option.get("action")
        if action not in ACTIONS:
            raise InvalidInput(f"{where}.action must be one of {', '.join(ACTIONS)}")
        keywords = _words(option.get("keywords"), f"{where}.keywords")
        reserved = [word for word in keywords if word in HUMAN_WORDS]
        if reserved:
            raise InvalidInput(f"{where}.keywords: {reserved[0]!r} always goes to a person")
        canonical: dict[str, Any] = {
            "key": key,
            "action": action,
            "keywords": keywords,
            "label": _text(option.get("label"), f"{where}.label", required=False) or f"option {key}",
        }
        if action == "answer" and "article" in option:
            article = option["article"]
            if type(article) is not int or article < 1:
                raise InvalidInput(f"{where}.article must be an article id")
            if articles is not None and article not in articles:
                raise InvalidInput(f"{where}.article: article {article} is not a published public article")
            canonical["article"] = article
        elif action == "answer":
            canonical["text"] = _text(option.get("text"), f"{where}.text")
        if action == "hours" and not menu["hours_message"]:
            raise InvalidInput(f"{where}: an hours option needs the menu's hours_message")
        if action == "queue":
            canonical.update(_queue(option, where, teams, skills))
        menu["options"].append(canonical)
    _unique([option["key"] for option in menu["options"]], "option keys")
    _unique([word for option in menu["options"] for word in option["keywords"]], "option keywords")
    human = definition.get("human") or {}
    if not isinstance(human, dict):
        raise InvalidInput("human must be an object")
    menu["human"] = _queue(human, "human", teams, skills)
    return menu


def _queue(
    option: dict[str, Any], where: str, teams: set[str] | None, skills: set[str] | None
) -> dict[str, Any]:
    team = option.get("team") or ""
    if not isinstance(team, str) or len(team) > 100 or (team and teams is not None and team not in teams):
        raise InvalidInput(f"{where}.team: no team with the slug {team!r}")
    names = option.get("skills") or []
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise InvalidInput(f"{where}.skills must be a list of skill names")
    for name in names:
        _storable(name, f"{where}.skills")
        if skills is not None and name.lower() not in skills:
            raise InvalidInput(f"{where}.skills: no skill named {name!r}")
    return {"team": team, "skills": names}


def _unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise InvalidInput(f"{what} must be unique: {value!r} is used twice")
        seen.add(value)


def menu_start(menu: dict[str, Any]) -> Step:
    """The first step of a call: the greeting, then the language question or the main prompt."""
    stage = "language" if len(menu.get("languages", [])) > 1 else "main"
    return Step(state={"stage": stage, "step": 1, "misses": 0}, say=[menu["greeting"]])


def menu_prompt(menu: dict[str, Any], state: dict[str, Any]) -> str:
    if state.get("stage") == "language":
        return " ".join(
            lang["prompt"] or f"For {lang['label']}, press {lang['key']}." for lang in menu["languages"]
        )
    return str(menu["prompt"])


def human_queue(menu: dict[str, Any]) -> Queue:
    human = menu.get("human") or {}
    return Queue(label="agent", team=human.get("team", ""), skills=tuple(human.get("skills", ())))


def _said(speech: str) -> set[str]:
    return set(re.findall(r"\w+", speech.lower()))


def menu_next(menu: dict[str, Any], state: dict[str, Any], *, digits: str = "", speech: str = "") -> Step:
    """The step after the caller pressed `digits` or said `speech` (both empty: they said nothing)."""
    digits = digits.strip()[:20]
    words = _said(speech[:500])
    following = {**state, "step": int(state.get("step", 1)) + 1, "misses": 0}
    if digits == HUMAN_KEY or words & set(HUMAN_WORDS):
        return Step(state={**following, "stage": "done"}, queue=human_queue(menu), chose="agent")
    if state.get("stage") == "language":
        for lang in menu["languages"]:
            if digits == lang["key"] or (not digits and words & _said(f"{lang['label']} {lang['code']}")):
                return Step(state={**following, "stage": "main"}, chose=lang["code"], language=lang["code"])
    else:
        for option in menu["options"]:
            if digits == option["key"] or (not digits and words & set(option["keywords"])):
                return _chosen(menu, option, following)
    misses = int(state.get("misses", 0)) + 1
    if misses >= MISSES_BEFORE_HUMAN:
        return Step(
            state={**following, "stage": "done"},
            say=["Let me put you through to a person."],
            queue=human_queue(menu),
            chose="agent (no valid input)",
        )
    sorry = "Sorry, I did not get that." if digits or words else "Sorry, I did not hear anything."
    return Step(state={**state, "step": following["step"], "misses": misses}, say=[sorry])


def _chosen(menu: dict[str, Any], option: dict[str, Any], state: dict[str, Any]) -> Step:
    if option["action"] == "queue":
        queue = Queue(label=option["label"], team=option["team"], skills=tuple(option["skills"]))
        return Step(state={**state, "stage": "done"}, queue=queue, chose=option["label"])
    if "article" in option:
        return Step(state=state, chose=option["label"], article=option["article"])
    text = option["text"] if option["action"] == "answer" else menu["hours_message"]
    return Step(state=state, say=[text], chose=option["label"])
