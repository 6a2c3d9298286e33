"""Twilio Programmable Voice: signed webhooks answered with TwiML, and the REST API to bridge calls.

The documented sequence for one inbound call, each a form POST signed with X-Twilio-Signature:

  incoming     the number's voice URL (CallSid, From, To, CallStatus=ringing): greeting and menu <Gather>
  menu?step=N  the <Gather> action (Digits or SpeechResult), or the <Redirect> after it when the caller
               said nothing: the next prompt, an answer, or <Enqueue> for a person
  wait         the <Enqueue> waitUrl, requested again each time its TwiML ends while the caller waits:
               position and expected wait, hold message and music, inside a <Gather> for the callback key
  callback     that <Gather>'s action (Digits): * asks for a callback, and the caller <Leave>s the queue
  left         the <Enqueue> action when the caller leaves the queue (QueueResult: hangup, leave …)
  connect      where the REST API redirects the call when an agent accepts: <Dial> to their line
  agent        the dialled line's status callback (answered): the caller's wait ends
  dialed       the <Dial> action (DialCallStatus, DialCallDuration): over (a survey <Gather> when the
               surveys app asks one), or back to the queue
  survey       that <Gather>'s action (Digits): the caller's score, taken by the surveys app
  recording, transcription   a voicemail's recording and transcription callbacks
  status       the call's status callback (CallStatus completed, busy, failed, no-answer, canceled)

A callback, when an agent accepts it: the REST API calls the agent's line (Calls.json), then
  ring-back        that call's Url, fetched when the agent answers: <Dial> to the caller's number
  ring-back-status that call's status callback: a line that did not answer puts the callback back in line
  agent, dialed    as above, for the caller's leg and the agent's <Dial>
Escalation on a live call: the REST API redirects the dialled leg to `conference`, the other leg's <Dial>
ends and its action (`dialed`) joins it to the same <Conference>, and the manager's line is called into it.
Hooks about a call other than the caller's leg name it in the (signed) query: ?call=<the caller's CallSid>.

A request without a valid signature gets 403 and stores nothing; a redelivered webhook changes nothing.
Signatures are checked and the REST client is made as for Twilio's messaging (channels/twilio): the
channel's auth_token (or previous_auth_token during a rotation), an API key for REST calls if set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from twilio.base.exceptions import TwilioException
from twilio.request_validator import SIGNATURE_HEADER
from twilio.rest import Client
from twilio.twiml.voice_response import Dial, Enqueue, Gather, VoiceResponse

from firstring.accounts.models import User
from firstring.channels.models import Channel
from firstring.channels.registry import answer_taken, survey_question
from firstring.channels.twilio.client import MissingCredentials, rest_client
from firstring.channels.twilio.views import signature_valid
from firstring.customers.identities import IdentityClaim
from firstring.customers.models import Identity
from firstring.lib.errors import DomainError, InvalidInput
from firstring.voice import services
from firstring.voice.gateway import GatewayError
from firstring.voice.menu import Step, menu_prompt
from firstring.voice.models import AgentLine, Call
from firstring.voice.selectors import queue_position

logger = logging.getLogger(__name__)

PROVIDER = "twilio"
VOICEMAIL_MAX_SECONDS = 120
CALLBACK_KEY = "*"
FINAL_STATUSES = ("completed", "busy", "failed", "no-answer", "canceled")


def hook_url(channel: Channel, name: str, **query: object) -> str:
    """The public URL of one of the channel's webhooks, as Twilio is told it (and signs it)."""
    path = reverse(f"phone:twilio-{name}", args=[channel.slug])
    suffix = f"?{urlencode(query)}" if query else ""
    return f"{settings.SITE_URL.rstrip('/')}{path}{suffix}"


def setup_details(channel: Channel) -> str:
    """The URLs to give Twilio for this number (shown on the channel's admin page)."""
    return (
        f"A call comes in (Webhook, HTTP POST): {hook_url(channel, 'incoming')}\n"
        f"Call status changes (HTTP POST): {hook_url(channel, 'status')}"
    )


