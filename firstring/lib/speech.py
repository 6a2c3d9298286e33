"""Offline speech recognition with pocketsphinx (the optional `speech` extra), free of Django.

pocketsphinx ships CMU's en-us acoustic model, dictionary and language model inside its wheel: nothing
is fetched at run time. The model is 16 kHz; telephone audio (8 kHz, 16-bit samples) is upsampled to it
(pocketsphinx's own 8 kHz front end on this model did worse).

Decoding holds the GIL for as long as it runs (about a tenth of the audio's length), so a server with
an event loop runs `keyword` in processes of its own; this module is importable there without Django.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

RATE = 8000
MODEL_RATE = 16000
UNRECOGNISED = "[unrecognised speech]"
INSTALL_HINT = "pip install 'firstring[speech]'"
# A keyword must span this share of the utterance's loud frames (within LOUD_DB of its loudest).
COVERAGE = 0.6
LOUD_DB = 30.0

_keywords: Any = None  # this process's keyword decoder, and the grammars added to it
_grammars: set[str] = set()


def installed() -> bool:
    try:
        import pocketsphinx  # noqa: F401
    except ImportError:
        return False
    return True


def _upsampled(samples: np.ndarray) -> bytes:
    """8 kHz samples at the model's 16 kHz (linear interpolation; the band above 4 kHz stays empty)."""
    positions = np.arange(len(samples) * 2) / 2
    return bytes(np.interp(positions, np.arange(len(samples)), samples).astype(np.int16).tobytes())


def warm() -> None:
    """Load the keyword decoder now rather than on a caller's first word."""
    global _keywords
    if _keywords is None:
        from pocketsphinx import Decoder

        _keywords = Decoder(samprate=MODEL_RATE, lm=None, loglevel="FATAL")


def keyword(audio: bytes, words: tuple[str, ...]) -> tuple[str, list[str]]:
    """The one of `words` said in `audio` (8 kHz 16-bit samples of one utterance), or UNRECOGNISED;
    with the words the dictionary does not know (they cannot be recognised)."""
    warm()
    decoder = _keywords
    known = [word for word in words if decoder.lookup_word(word) is not None]
    unknown = [word for word in words if word not in known]
    if not known:
        return UNRECOGNISED, unknown
    name = "menu-" + hashlib.sha256(" ".join(known).encode()).hexdigest()[:16]
    if name not in _grammars:
        decoder.add_jsgf_string(name, f"#JSGF V1.0; grammar menu; public <word> = {' | '.join(known)};")
        _grammars.add(name)
    samples = np.frombuffer(audio, dtype=np.int16)
    decoder.activate_search(name)
    decoder.start_utt()
    decoder.process_raw(_upsampled(samples), full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    said = hypothesis.hypstr.strip() if hypothesis is not None else ""
    if said not in known:
        return UNRECOGNISED, unknown
    # A grammar always yields one of its words: believe it only when it spans most of what was said.
    # Model frames are 10 ms; a segment's frames are where the decoder put the word.
    frame = RATE // 100
    loud = _loud(samples[: len(samples) // frame * frame].reshape(-1, frame))
    spanned = np.zeros(len(loud), dtype=bool)
    for segment in decoder.seg():
        if segment.word == said:
            spanned[segment.start_frame : segment.end_frame + 1] = True
    share = float((loud & spanned).sum()) / max(1, int(loud.sum()))
    return (said if share >= COVERAGE else UNRECOGNISED), unknown


def _loud(frames: np.ndarray) -> np.ndarray:
    if not len(frames):
        return np.zeros(0, dtype=bool)
    energy = 10 * np.log10((frames.astype(np.float64) ** 2).mean(axis=1) + 1)
    return np.asarray(energy > energy.max() - LOUD_DB)


def utterances(audio: bytes) -> list[bytes]:
    """8 kHz 16-bit audio cut where pocketsphinx's voice-activity endpointer hears speech."""
    from pocketsphinx import Endpointer

    endpointer = Endpointer(sample_rate=RATE)
    size = int(endpointer.frame_bytes)
    found: list[bytes] = []
    current = bytearray()
    for offset in range(0, len(audio) - size + 1, size):
        speech = endpointer.process(audio[offset : offset + size])
        if speech is not None:
            current += speech
        if current and not endpointer.in_speech:
            found.append(bytes(current))
            current = bytearray()
    if current:
        found.append(bytes(current))
    return found


def transcribe(audio: bytes) -> str:
    """The words of a recording (8 kHz 16-bit) by the general en-us language model; "" for silence."""
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=MODEL_RATE, loglevel="FATAL")
    said = []
    for utterance in utterances(audio):
        decoder.start_utt()
        decoder.process_raw(_upsampled(np.frombuffer(utterance, dtype=np.int16)), full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        if hypothesis is not None and hypothesis.hypstr.strip():
            said.append(hypothesis.hypstr.strip())
    return " ".join(said)
