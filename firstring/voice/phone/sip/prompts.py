"""Prompts spoken offline: espeak-ng renders the text, sox turns it into 8 kHz mu-law for RTP.

Rendered prompts are cached under var/voice/prompts/ by voice and text, so a menu is rendered once (the
server renders every number's menu when it starts) and a changed menu is rendered when first heard.
Without espeak-ng or sox the call still works by keys: the prompt is a second of silence, and the log
says which binary is missing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

TOOLS = ("espeak-ng", "sox")
SILENT_PROMPT = b"\xff" * 8000


def cache_dir() -> Path:
    return Path(settings.VAR_DIR) / "voice" / "prompts"


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def _voice(language: str) -> str:
    """espeak-ng's voice for a menu language ("en-US" → "en-us", "es-ES" → "es"); English by default."""
    code = (language or "en").lower()
    return code if code in ("en-us", "en-gb", "pt-br") else code.split("-")[0]


class Prompts:
    def __init__(self) -> None:
        self._missing = missing_tools()
        if self._missing:
            logger.error(
                "text-to-speech is off: %s not found (apt-get install espeak-ng sox); callers hear silence "
                "where prompts would be, and can still use the keys",
                " and ".join(self._missing),
            )
        self._memory: dict[str, bytes] = {}
        self._rendering: dict[str, asyncio.Future[bytes]] = {}

    async def audio(self, text: str, language: str = "") -> bytes:
        """The prompt as 8 kHz mu-law, rendered once per (voice, text)."""
        if self._missing or not text.strip():
            return SILENT_PROMPT
        voice = _voice(language)
        key = hashlib.sha256(f"{voice}\n{text}".encode()).hexdigest()[:32]
        if key in self._memory:
            return self._memory[key]
        if key in self._rendering:
            return await asyncio.shield(self._rendering[key])
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._rendering[key] = future
        try:
            audio = await self._render(key, voice, text)
            future.set_result(audio)
            self._memory[key] = audio
            return audio
        except Exception as error:
            future.set_exception(error)
            future.exception()  # retrieved: nobody else may be waiting
            raise
        finally:
            del self._rendering[key]

    async def _render(self, key: str, voice: str, text: str) -> bytes:
        path = cache_dir() / f"{key}.ulaw"
        if path.exists():
            return path.read_bytes()
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        # The text goes to espeak-ng on its standard input, never as an option it could mistake.
        process = await asyncio.create_subprocess_shell(
            'espeak-ng -v "$VOICE" -s 165 --stdin --stdout | sox -q -t wav - -r 8000 -c 1 -t ul "$OUT"',
            stdin=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={"VOICE": voice, "OUT": str(partial), "PATH": "/usr/bin:/bin:/usr/local/bin"},
        )
        _, errors = await process.communicate(text.encode())
        if process.returncode != 0 or not partial.exists():
            if voice != "en":
                logger.warning(
                    "espeak-ng has no voice %r (%s); speaking English", voice, errors.decode()[:200]
                )
                return await self._render(key, "en", text)
            logger.error("rendering a prompt failed: %s", errors.decode()[:300])
            return SILENT_PROMPT
        partial.replace(path)
        return path.read_bytes()
