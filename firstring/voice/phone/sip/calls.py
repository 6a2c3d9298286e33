"""Calls through the SIP endpoint: the same services, menu and queue as a Twilio call, spoken over RTP.

An INVITE to one of our numbers is answered at once (100, then 200 with our SDP) from a directory of the
numbers and their menus kept in memory (refreshed every few seconds), so answering never waits on the
database; the greeting starts playing while `call_incoming` records the call. Then the caller walks the
PhoneMenu exactly as on Twilio (`call_menu_input` with one key or one spoken keyword at a time, see
speech.py; the prompt repeated after `timeout_seconds` of silence, a key or a keyword over a prompt
cutting it short), and is queued for the router. A voicemail's words are found by a background task
(`sip_voicemail_transcribe`).

The router's decision reaches this process through the database: an accepted offer moves the call to
`connecting` (`call_bridge`, in whichever process accepted it), and the endpoint, watching its waiting
callers, INVITEs the agent's SIP URI (AgentLine.sip_uri) and relays RTP between the two legs (a B2BUA).
An agent who does not answer within the number's `ring_seconds` or refuses puts the caller back in line.
An escalation of a talking call (an ESCALATED event naming a manager) rings the manager's SIP URI the same
way, and the three legs are mixed (each hears the other two). When the agent and manager have hung up,
the caller is asked the surveys app's question, as on Twilio.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from firstring.lib.speech import UNRECOGNISED
from firstring.voice.menu import menu_prompt
from firstring.voice.phone.sip import PROVIDER
from firstring.voice.phone.sip.message import Message, SipParseError, parse_uri, response, uri_of
from firstring.voice.phone.sip.recordings import beep, recording_path, write_wav
from firstring.voice.phone.sip.rtp import Mixer, RtpLeg, open_leg
from firstring.voice.phone.sip.sdp import DEFAULT_EVENT_PT, Media, describe, parse_offer
from firstring.voice.phone.sip.server import Address, Dialog, ServerInvite, SipServer, token
from firstring.voice.phone.sip.speech import Listener, menu_words

if TYPE_CHECKING:
    from firstring.voice.phone.sip.endpoint import Endpoint, Number

logger = logging.getLogger("firstring.voice.phone.sip")

POSITION_EVERY_SECONDS = 30.0
CANCEL_GRACE_SECONDS = 2.0
SURVEY_SECONDS = 8.0  # as long as Twilio's <Gather> for the survey key
HOLD_MESSAGE = "Please hold, the next available person will take your call."
SORRY_NOBODY = "Sorry, please hold on for the next person."
GOODBYE = "Thank you for calling. Goodbye."
NOBODY_CAN = "Nobody can take your call right now. Please leave a message after the tone."
CALLBACK_KEY = "*"
CALLBACK_OFFER = "To be called back without losing your place in line, press star."
CALLBACK_TAKEN = "We will call you back when it is your turn. Goodbye."
VOICEMAIL_MAX_SECONDS = 120.0  # as long as the Twilio adapter records


def external_id_for(call_id: str) -> str:
    """The Call's external id: the SIP Call-ID, or a digest of it when it is long or odd."""
    if len(call_id) <= 60 and call_id.isprintable():
        return f"sip:{call_id}"
    return "sip:" + hashlib.sha256(call_id.encode()).hexdigest()[:40]


@dataclass
class Staff:
    """A leg of ours to an agent's or a manager's SIP phone, once answered."""

    role: str  # "agent" or "manager"
    user_id: int
    dialog: Dialog
    leg: RtpLeg


