"""Voicemails recorded by the SIP endpoint: mu-law WAV files under var/voice/recordings/<call id>.wav,
served to staff who may see the call's conversation (web.views.phone.call_recording)."""

from __future__ import annotations

import struct
from pathlib import Path

from django.conf import settings

from firstring.voice.phone.sip.rtp import ENCODE

RATE = 8000


def recording_path(call_id: int) -> Path:
    return Path(settings.VAR_DIR) / "voice" / "recordings" / f"{call_id}.wav"


def write_wav(path: Path, audio: bytes) -> None:
    """8 kHz mu-law audio as a WAV file (format 7, with the fact chunk non-PCM formats carry)."""
    header = b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHHH", 18, 7, 1, RATE, RATE, 1, 8, 0)
    header += b"fact" + struct.pack("<II", 4, len(audio))
    body = header + b"data" + struct.pack("<I", len(audio)) + audio + (b"\x00" if len(audio) % 2 else b"")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    partial.replace(path)


def read_audio(path: Path) -> bytes:
    """The mu-law samples of a recording `write_wav` wrote (its data chunk)."""
    data = path.read_bytes()
    offset = 12
    while offset + 8 <= len(data):
        name, size = data[offset : offset + 4], struct.unpack_from("<I", data, offset + 4)[0]
        if name == b"data":
            return data[offset + 8 : offset + 8 + size]
        offset += 8 + size + size % 2
    raise ValueError(f"{path.name} has no audio")


def beep(seconds: float = 0.4, hertz: int = 1000) -> bytes:
    """The tone after which a caller speaks, as mu-law."""
    import numpy as np

    samples = np.sin(2 * np.pi * hertz * np.arange(int(RATE * seconds)) / RATE) * 8000
    return bytes(ENCODE[samples.astype(np.int32) + 32768])