class TwilioGateway:
    provider = PROVIDER

    def bridge(self, *, call: Call, agent: User, line: AgentLine) -> None:
        """Take the caller out of the queue: Twilio fetches the <Dial> to the agent from `connect`."""
        url = hook_url(call.channel, "connect", agent=agent.pk)
        try:
            _rest(call.channel).calls(call.external_id).update(url=url, method="POST")
        except (TwilioException, OSError) as error:
            raise GatewayError(f"Twilio refused to redirect the call: {error}") from error

    def call_back(self, *, call: Call, agent: User, line: AgentLine) -> str:
        """Call the agent's line from the number; when they answer, `ring-back` dials the caller."""
        channel = call.channel
        try:
            created = _rest(channel).calls.create(
                to=_address(line),
                from_=_number(channel),
                url=hook_url(channel, "ring-back", call=call.external_id),
                method="POST",
                status_callback=hook_url(channel, "ring-back-status", call=call.external_id),
                status_callback_method="POST",
                timeout=_ring_seconds(channel),
            )
        except (TwilioException, OSError) as error:
            raise GatewayError(f"Twilio refused to call the agent: {error}") from error
        return str(created.sid)

    def conference(self, *, call: Call, leg: str, manager: User, line: AgentLine) -> None:
        """Call the manager's line into the conference, then redirect the dialled leg into it (the
        dialling leg follows from `dialed`). A manager's call Twilio refuses moves nothing."""
        channel = call.channel
        client = _rest(channel)
        try:
            client.calls.create(
                to=_address(line),
                from_=_number(channel),
                url=hook_url(channel, "conference", call=call.external_id, manager=manager.pk),
                method="POST",
                timeout=_ring_seconds(channel),
            )
            client.calls(leg).update(
                url=hook_url(channel, "conference", call=call.external_id), method="POST"
            )
        except (TwilioException, OSError) as error:
            raise GatewayError(f"Twilio refused to move the call into a conference: {error}") from error


def _rest(channel: Channel) -> Client:
    try:
        return rest_client(channel)
    except MissingCredentials as error:
        raise GatewayError(str(error)) from error


def _number(channel: Channel) -> str:
    """The number calls are placed from: the channel's own."""
    number = str(channel.config.get("number") or "")
    if not number:
        raise GatewayError(f"channel {channel.slug} has no number to call from (config number)")
    return number


def _address(line: AgentLine) -> str:
    return line.number or f"client:{line.client}"


def _ring_seconds(channel: Channel) -> int:
    return _int(str(channel.config.get("ring_seconds", 20))) or 20


def _twiml(response: VoiceResponse) -> HttpResponse:
    return HttpResponse(str(response), content_type="text/xml")