class InboundCall:
    def __init__(self, endpoint: Endpoint, number: Number, transaction: ServerInvite) -> None:
        self.endpoint = endpoint
        self.number = number
        self.menu = number.menu
        self.transaction = transaction
        self.request = transaction.request
        self.external_id = external_id_for(self.request.call_id)
        self.label = self.request.call_id[:40]
        self.dialog: Dialog | None = None
        self.leg: RtpLeg | None = None
        self.staff: list[Staff] = []  # the agent, and a manager brought in by an escalation
        self.mixer: Mixer | None = None
        self.escalations: set[int] = set()  # the ESCALATED events already acted on
        self.recording: bytearray | None = None  # a voicemail being recorded
        self.call: Any = None  # the voice.Call, once recorded
        self.language = ""
        self.keys: asyncio.Queue[str] = asyncio.Queue(maxsize=32)
        self.heard: asyncio.Queue[str] = asyncio.Queue(maxsize=8)  # keywords the caller said
        self.listener: Listener | None = None
        self.words: tuple[str, ...] = ()  # what the menu can take by voice at this step
        self.deciding = 0  # utterances being recognised
        self.speaking: asyncio.Task[None] | None = None
        self.accepted: asyncio.Future[int] | None = None
        self.flow: asyncio.Task[None] | None = None
        self.answered_at = 0.0
        self.over = False

    # Signalling --------------------------------------------------------------------------------------

    async def answer(self, media: Media) -> None:
        endpoint = self.endpoint
        self.leg = await open_leg(host=endpoint.media_host, name=f"call {self.label}", on_digit=self.pressed)
        self.leg.remote = (media.host, media.port)
        self.leg.event_pt = media.event_pt
        sdp = describe(
            host=endpoint.media_host, port=self.leg.port, session=int(time.time()), event_pt=media.event_pt
        )
        self.dialog = endpoint.server.accept(self.transaction, sdp)
        endpoint.by_invite.pop(self.request.branch, None)
        if self.dialog is None:
            self.leg.close()
            return
        self.answered_at = time.monotonic()
        endpoint.calls[(self.dialog.call_id, self.dialog.local_tag)] = self
        self.flow = endpoint.server.spawn(self.run())

    def cancelled(self) -> None:
        logger.info("call %s cancelled before it was answered", self.label)
        self.over = True

    def reinvite(self, dialog: Dialog, request: Message) -> Message:
        legs = [(self.dialog, self.leg)] + [(person.dialog, person.leg) for person in self.staff]
        leg = next((leg for known, leg in legs if known is dialog), None)
        if leg is None:
            return response(request, 481)
        return reoffer(self.endpoint, dialog, leg, request, f"call {self.label}")

    def pressed(self, key: str) -> None:
        if self.staff:
            return  # talking to a person: keys are theirs, not the menu's
        if key == CALLBACK_KEY and self.accepted is not None and self._can_be_called_back():
            self.endpoint.server.spawn(self._call_me_back())
            return
        if self.speaking is not None and not self.speaking.done():
            self.speaking.cancel()  # a key over a prompt answers it
        if not self.keys.full():
            self.keys.put_nowait(key)

    def _utterance(self, audio: bytes) -> None:
        self.deciding += 1
        self.endpoint.server.spawn(self._recognise(audio, self.words))

    async def _recognise(self, audio: bytes, words: tuple[str, ...]) -> None:
        try:
            said = await self.endpoint.recognizer.keyword(audio, words)
        except Exception:
            logger.exception("call %s: recognising speech failed", self.label)
            said = ""
        finally:
            self.deciding -= 1
        if not said or self.over or self.staff:
            return
        speaking = self.speaking if self.speaking is not None and not self.speaking.done() else None
        logger.info("call %s: heard %s%s", self.label, said, " over a prompt" if speaking else "")
        if speaking is not None:
            if said == UNRECOGNISED:
                return  # only a keyword talks over a prompt: a cough or a side remark does not
            speaking.cancel()
        if not self.heard.full():
            self.heard.put_nowait(said)

    def agent_accepted(self, agent_id: int) -> None:
        if self.accepted is not None and not self.accepted.done():
            self.accepted.set_result(agent_id)

    def hung_up(self, dialog: Dialog) -> None:
        """A BYE. From the caller: the call ends and our legs to the staff are hung up. From the agent or
        a manager: their leg leaves; when the last one has left, the caller is asked to rate the call (as
        on Twilio) before we hang up."""
        if self.over:
            return
        server = self.endpoint.server
        leaving = next((person for person in self.staff if person.dialog is dialog), None)
        if self.recording is not None:
            self.endpoint.server.spawn(self._keep_voicemail())  # hanging up ends a voicemail
        if leaving is not None:
            self.staff.remove(leaving)
            self.endpoint.calls.pop((dialog.call_id, dialog.local_tag), None)
            leaving.leg.close()
            self._connect_audio()
            logger.info("call %s: the %s hung up", self.label, leaving.role)
            if not self.staff:
                if self.flow is not None:
                    self.flow.cancel()
                self.flow = server.spawn(self._after_the_agent())
            return
        self.over = True
        for person in self.staff:
            server.spawn(server.bye(person.dialog))
        if self.flow is not None:
            self.flow.cancel()
        server.spawn(self._ended("caller hung up"))

    def _connect_audio(self) -> None:
        """Relay the caller and one person leg to leg; mix when a manager makes it three or more."""
        if self.mixer is not None:
            self.mixer.stop()
            self.mixer = None
        if self.leg is None:
            return
        if not self.staff:
            self.leg.on_audio = None
        elif len(self.staff) == 1:
            self.leg.on_audio = self.staff[0].leg.send
            self.staff[0].leg.on_audio = self.leg.send
        else:
            self.mixer = Mixer([self.leg, *(person.leg for person in self.staff)])

    async def _after_the_agent(self) -> None:
        """The agent hung up: the call is completed; one key rates it if the surveys app asks."""
        from firstring.voice.services import call_ended

        db = self.endpoint.db
        self.call = await db.run(call_ended, call=self.call, reason="completed")
        question = await db.run(_survey_question, self.number.channel_id, self.call.conversation_id)
        taken = False
        if question:
            while not self.keys.empty():
                self.keys.get_nowait()  # keys pressed while talking were the agent's business
            key = await self._ask(question, SURVEY_SECONDS)
            if key:
                taken = await db.run(_survey_answer, self.number.channel_id, self.call, key)
        await self.say(["Thank you for your feedback. Goodbye." if taken else "Goodbye."])
        await self.hang_up()

    async def _ended(self, why: str) -> None:
        from firstring.voice.models import Call
        from firstring.voice.services import call_ended

        self._close()
        if self.call is None:
            return
        status = await self.endpoint.db.run(lambda: Call.objects.get(pk=self.call.pk).status)
        if status in (Call.Status.QUEUED, Call.Status.CONNECTING):
            reason = "caller hung up in the queue"
        else:
            reason = "completed" if status in (Call.Status.MENU, Call.Status.IN_PROGRESS) else why
        ended = await self.endpoint.db.run(call_ended, call=self.call, reason=reason)
        if ended.outcome == Call.Outcome.ABANDONED:
            logger.info("call %s abandoned in the queue after %s s", self.label, ended.wait_seconds)
        else:
            logger.info("call %s ended (%s): %s", self.label, why, ended.outcome)

    def _close(self) -> None:
        endpoint = self.endpoint
        endpoint.waiting.pop(self.external_id, None)
        endpoint.talking.pop(self.external_id, None)
        if self.mixer is not None:
            self.mixer.stop()
        for dialog in (self.dialog, *(person.dialog for person in self.staff)):
            if dialog is not None:
                endpoint.calls.pop((dialog.call_id, dialog.local_tag), None)
        for leg in (self.leg, *(person.leg for person in self.staff)):
            if leg is not None:
                leg.close()

    async def hang_up(self) -> None:
        """We end the call (after a voicemail greeting or the survey, or a call ended elsewhere)."""
        if self.over or self.dialog is None:
            return
        self.over = True
        self._close()
        for person in self.staff:
            self.endpoint.server.spawn(self.endpoint.server.bye(person.dialog))
        await self.endpoint.server.bye(self.dialog)

    # The call's flow ---------------------------------------------------------------------------------

    async def say(self, texts: list[str]) -> None:
        """Say each text in turn; a key pressed meanwhile (see `pressed`) cuts the rest short."""
        assert self.leg is not None
        for text in texts:
            audio = await self.endpoint.prompts.audio(text, self.language)
            self.speaking = asyncio.ensure_future(self.leg.play(audio))
            try:
                await asyncio.shield(self.speaking)
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    self.speaking.cancel()  # this flow is being stopped (a hang-up): stop talking too
                    raise
                return  # a key cut the prompt short

    async def run(self) -> None:
        from firstring.voice.services import call_incoming

        request = self.request
        caller = uri_of(request.get("from"))
        try:
            caller_user = parse_uri(caller).user
        except SipParseError:
            caller_user = ""
        logger.info(
            "call %s from %s to %s answered", self.label, caller_user or "unknown", self.number.number
        )
        greeting = asyncio.ensure_future(self.say([self.menu["greeting"]]))
        try:
            self.call, step = await self.endpoint.db.run(
                _incoming,
                call_incoming,
                channel_id=self.number.channel_id,
                external_id=self.external_id,
                caller=caller_user,
                called=self.number.number,
            )
            await greeting
            if step is not None:
                await self.say([text for text in step.say if text != self.menu["greeting"]])
            await self._walk()
        except asyncio.CancelledError:
            greeting.cancel()
            raise
        except Exception:
            logger.exception("call %s failed; hanging up", self.label)
            await self.hang_up()
            if self.call is not None:
                from firstring.voice.services import call_ended

                await self.endpoint.db.run(call_ended, call=self.call, reason="failed")

    async def _walk(self) -> None:
        from firstring.voice.models import Call
        from firstring.voice.services import call_menu_input

        while not self.over:
            status = self.call.status
            if status == Call.Status.MENU:
                state = self.call.menu_state
                digits, speech = await self._answer(
                    menu_prompt(self.menu, state), menu_words(self.menu, state)
                )
                step = await self.endpoint.db.run(
                    _refreshed,
                    call_menu_input,
                    call=self.call,
                    step=int(state.get("step", 1)),
                    digits=digits,
                    speech=speech,
                )
                self.call, step = step
                if self.call.language:
                    self.language = _say_language(self.menu, self.call.language)
                await self.say(step.say)
            elif status == Call.Status.QUEUED:
                await self._wait_in_queue()
            elif status == Call.Status.VOICEMAIL:
                await self._voicemail()
                return
            else:
                await self.hang_up()
                return

    def _timeout(self) -> float:
        return float(self.menu.get("timeout_seconds", 5))

    async def _answer(self, prompt: str, words: tuple[str, ...]) -> tuple[str, str]:
        """Say a menu prompt, then wait for a key or an utterance: (digits, speech), ("", "") after the
        menu's timeout of silence. A caller still talking (or being understood) when it runs out is heard
        out."""
        assert self.leg is not None
        self.words = words
        if self.endpoint.recognizer.available:
            if self.listener is None:
                self.listener = Listener(self._utterance)
            self.leg.on_audio = self.listener.feed
        loop = asyncio.get_running_loop()
        try:
            if self.keys.empty() and self.heard.empty():
                await self.say([prompt])
            deadline = loop.time() + self._timeout()
            while True:
                key, said = asyncio.ensure_future(self.keys.get()), asyncio.ensure_future(self.heard.get())
                try:
                    await asyncio.wait(
                        {key, said}, timeout=max(0.0, deadline - loop.time()), return_when="FIRST_COMPLETED"
                    )
                finally:
                    key.cancel()
                    said.cancel()
                if key.done() and not key.cancelled():
                    if said.done() and not said.cancelled():
                        self.heard.put_nowait(said.result())  # both at once: the key first
                    return key.result(), ""
                if said.done() and not said.cancelled():
                    return "", said.result()
                if not (self.deciding or (self.listener is not None and self.listener.speaking)):
                    return "", ""
                deadline = loop.time() + 0.1
        finally:
            if self.listener is not None and self.leg.on_audio == self.listener.feed:
                self.leg.on_audio = None

    async def _ask(self, prompt: str, timeout: float) -> str:
        """Say the prompt (a key cuts it short), then wait for one key; "" after `timeout` of silence."""
        if self.keys.empty():
            await self.say([prompt])
        try:
            return await asyncio.wait_for(self.keys.get(), timeout)
        except TimeoutError:
            return ""

    async def _voicemail(self) -> None:
        """Record the caller's message after a tone, until they press # or hang up (or the time is up)."""
        assert self.leg is not None
        if self.call.queued_at is not None:  # closed hours said so already; a long wait did not
            await self.say([NOBODY_CAN])
        await self.leg.play(beep())
        while not self.keys.empty():
            self.keys.get_nowait()
        self.recording = bytearray()
        self.leg.on_audio = self.recording.extend
        with contextlib.suppress(TimeoutError):
            while await asyncio.wait_for(self.keys.get(), VOICEMAIL_MAX_SECONDS) != "#":
                pass
        self.leg.on_audio = None
        await self._keep_voicemail()
        await self.say([GOODBYE])
        await self.hang_up()
        await self._ended("voicemail left")

    async def _keep_voicemail(self) -> None:
        """Store what was recorded: a recording of the call, and a message in its conversation."""
        from django.conf import settings
        from django.urls import reverse

        from firstring.voice.services import call_recording
        from firstring.voice.tasks import sip_voicemail_transcribe

        if self.recording is None:
            return
        audio, self.recording = bytes(self.recording), None
        path = recording_path(self.call.pk)
        await asyncio.get_running_loop().run_in_executor(None, write_wav, path, audio)
        url = settings.SITE_URL.rstrip("/") + reverse("web:call-recording", args=[self.call.pk])
        db = self.endpoint.db
        seconds = len(audio) // 8000
        self.call = await db.run(
            call_recording, call=self.call, url=url, recording_id=path.name, seconds=seconds
        )
        # Its words are found by the worker (speech recognition is slow); the message follows them.
        await db.run(sip_voicemail_transcribe.enqueue, self.call.pk)
        logger.info("call %s: voicemail of %s s kept; transcribing it in the background", self.label, seconds)

    async def _wait_in_queue(self) -> None:
        from firstring.voice.models import Call
        from firstring.voice.services import call_voicemail

        assert self.leg is not None
        self.accepted = asyncio.get_running_loop().create_future()
        self.endpoint.waiting[self.external_id] = self
        logger.info("call %s queued for %s", self.label, self.call.queue or "a person")
        talking = asyncio.ensure_future(self._hold())
        try:
            # An accepted offer cuts the announcements short; a wait past the number's limit goes to
            # voicemail, as on Twilio.
            agent_id = await asyncio.wait_for(asyncio.shield(self.accepted), self.number.voicemail_after)
        except TimeoutError:
            self.endpoint.waiting.pop(self.external_id, None)
            self.call = await self.endpoint.db.run(call_voicemail, call=self.call, reason="waited too long")
            if self.call.status != Call.Status.CONNECTING:
                return
            agent_id = self.call.agent_id  # accepted just as the wait ran out
        finally:
            talking.cancel()
            self.accepted = None
            await asyncio.gather(talking, return_exceptions=True)
        self.call = await self.endpoint.db.run(lambda: Call.objects.get(pk=self.call.pk))
        if self.call.status == Call.Status.CONNECTING:
            await self._bridge(agent_id)
            self.call = await self.endpoint.db.run(lambda: Call.objects.get(pk=self.call.pk))

    async def _hold(self) -> None:
        """What a waiting caller hears: please hold, then their position and expected wait (and the offer
        of a callback), now and then."""
        await self.say([HOLD_MESSAGE])
        while True:
            position = await self.endpoint.db.run(_position_text, self.call)
            await self.say([position, CALLBACK_OFFER] if self._can_be_called_back() else [position])
            await asyncio.sleep(POSITION_EVERY_SECONDS)

    def _can_be_called_back(self) -> bool:
        """A callback needs the trunk to dial out through, and a number to dial."""
        return bool(self.endpoint.trunk) and str(self.call.caller).startswith("+")

    async def _call_me_back(self) -> None:
        """* in the queue: the call becomes a callback keeping its task's place (`call_callback_request`,
        as on Twilio); the caller hears so and we hang up. An agent who accepted meanwhile wins."""
        from firstring.voice.models import Call
        from firstring.voice.services import call_callback_request

        self.call = await self.endpoint.db.run(call_callback_request, call=self.call)
        if self.call.status != Call.Status.CALLBACK or self.over:
            return
        self.endpoint.waiting.pop(self.external_id, None)
        logger.info("call %s: the caller asked to be called back", self.label)
        if self.flow is not None:
            self.flow.cancel()  # the hold announcements stop before the confirmation starts
            await asyncio.gather(self.flow, return_exceptions=True)
        await self.say([CALLBACK_TAKEN])
        await self.hang_up()

    async def _bridge(self, agent_id: int) -> None:
        """INVITE the agent's SIP URI with a leg of our own, and relay the audio once they answer."""
        from firstring.voice.services import call_answered, call_requeue

        db = self.endpoint.db
        agent = await self._dial(agent_id, "agent")
        if isinstance(agent, str):
            logger.info("call %s: the agent's line did not take it: %s", self.label, agent)
            self.call = await db.run(call_requeue, call=self.call, reason=agent)
            await self.say([SORRY_NOBODY])
            return
        self.staff.append(agent)
        self._connect_audio()
        self.endpoint.talking[self.external_id] = self
        self.call = await db.run(call_answered, call=self.call, leg=agent.dialog.call_id)
        logger.info("call %s bridged to agent %s", self.label, agent_id)
        await asyncio.Event().wait()  # talking until someone hangs up (a BYE cancels this flow)

    def escalated(self, event_id: int, manager_id: int) -> None:
        """An escalation of this call names a manager: ring them in as a third party."""
        if event_id in self.escalations or self.over or not self.staff:
            return
        self.escalations.add(event_id)
        self.endpoint.server.spawn(self._join(manager_id))

    async def _join(self, manager_id: int) -> None:
        manager = await self._dial(manager_id, "manager")
        if isinstance(manager, str):
            logger.warning("call %s: the manager could not be brought in: %s", self.label, manager)
            return
        if self.over or not self.staff:
            self.endpoint.calls.pop((manager.dialog.call_id, manager.dialog.local_tag), None)
            manager.leg.close()
            await self.endpoint.server.bye(manager.dialog)
            return
        self.staff.append(manager)
        self._connect_audio()
        logger.info("call %s: manager %s joined; %s parties", self.label, manager_id, len(self.staff) + 1)

    async def _dial(self, user_id: int, role: str) -> Staff | str:
        """Ring a person's SIP URI (their AgentLine) with a leg of ours: the answered Staff, or why not."""
        from firstring.voice.models import AgentLine

        target = await self.endpoint.db.run(
            lambda: AgentLine.objects.filter(user_id=user_id).values_list("sip_uri", flat=True).first()
        )
        if not target:
            return f"the {role} has no SIP address"
        leg = await open_leg(
            host=self.endpoint.media_host, name=f"{role} leg of {self.label}", on_digit=lambda key: None
        )
        try:
            dialog = await self._ring(target, leg)
        except BaseException:
            leg.close()
            raise
        if isinstance(dialog, str):
            leg.close()
            return dialog
        self.endpoint.calls[(dialog.call_id, dialog.local_tag)] = self
        return Staff(role=role, user_id=user_id, dialog=dialog, leg=leg)

    async def _ring(self, target: str, leg: RtpLeg) -> Dialog | str:
        return await ring(
            self.endpoint,
            target,
            leg,
            caller=self.call.caller,
            subject=f"Firstring call {self.call.pk}",
            ring_seconds=self.number.ring_seconds,
        )


