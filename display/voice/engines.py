"""Voice engines: text in, 16-bit mono PCM out. Chosen by ``[[displays]] voice.engine``.

- ``espeak``: Debian's espeak-ng, offline. Its ``cmn`` voice knows few
  characters (请 and 号 come out as English spellings of their pinyin), so the
  call's words are handed over as pinyin with tone numbers, to the
  ``cmn-latn-pinyin`` voice, which says them properly. Characters outside the
  table go through as they are.
- ``clips``: recorded WAVs, one per word or character, concatenated.
- ``fake``: ships in the package; records each text, returns a short tone.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Protocol

from display.voice.wav import Pcm, join, read_wav, scaled, silence
from paihao.device_config import Voice
from paihao.errors import ConfigError, PaihaoError

log = logging.getLogger(__name__)

ESPEAK_VOICE = "cmn-latn-pinyin"
# The closed vocabulary of a call, and what window names commonly hold.
PINYIN = {
    "请": "qing3", "号": "hao4", "到": "dao4", "窗": "chuang1", "口": "kou3", "办": "ban4", "理": "li3",
    "零": "ling2", "一": "yi1", "二": "er4", "三": "san1", "四": "si4", "五": "wu3", "六": "liu4",
    "七": "qi1", "八": "ba1", "九": "jiu3", "十": "shi2", "百": "bai3", "综": "zong1", "合": "he2",
    "服": "fu2", "务": "wu4", "台": "tai2", "楼": "lou2", "区": "qu1", "室": "shi4", "专": "zhuan1",
    "咨": "zi1", "询": "xun2", "受": "shou4", "出": "chu1", "证": "zheng4", "东": "dong1", "西": "xi1",
    "南": "nan2", "北": "bei3", "厅": "ting1", "重": "chong2", "呼": "hu1",
}


class VoiceError(PaihaoError, RuntimeError):
    """The voice engine could not say something."""


class Engine(Protocol):
    name: str

    def synthesize(self, text: str) -> Pcm: ...

    def missing(self, text: str) -> list[str]:
        """What of ``text`` this engine cannot say (a character without a clip, or a pinyin)."""
        ...


def to_pinyin(text: str) -> str:
    words = []
    for part in text.split():
        words.append(" ".join(PINYIN.get(ch, ch) for ch in part))
    return "  ".join(words)


class EspeakEngine:
    name = "espeak"

    def __init__(self, binary: str | None = None, speed_wpm: int = 140, volume: int = 100) -> None:
        found = binary or shutil.which("espeak-ng")
        if not found:
            raise ConfigError('voice engine "espeak" needs espeak-ng (Debian: apt-get install espeak-ng)')
        self.binary, self.speed_wpm, self.volume = found, speed_wpm, volume

    def missing(self, text: str) -> list[str]:
        """Chinese characters of ``text`` outside the table: the voice would spell them out in English."""
        return [ch for ch in text if "\u4e00" <= ch <= "\u9fff" and ch not in PINYIN]

    def command(self, text: str) -> list[str]:
        # espeak-ng scales its own output (-a, 100 = its normal level): no sample-by-sample Python loop,
        # which would hold the GIL for milliseconds while the wall draws the same call.
        return [self.binary, "-v", ESPEAK_VOICE, "-s", str(self.speed_wpm), "-a", str(self.volume),
                "--stdout", to_pinyin(text)]

    def synthesize(self, text: str) -> Pcm:
        try:
            done = subprocess.run(self.command(text), capture_output=True, timeout=20, check=True)
        except (OSError, subprocess.SubprocessError) as exc:
            raise VoiceError(f"espeak-ng failed: {exc}") from exc
        # espeak-ng writes a WAV to a pipe with its length fields unset; the wave module
        # reads the header, so patch the data size from what actually came.
        data = bytearray(done.stdout)
        if len(data) > 44 and data[36:40] == b"data":
            data[40:44] = (len(data) - 44).to_bytes(4, "little")
            data[4:8] = (len(data) - 8).to_bytes(4, "little")
        return read_wav(bytes(data))


class ClipsEngine:
    """Recorded clips: the longest clip name that matches the text next is used
    (号窗口.wav before 号.wav); a space is a short pause."""

    name = "clips"
    PAUSE_S = 0.12

    def __init__(self, folder: Path, volume: int = 100) -> None:
        self.volume = volume
        if not folder.is_dir():
            raise ConfigError(f"voice clips_dir {folder} is not a folder")
        self.folder = folder
        self.clips = {p.stem: p for p in folder.glob("*.wav")}
        self._cache: dict[str, Pcm] = {}
        self.chime = scaled(read_wav(self.clips["chime"]), volume) if "chime" in self.clips else None

    def missing(self, text: str) -> list[str]:
        """Characters of ``text`` no clip covers."""
        return [piece for piece in self._pieces(text) if piece not in self.clips and not piece.isspace()]

    def _pieces(self, text: str) -> list[str]:
        pieces, i = [], 0
        longest = max((len(k) for k in self.clips), default=1)
        while i < len(text):
            for n in range(min(longest, len(text) - i), 0, -1):
                if text[i:i + n] in self.clips or n == 1:
                    pieces.append(text[i:i + n])
                    i += n
                    break
        return pieces

    def synthesize(self, text: str) -> Pcm:
        missing = self.missing(text)
        if missing:
            raise VoiceError(f"no clip for {''.join(missing)!r} in {self.folder}")
        parts = []
        for piece in self._pieces(text):
            if piece.isspace():
                parts.append(silence(self.PAUSE_S))
                continue
            if piece not in self._cache:
                self._cache[piece] = scaled(read_wav(self.clips[piece]), self.volume)  # once per clip
            parts.append(self._cache[piece])
        return join(parts)


class FakeEngine:
    """Records every text it is asked to say; returns a short tone, so the rest of the path runs."""

    name = "fake"

    def __init__(self) -> None:
        self.texts: list[str] = []
        self.said = threading.Event()

    def missing(self, text: str) -> list[str]:
        return []

    def synthesize(self, text: str) -> Pcm:
        self.texts.append(text)
        self.said.set()
        return silence(0.05)


def make_engine(voice: Voice, base: Path | None = None) -> Engine | None:
    """The configured engine, or None when this display is silent."""
    if voice.engine == "off":
        return None
    if voice.engine == "fake":
        return FakeEngine()
    if voice.engine == "clips":
        folder = Path(voice.clips_dir or "")
        return ClipsEngine(folder if folder.is_absolute() or base is None else base / folder, voice.volume)
    return EspeakEngine(volume=voice.volume)
