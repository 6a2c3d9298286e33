"""Spoken menu keywords on the SIP endpoint (recognition itself: firstring.lib.speech, pocketsphinx).

While the menu waits for an answer, the caller's audio goes through a voice-activity endpointer
(`Listener`, on the event loop: microseconds per 30 ms frame); each utterance, once the caller stops
talking, is decoded against a grammar of the words the menu can take at that step (`menu_words`: the
options' keywords, or the languages' names, plus HUMAN_WORDS). A grammar always yields one of its
words, so a keyword is believed only when it spans most of what was said; anything else is
UNRECOGNISED, which the menu counts as a miss ("Sorry, I did not get that"). A short word that sounds
like a keyword can still be taken for it: 0 and "agent" are always there, and two misses reach a person.

pocketsphinx holds the GIL while it decodes, so the `Recognizer` decodes in processes of its own (two at
most, a decoder each): one caller's speech never holds up the event loop, answering, or the database.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import re
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from firstring.lib import speech
from firstring.voice.menu import HUMAN_WORDS
from firstring.voice.phone.sip.rtp import DECODE

logger = logging.getLogger(__name__)

MAX_UTTERANCE_SECONDS = 6.0
WORD = re.compile(r"[a-z][a-z']{0,39}")


def pcm16(ulaw: bytes) -> bytes:
    """8 kHz mu-law as 16-bit samples."""
    import numpy as np

    return bytes(DECODE[np.frombuffer(ulaw, dtype=np.uint8)].astype(np.int16).tobytes())


def menu_words(menu: dict[str, Any], state: dict[str, Any]) -> tuple[str, ...]:
    """What a caller may say at this step of the menu: what `menu_next` would act on."""
    if state.get("stage") == "language":
        said = " ".join(f"{lang['label']} {lang['code']}" for lang in menu.get("languages", []))
    else:
        said = " ".join(word for option in menu.get("options", []) for word in option["keywords"])
    words = {*re.findall(r"\w+", said.lower()), *HUMAN_WORDS}
    return tuple(sorted(word for word in words if WORD.fullmatch(word)))


class Recognizer:
    """Keyword decoding for the endpoint's calls, in `workers` processes with a decoder each."""

    def __init__(self, workers: int | None = None) -> None:
        self.available = speech.installed()
        self.workers = workers or min(2, os.cpu_count() or 1)
        self.pool: ProcessPoolExecutor | None = None
        self._unknown: set[str] = set()
        if not self.available:
            logger.error(
                "spoken menu keywords are off: pocketsphinx is not installed (%s); callers use the keys",
                speech.INSTALL_HINT,
            )

    async def start(self) -> None:
        """Start the processes (spawned: the endpoint's threads and connections stay behind) and load
        their decoders, so a caller's first word is not the one that waits for them."""
        if not self.available:
            return
        context = multiprocessing.get_context("spawn")
        self.pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        loop = asyncio.get_running_loop()
        await asyncio.gather(*(loop.run_in_executor(self.pool, speech.warm) for _ in range(self.workers)))

    async def keyword(self, audio: bytes, words: tuple[str, ...]) -> str:
        """The keyword said in `audio` (8 kHz 16-bit samples), UNRECOGNISED, or "" when off."""
        if self.pool is None:
            return ""
        loop = asyncio.get_running_loop()
        said, unknown = await loop.run_in_executor(self.pool, speech.keyword, audio, words)
        for word in set(unknown) - self._unknown:
            self._unknown.add(word)
            logger.warning("the keyword %r is not in the speech dictionary; only its key works", word)
        return str(said)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


class Listener:
    """One caller's audio while the menu listens: utterances cut by voice activity, handed to `heard`."""

    def __init__(self, heard: Callable[[bytes], None]) -> None:
        from pocketsphinx import Endpointer

        self.endpointer = Endpointer(sample_rate=speech.RATE)
        self.frame_bytes = int(self.endpointer.frame_bytes)
        self.heard = heard
        self.pending = bytearray()
        self.utterance = bytearray()

    @property
    def speaking(self) -> bool:
        return bool(self.utterance)

    def feed(self, ulaw: bytes) -> None:
        self.pending += pcm16(ulaw)
        while len(self.pending) >= self.frame_bytes:
            frame = bytes(self.pending[: self.frame_bytes])
            del self.pending[: self.frame_bytes]
            said = self.endpointer.process(frame)
            if said is not None:
                self.utterance += said
            too_long = len(self.utterance) >= MAX_UTTERANCE_SECONDS * speech.RATE * 2
            if self.utterance and (not self.endpointer.in_speech or too_long):
                utterance, self.utterance = bytes(self.utterance), bytearray()
                self.heard(utterance)