async def ring(
    endpoint: Endpoint,
    target: str,
    leg: RtpLeg,
    *,
    caller: str,
    subject: str,
    ring_seconds: int,
    call_id: str = "",
) -> Dialog | str:
    """INVITE `target` offering `leg`, as `caller` (an E.164 number, else "firstring"); the dialog once
    answered within `ring_seconds` (the leg then knows the peer's media), else why not."""
    try:
        uri = parse_uri(target)
        peer = await endpoint.resolve(uri.host, uri.port or 5060)
    except (SipParseError, OSError) as error:
        return f"the SIP address {target[:80]} is unusable: {error}"
    server = endpoint.server
    call_id = call_id or f"{token()}@firstring"
    host, port = server.address
    caller = caller if caller.startswith("+") else "firstring"
    invite = Message(method="INVITE", uri=target)
    invite.headers += [
        ("Via", f"SIP/2.0/UDP {host}:{port};branch=z9hG4bK{token()};rport"),
        ("Max-Forwards", "70"),
        ("From", f"<sip:{caller}@{host}>;tag={token()}"),
        ("To", f"<{target}>"),
        ("Call-ID", call_id),
        ("CSeq", "1 INVITE"),
        ("Contact", server.contact),
        ("Subject", subject),
        ("Content-Type", "application/sdp"),
    ]
    invite.body = describe(
        host=endpoint.media_host, port=leg.port, session=int(time.time()), event_pt=DEFAULT_EVENT_PT
    )
    answer_task = asyncio.ensure_future(server.request(invite, peer))
    try:
        answer = await asyncio.wait_for(asyncio.shield(answer_task), ring_seconds)
    except TimeoutError:
        server.send(_cancel_for(invite), peer)
        try:  # a phone that rang answers the CANCEL with 487 at once; a dead one never answers
            answer = await asyncio.wait_for(answer_task, CANCEL_GRACE_SECONDS)
        except TimeoutError:
            answer = None
        if answer is None or answer.status >= 300:
            if answer is not None:
                server.send(_ack_failure(invite, answer), peer)
            return f"no answer within {ring_seconds} s"
    except asyncio.CancelledError:
        # The call ended while the phone rang: stop it ringing (or hang up if it answered).
        server.send(_cancel_for(invite), peer)
        server.spawn(_abandoned_ring(server, invite, answer_task, peer))
        raise
    if answer is None:
        return "the line did not answer"
    if answer.status >= 300:
        server.send(_ack_failure(invite, answer), peer)
        return f"the line said {answer.status} {answer.reason}"
    dialog = _uac_dialog(invite, answer, peer)
    server.ack(dialog, 1)
    try:
        media = parse_offer(answer.body)
    except SipParseError as error:
        server.spawn(server.bye(dialog))
        return f"the answer has no usable audio: {error}"
    server.dialogs[(dialog.call_id, dialog.local_tag)] = dialog
    leg.remote = (media.host, media.port)
    leg.event_pt = media.event_pt
    return dialog


