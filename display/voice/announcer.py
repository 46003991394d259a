"""The announcer: calls are said one after another, never over each other.

A queue and one thread: chime + speech are made into one WAV, written to a
file (the adapter's output, which tests check), then played to the end before
the next is started. The player is behind a small interface: pygame's mixer
where there is a sound card, a silent one where there is none.
"""

from __future__ import annotations

import logging
import queue
import threading
from pathlib import Path
from typing import Protocol

from display.voice.engines import Engine, VoiceError
from display.voice.wav import Pcm, chime, join, scaled, write_wav

log = logging.getLogger(__name__)


class Player(Protocol):
    def play(self, path: Path, seconds: float) -> None:
        """Play the file and return when it has finished."""


class SilentPlayer:
    """No sound card: nothing is heard, the WAV files are still made."""

    def __init__(self) -> None:
        self.played: list[Path] = []

    def play(self, path: Path, seconds: float) -> None:
        self.played.append(path)


class MixerPlayer:
    def __init__(self, stop: threading.Event) -> None:
        import pygame.mixer

        self._mixer = pygame.mixer
        self._stop = stop
        pygame.mixer.init(frequency=22050, size=-16, channels=1)

    def play(self, path: Path, seconds: float) -> None:
        sound = self._mixer.Sound(str(path))
        sound.play()
        self._stop.wait(seconds)  # the sound's own length: playback is real time


def make_player(engine: Engine, stop: threading.Event) -> Player:
    if engine.name == "fake":
        return SilentPlayer()
    try:
        return MixerPlayer(stop)
    except Exception as exc:  # noqa: BLE001 - pygame.error, and whatever else a missing sound card raises
        log.warning("no sound output (%s): calls are written as WAV files but not heard", exc)
        return SilentPlayer()


class Announcer:
    def __init__(self, engine: Engine, player: Player, folder: Path, *, volume: int = 80,
                 with_chime: bool = True) -> None:
        self.engine, self.player, self.folder = engine, player, folder
        self.volume, self.with_chime = volume, with_chime
        self._queue: queue.Queue[tuple[str, bool] | None] = queue.Queue()
        self.spoken: list[tuple[str, Path]] = []  # (text, WAV) in the order said
        self.chimed: list[bool] = []  # whether each of them began with the chime
        self.done = threading.Event()  # set after each announcement; tests wait on it
        self._busy = 0  # announcements asked for and not yet finished
        self._idle = threading.Condition()
        # The chime is scaled once; the engines scale their own speech (see engines.py).
        self._chime = scaled(chime(), volume) if with_chime else None
        self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)

    def start(self) -> Announcer:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        return self

    def say(self, text: str, *, chime: bool = True) -> None:
        """Say ``text`` after those before it; ``chime``: the chime first (if the hall has one on)."""
        with self._idle:
            self._busy += 1
        self._queue.put((text, chime))

    def idle(self) -> bool:
        """Nothing being said, nothing waiting to be."""
        with self._idle:
            return self._busy == 0

    def wait_idle(self, timeout: float) -> bool:
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def pending(self) -> int:
        return self._queue.qsize()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(10)

    def render(self, text: str, chime: bool = True) -> Pcm:
        speech = self.engine.synthesize(text)
        chime_first = getattr(self.engine, "chime", None) or self._chime  # a hall's recorded chime wins
        return join([chime_first, speech]) if chime and chime_first and self.with_chime else speech

    def _run(self) -> None:
        count = 0
        while (item := self._queue.get()) is not None:
            text, with_chime = item
            try:
                pcm = self.render(text, with_chime)
                path = self.folder / f"call-{count % 2}.wav"  # two files: never rewrite the one playing
                write_wav(path, pcm)
                count += 1
                self.spoken.append((text, path))
                self.chimed.append(with_chime and self.with_chime)
                self.player.play(path, pcm.seconds)
            except (VoiceError, OSError) as exc:
                log.error("could not announce %r: %s", text, exc)
            except Exception:
                log.exception("announcer failed on %r", text)
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()
            self.done.set()
