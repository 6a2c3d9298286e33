"""Background work of the voice app."""

from __future__ import annotations

import logging

from django_tasks import task

logger = logging.getLogger(__name__)


@task()
def sip_voicemail_transcribe(call_id: int) -> None:
    """The words of a voicemail the SIP endpoint recorded become the caller's message, through the same
    `call_transcript` as Twilio's transcription callback; without them the message says so."""
    from firstring.lib.speech import INSTALL_HINT, installed, transcribe
    from firstring.voice.models import Call
    from firstring.voice.phone.sip.recordings import read_audio, recording_path
    from firstring.voice.phone.sip.speech import pcm16
    from firstring.voice.services import call_transcript

    call = Call.objects.filter(pk=call_id).first()
    if call is None:
        return
    text = ""
    if not installed():
        logger.error("voicemail transcripts are off: pocketsphinx is not installed (%s)", INSTALL_HINT)
    else:
        try:
            text = transcribe(pcm16(read_audio(recording_path(call_id))))
        except Exception:
            logger.exception("transcribing the voicemail of call %s failed", call_id)
    call_transcript(call=call, text=text, transcription_id=f"sip-{call_id}")