def reoffer(endpoint: Endpoint, dialog: Dialog, leg: RtpLeg, request: Message, label: str) -> Message:
    """Answer a re-INVITE on one of a call's legs: its media may have moved; ours stays where it is."""
    try:
        media = parse_offer(request.body) if request.body else None
    except SipParseError as error:
        logger.info("re-INVITE in %s refused: %s", label, error)
        return response(request, 488)
    if media is not None:
        leg.remote = (media.host, media.port)
    answer = response(request, 200, to_tag=dialog.local_tag)
    answer.headers.append(("Content-Type", "application/sdp"))
    answer.body = describe(
        host=endpoint.media_host, port=leg.port, session=int(time.time()), event_pt=leg.event_pt
    )
    return answer


def _uac_dialog(invite: Message, answer: Message, peer: Address) -> Dialog:
    """The dialog a 2xx to our INVITE makes (RFC 3261 §12.1.2)."""
    contact = answer.get("contact")
    return Dialog(
        call_id=invite.call_id,
        local_tag=invite.from_tag,
        remote_tag=answer.to_tag,
        local=invite.get("from"),
        remote=answer.get("to"),
        target=uri_of(contact) if contact else invite.uri,
        peer=peer,
        route=list(reversed(answer.get_all("record-route"))),
        cseq=1,
    )