def _error(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


def _int(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


View = Callable[[HttpRequest, Channel], HttpResponse]


def _signed(view: View) -> Callable[[HttpRequest, str], HttpResponse]:
    @csrf_exempt
    @require_POST
    def wrapped(request: HttpRequest, slug: str) -> HttpResponse:
        # With its menu: the TwiML of most webhooks reads it.
        channel = (
            Channel.objects.filter(slug=slug, kind="phone", enabled=True).select_related("phone_menu").first()
        )
        try:
            if channel is None or not signature_valid(request, channel):
                logger.warning("Twilio voice webhook for %r refused: no valid %s", slug, SIGNATURE_HEADER)
                return _error(403, f"a valid {SIGNATURE_HEADER} header is required")
        except RequestDataTooBig:
            return _error(413, "the request body is too large")
        try:
            if not request.POST.get("CallSid"):
                raise InvalidInput("CallSid is required")
            if any("\x00" in value for values in request.POST.lists() for value in values[1]):
                raise InvalidInput("parameters may not contain NUL characters")
            return view(request, channel)
        except DomainError as error:
            logger.warning("Twilio voice webhook for %s refused: %s", slug, error)
            return _error(error.status_code, str(error))

    return wrapped


def _call(request: HttpRequest, channel: Channel, param: str = "CallSid") -> Call | None:
    """The call a webhook is about: named in our own signed query (?call=), else by Twilio's `param`."""
    sid = request.GET.get("call") or request.POST.get(param, "")
    call = Call.objects.filter(channel=channel, external_id=sid).first()
    if call is not None:
        call.channel = channel  # the one loaded with its menu, not a second query
    return call


def _language(call: Call) -> str:
    menu = services.phone_menu_for(call.channel)
    for lang in menu.get("languages", []):
        if lang["code"] == call.language:
            return str(lang["say"])
    return ""


def _say(response: VoiceResponse | Gather, text: str, language: str) -> None:
    if language:
        response.say(text, language=language)
    else:
        response.say(text)


def _menu_twiml(call: Call, step: Step) -> VoiceResponse:
    """Say what the step says, then ask the current prompt (or queue the call)."""
    response = VoiceResponse()
    language = _language(call)
    for text in step.say:
        _say(response, text, language)
    if call.status == Call.Status.QUEUED:
        return _enqueue(response, call)
    if call.status == Call.Status.VOICEMAIL:
        return _record_voicemail(response, call.channel)
    if call.status != Call.Status.MENU:
        response.hangup()
        return response
    menu = services.phone_menu_for(call.channel)
    state = call.menu_state
    number = int(state.get("step", 1))
    keywords = [word for option in menu.get("options", []) for word in option.get("keywords", [])]
    gather = Gather(
        input="dtmf speech",
        num_digits=1,
        timeout=int(menu.get("timeout_seconds", 5)),
        action=hook_url(call.channel, "menu", step=number),
        method="POST",
        hints=", ".join([*keywords, "agent"]),
        action_on_empty_result=False,
        **({"language": language} if language else {}),
    )
    _say(gather, menu_prompt(menu, state), language)
    response.append(gather)
    # No answer: Twilio goes on to the next verb, which reports the timeout.
    response.redirect(hook_url(call.channel, "menu", step=number), method="POST")
    return response


def _enqueue(response: VoiceResponse, call: Call) -> VoiceResponse:
    response.append(
        Enqueue(
            f"firstring-{call.channel.slug}",
            action=hook_url(call.channel, "left"),
            method="POST",
            wait_url=hook_url(call.channel, "wait"),
            wait_url_method="POST",
        )
    )
    return response


@_signed
def incoming(request: HttpRequest, channel: Channel) -> HttpResponse:
    call, step = services.call_incoming(
        channel=channel,
        provider=PROVIDER,
        external_id=request.POST["CallSid"],
        caller=request.POST.get("From", "")[:64],
        called=request.POST.get("To", "")[:64],
    )
    return _twiml(_menu_twiml(call, step or Step(state=call.menu_state)))


@_signed
def menu(request: HttpRequest, channel: Channel) -> HttpResponse:
    call = _call(request, channel)
    if call is None:
        raise InvalidInput("no such call on this number")
    step = services.call_menu_input(
        call=call,
        step=_int(request.GET.get("step")),
        digits=request.POST.get("Digits", ""),
        speech=request.POST.get("SpeechResult", ""),
    )
    call.refresh_from_db()
    call.channel = channel
    return _twiml(_menu_twiml(call, step))


@_signed
def wait(request: HttpRequest, channel: Channel) -> HttpResponse:
    call = _call(request, channel)
    response = VoiceResponse()
    if call is None or call.status != Call.Status.QUEUED:
        response.pause(length=2)
        return _twiml(response)
    language = _language(call)
    limit = _int(str(channel.config.get("voicemail_after_seconds", 300)))
    if limit and _int(request.POST.get("QueueTime")) >= limit:
        response.leave()  # the <Enqueue> action offers voicemail
        return _twiml(response)
    where = queue_position(call)
    minutes = max(1, round(where.expected_wait_seconds / 60))
    # The whole turn is one <Gather>, so the callback key is heard whenever it is pressed; when the turn
    # ends, Twilio requests this URL again and the caller hears where they stand now.
    gather = Gather(
        input="dtmf", num_digits=1, timeout=1, action=hook_url(channel, "callback"), method="POST"
    )
    _say(
        gather,
        f"You are number {where.position} in line. The expected wait is about "
        f"{minutes} minute{'s' if minutes != 1 else ''}.",
        language,
    )
    if call.caller.startswith("+"):
        _say(gather, "To be called back without losing your place in line, press star.", language)
    if channel.config.get("hold_message"):
        _say(gather, str(channel.config["hold_message"]), language)
    music = channel.config.get("hold_music_url")
    if music:
        gather.play(str(music))
    else:
        gather.pause(length=15)
    response.append(gather)
    return _twiml(response)


@_signed
def callback(request: HttpRequest, channel: Channel) -> HttpResponse:
    call = _call(request, channel)
    response = VoiceResponse()
    if call is not None and request.POST.get("Digits", "") == CALLBACK_KEY:
        call = services.call_callback_request(call=call)
    if call is not None and call.status == Call.Status.CALLBACK:
        response.leave()  # the <Enqueue> action (`left`) says goodbye
        return _twiml(response)
    # Any other key, or a caller who cannot be rung back: keep waiting.
    response.redirect(hook_url(channel, "wait"), method="POST")
    return _twiml(response)


@_signed
def left(request: HttpRequest, channel: Channel) -> HttpResponse:
    call = _call(request, channel)
    result = request.POST.get("QueueResult", "")
    response = VoiceResponse()
    if call is None:
        response.hangup()
        return _twiml(response)
    if result == "hangup":
        services.call_ended(call=call, reason="caller hung up in the queue")
    elif result == "leave" and call.status == Call.Status.CALLBACK:
        _say(
            response,
            "Thank you. We will call you back on this number when it is your turn. Goodbye.",
            _language(call),
        )
        response.hangup()
    elif result == "leave":
        services.call_voicemail(call=call, reason="waited too long")
        response.say("Nobody can take your call right now. Please leave a message after the tone.")
        _record_voicemail(response, channel)
    return _twiml(response)


def _record_voicemail(response: VoiceResponse, channel: Channel) -> VoiceResponse:
    """Record the caller's message; its transcript becomes their message in the conversation."""
    response.record(
        max_length=VOICEMAIL_MAX_SECONDS,
        play_beep=True,
        transcribe=True,
        transcribe_callback=hook_url(channel, "transcription"),
        recording_status_callback=hook_url(channel, "recording"),
        recording_status_callback_method="POST",
        action=hook_url(channel, "status"),
        method="POST",
    )
    return response


@_signed
def connect(request: HttpRequest, channel: Channel) -> HttpResponse:
    call = _call(request, channel)
    response = VoiceResponse()
    line = AgentLine.objects.filter(user_id=_int(request.GET.get("agent"))).first()
    if call is None or line is None or call.status != Call.Status.CONNECTING or call.agent_id != line.user_id:
        response.say("Sorry, the call could not be connected.")
        response.hangup()
        return _twiml(response)
    dial = Dial(
        action=hook_url(channel, "dialed"),
        method="POST",
        timeout=_ring_seconds(channel),
        caller_id=call.caller if call.caller.startswith("+") else None,
    )
    callback = {
        "status_callback_event": "answered",
        "status_callback": hook_url(channel, "agent"),
        "status_callback_method": "POST",
    }
    if line.number:
        dial.number(line.number, **callback)
    else:
        dial.client(line.client, **callback)
    response.append(dial)
    return _twiml(response)


@_signed
def agent(request: HttpRequest, channel: Channel) -> HttpResponse:
    call = _call(request, channel, "ParentCallSid")
    if call is not None and request.POST.get("CallStatus") in ("in-progress", "answered"):
        services.call_answered(call=call, leg=request.POST["CallSid"])
    return HttpResponse(status=204)


@_signed
def ring_back(request: HttpRequest, channel: Channel) -> HttpResponse:
    """The agent answered the callback's call to their line: now the caller's number rings."""
    call = _call(request, channel)
    response = VoiceResponse()
    if call is None or call.status != Call.Status.CONNECTING or call.callback_requested_at is None:
        response.say("Sorry, this callback is no longer waiting.")
        response.hangup()
        return _twiml(response)
    services.call_ring_caller(call=call)
    response.say("Calling the customer back.")
    dial = Dial(
        action=hook_url(channel, "dialed", call=call.external_id),
        method="POST",
        timeout=_ring_seconds(channel),
        caller_id=str(channel.config.get("number") or "") or None,
    )
    dial.number(
        call.caller,
        status_callback_event="answered",
        status_callback=hook_url(channel, "agent", call=call.external_id),
        status_callback_method="POST",
    )
    response.append(dial)
    return _twiml(response)


@_signed
def ring_back_status(request: HttpRequest, channel: Channel) -> HttpResponse:
    """The status callback of the agent's leg of a callback."""
    call = _call(request, channel)
    state = request.POST.get("CallStatus", "")
    if call is not None and state == "completed":
        services.call_ended(call=call, reason="completed")
    elif call is not None and state in FINAL_STATUSES:
        # The agent's line did not answer: the callback waits for the next agent.
        services.call_requeue(call=call, reason=f"the agent's line said {state}")
    return HttpResponse(status=204)


@_signed
def conference(request: HttpRequest, channel: Channel) -> HttpResponse:
    """A leg joins the call's conference: the caller, the agent, or the manager brought in."""
    call = _call(request, channel)
    response = VoiceResponse()
    if call is None or not call.conference or call.status != Call.Status.IN_PROGRESS:
        response.say("Sorry, this call has ended.")
        response.hangup()
        return _twiml(response)
    if request.GET.get("manager"):
        response.say("Joining the call with the customer and the agent.")
    return _twiml(_join_conference(response, call))


def _join_conference(response: VoiceResponse, call: Call) -> VoiceResponse:
    dial = Dial()
    # Anyone may leave: the others go on talking, and the call ends with its last leg.
    dial.conference(call.conference, start_conference_on_enter=True, end_conference_on_exit=False, beep=True)
    response.append(dial)
    return response


@_signed
def dialed(request: HttpRequest, channel: Channel) -> HttpResponse:
    call = _call(request, channel)
    response = VoiceResponse()
    if call is None:
        response.hangup()
        return _twiml(response)
    outcome = request.POST.get("DialCallStatus", "")
    if call.conference and call.status == Call.Status.IN_PROGRESS:
        # An escalation moved the dialled leg into the conference: this leg joins it.
        return _twiml(_join_conference(response, call))
    callback = call.callback_requested_at is not None
    if outcome == "completed" or call.status == Call.Status.IN_PROGRESS:
        services.call_ended(
            call=call, reason="completed", talk_seconds=_int(request.POST.get("DialCallDuration"))
        )
        # The agent hung up and the caller is still on the line: ask how it went, one key. (On a
        # callback the line left is the agent's.)
        question = "" if callback else survey_question(channel=channel, conversation_id=call.conversation_id)
        if question:
            gather = Gather(
                input="dtmf", num_digits=1, timeout=8, action=hook_url(channel, "survey"), method="POST"
            )
            gather.say(question)
            response.append(gather)
        response.hangup()
        return _twiml(response)
    if callback:
        services.call_ended(call=call, reason=f"callback: the customer's line said {outcome or 'nothing'}")
        response.say("The customer did not answer. The callback is closed.")
        response.hangup()
        return _twiml(response)
    call = services.call_requeue(call=call, reason=f"the agent's line said {outcome or 'nothing'}")
    if call.status == Call.Status.QUEUED:
        response.say("Sorry, please hold on for the next person.")
        return _twiml(_enqueue(response, call))
    response.hangup()
    return _twiml(response)


@_signed
def survey(request: HttpRequest, channel: Channel) -> HttpResponse:
    call = _call(request, channel)
    digits = request.POST.get("Digits", "")[:4]
    taken = (
        call is not None
        and bool(digits)
        and answer_taken(
            channel=channel,
            claim=IdentityClaim(Identity.Kind.PHONE, call.caller),
            text=digits,
            external_id=f"{call.external_id}:survey",
        )
    )
    response = VoiceResponse()
    response.say("Thank you for your feedback. Goodbye." if taken else "Goodbye.")
    response.hangup()
    return _twiml(response)


@_signed
def status(request: HttpRequest, channel: Channel) -> HttpResponse:
    call = _call(request, channel)
    state = request.POST.get("CallStatus", "")
    if call is not None and state in FINAL_STATUSES:
        services.call_ended(call=call, reason=state)
    if call is not None and request.POST.get("RecordingUrl") and request.POST.get("RecordingSid"):
        services.call_recording(
            call=call,
            url=request.POST["RecordingUrl"],
            recording_id=request.POST["RecordingSid"],
            seconds=_int(request.POST.get("RecordingDuration")),
        )
    response = VoiceResponse()
    if state not in FINAL_STATUSES:
        response.say("Thank you. Goodbye.")
        response.hangup()
    return _twiml(response)


@_signed
def recording(request: HttpRequest, channel: Channel) -> HttpResponse:
    call = _call(request, channel)
    if call is None:
        raise InvalidInput("no such call on this number")
    if request.POST.get("RecordingStatus", "completed") == "completed" and request.POST.get("RecordingUrl"):
        services.call_recording(
            call=call,
            url=request.POST["RecordingUrl"],
            recording_id=request.POST.get("RecordingSid", ""),
            seconds=_int(request.POST.get("RecordingDuration")),
        )
    return HttpResponse(status=204)


@_signed
def transcription(request: HttpRequest, channel: Channel) -> HttpResponse:
    call = _call(request, channel)
    if call is None:
        raise InvalidInput("no such call on this number")
    sid = request.POST.get("TranscriptionSid", "") or request.POST.get("RecordingSid", "")
    if not sid:
        raise InvalidInput("TranscriptionSid is required")
    if request.POST.get("TranscriptionStatus", "completed") == "completed":
        services.call_transcript(
            call=call, text=request.POST.get("TranscriptionText", "")[:20_000], transcription_id=sid[:64]
        )
    return HttpResponse(status=204)


HOOKS: dict[str, Callable[[HttpRequest, str], HttpResponse]] = {
    "incoming": incoming,
    "menu": menu,
    "wait": wait,
    "callback": callback,
    "left": left,
    "connect": connect,
    "agent": agent,
    "ring-back": ring_back,
    "ring-back-status": ring_back_status,
    "conference": conference,
    "dialed": dialed,
    "survey": survey,
    "status": status,
    "recording": recording,
    "transcription": transcription,
}
