"""16-bit mono PCM: read, write, join, scale, and the chime — with the standard
library only (``audioop`` is deprecated, and numpy is not worth its memory here)."""

from __future__ import annotations

import io
import math
import wave
from array import array
from dataclasses import dataclass
from pathlib import Path

RATE = 22050  # espeak-ng's rate; clips at other rates are resampled to it


@dataclass
class Pcm:
    rate: int
    samples: array  # 'h': signed 16-bit, mono

    @property
    def seconds(self) -> float:
        return len(self.samples) / self.rate


def read_wav(data: bytes | Path) -> Pcm:
    """A WAV file or its bytes; stereo is mixed down, 8-bit widened, so any clip will do."""
    with wave.open(io.BytesIO(data) if isinstance(data, bytes) else str(data), "rb") as w:
        width, channels, rate = w.getsampwidth(), w.getnchannels(), w.getframerate()
        frames = w.readframes(w.getnframes())
    if width == 1:
        samples = array("h", ((b - 128) << 8 for b in frames))
    elif width == 2:
        samples = array("h", frames)
    else:
        raise ValueError(f"{width * 8}-bit WAV: only 8 and 16-bit are supported")
    if channels > 1:
        samples = array("h", (sum(samples[i:i + channels]) // channels for i in range(0, len(samples), channels)))
    return resample(Pcm(rate, samples), RATE)


def write_wav(path: Path, pcm: Pcm) -> None:
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(pcm.rate)
        w.writeframes(pcm.samples.tobytes())
    tmp.replace(path)  # a player never opens half a file


def resample(pcm: Pcm, rate: int) -> Pcm:
    if pcm.rate == rate:
        return pcm
    n = int(len(pcm.samples) * rate / pcm.rate)
    step = pcm.rate / rate
    src = pcm.samples
    return Pcm(rate, array("h", (src[min(len(src) - 1, int(i * step))] for i in range(n))))


def silence(seconds: float, rate: int = RATE) -> Pcm:
    return Pcm(rate, array("h", bytes(2 * int(seconds * rate))))


def join(parts: list[Pcm], gap_s: float = 0.0) -> Pcm:
    out = array("h")
    gap = silence(gap_s).samples
    for i, part in enumerate(parts):
        if i and gap_s:
            out.extend(gap)
        out.extend(resample(part, RATE).samples)
    return Pcm(RATE, out)


def scaled(pcm: Pcm, volume: int) -> Pcm:
    """``volume`` percent of the signal; 100 leaves it untouched."""
    if volume >= 100:
        return pcm
    factor = max(0, volume) / 100
    return Pcm(pcm.rate, array("h", (int(s * factor) for s in pcm.samples)))


def chime(rate: int = RATE) -> Pcm:
    """Ding-dong: E5 then C5, each fading, as halls' call chimes go."""
    out = array("h")
    for freq, seconds in ((659.25, 0.45), (523.25, 0.7)):
        n = int(seconds * rate)
        for i in range(n):
            fade = math.exp(-4.0 * i / n)
            out.append(int(12000 * fade * math.sin(2 * math.pi * freq * i / rate)))
    out.extend(silence(0.2, rate).samples)
    return Pcm(rate, out)