async def _abandoned_ring(
    server: SipServer, invite: Message, answer_task: asyncio.Future[Message | None], peer: Address
) -> None:
    answer = await answer_task
    if answer is None:
        return
    if answer.status >= 300:
        server.send(_ack_failure(invite, answer), peer)
        return
    dialog = _uac_dialog(invite, answer, peer)  # answered just as the CANCEL went out
    server.ack(dialog, 1)
    await server.bye(dialog)


def _cancel_for(invite: Message) -> Message:
    """RFC 3261 §9.1: a CANCEL has the INVITE's Request-URI, Via, From, To, Call-ID and CSeq number."""
    cancel = Message(method="CANCEL", uri=invite.uri)
    number = invite.get("cseq").split()[0]
    for name in ("Via", "Max-Forwards", "From", "To", "Call-ID"):
        cancel.headers.append((name, invite.get(name)))
    cancel.headers.append(("CSeq", f"{number} CANCEL"))
    return cancel


def _ack_failure(invite: Message, answer: Message) -> Message:
    """RFC 3261 §17.1.1.3: the ACK of a failure has the INVITE's branch and the response's To."""
    ack = Message(method="ACK", uri=invite.uri)
    number = invite.get("cseq").split()[0]
    for name in ("Via", "Max-Forwards", "From", "Call-ID"):
        ack.headers.append((name, invite.get(name)))
    ack.headers += [("To", answer.get("to")), ("CSeq", f"{number} ACK")]
    return ack


def _say_language(menu: dict[str, Any], code: str) -> str:
    return next((str(lang["say"]) for lang in menu.get("languages", []) if lang["code"] == code), "")


def _incoming(call_incoming: Callable[..., Any], *, channel_id: int, **kwargs: Any) -> Any:
    from firstring.channels.models import Channel

    return call_incoming(channel=Channel.objects.get(pk=channel_id), provider=PROVIDER, **kwargs)


def _refreshed(service: Callable[..., Any], *, call: Any, **kwargs: Any) -> tuple[Any, Any]:
    step = service(call=call, **kwargs)
    call.refresh_from_db()
    return call, step


def _survey_question(channel_id: int, conversation_id: int) -> str:
    from firstring.channels.models import Channel
    from firstring.channels.registry import survey_question

    return survey_question(channel=Channel.objects.get(pk=channel_id), conversation_id=conversation_id)


def _survey_answer(channel_id: int, call: Any, key: str) -> bool:
    from firstring.channels.models import Channel
    from firstring.channels.registry import answer_taken
    from firstring.customers.identities import IdentityClaim
    from firstring.customers.models import Identity

    return answer_taken(
        channel=Channel.objects.get(pk=channel_id),
        claim=IdentityClaim(Identity.Kind.PHONE, call.caller),
        text=key,
        external_id=f"{call.external_id}:survey",
    )


def _position_text(call: Any) -> str:
    from firstring.voice.selectors import queue_position

    call.refresh_from_db()
    where = queue_position(call)
    minutes = max(1, round(where.expected_wait_seconds / 60))
    return (
        f"You are number {where.position} in line. The expected wait is about "
        f"{minutes} minute{'s' if minutes != 1 else ''}."
    )
