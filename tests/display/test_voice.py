"""The voice: what is said for a call, and the engines that say it — espeak-ng for real
(Debian's, installed by ./run), recorded clips, and the fake that ships in the package."""

from __future__ import annotations

import re
import subprocess
import threading
import wave
from array import array
from pathlib import Path

import pytest

from display.speech import call_text, cardinal, digit_by_digit, window_words
from display.voice.announcer import Announcer, SilentPlayer
from display.voice.engines import ClipsEngine, EspeakEngine, FakeEngine, VoiceError, make_engine, to_pinyin
from display.voice.wav import RATE, Pcm, chime, join, read_wav, silence, write_wav
from paihao.device_config import Voice
from paihao.errors import ConfigError

CALL = "请 零二零一五 号 到 五 号窗口 办理"


@pytest.mark.parametrize(("ticket", "window", "name", "said"), [
    ("02015", "5", "5号窗口", CALL),
    ("02015", "5", None, CALL),
    ("021000", "12", "12号窗口", "请 零二一零零零 号 到 十二 号窗口 办理"),
    ("05003", "20", None, "请 零五零零三 号 到 二十 号窗口 办理"),
    ("04001", "a", "综合窗口A", "请 零四零零一 号 到 综合窗口A 办理"),
])
def test_what_is_said_for_a_call(ticket, window, name, said) -> None:
    assert call_text(ticket, window, name) == said


def test_numbers_in_words() -> None:
    assert digit_by_digit("02015") == "零二零一五"
    assert [cardinal(n) for n in (0, 7, 10, 11, 20, 35, 100, 105, 110, 999)] == \
        ["零", "七", "十", "十一", "二十", "三十五", "一百", "一百零五", "一百一十", "九百九十九"]
    assert window_words("3", "3 号窗口") == "三 号窗口"


def wav_text(path: Path) -> Pcm:
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
    return read_wav(path)


def test_the_fake_engine_records_the_text_and_a_wav_is_written(tmp_path) -> None:
    engine = FakeEngine()
    announcer = Announcer(engine, SilentPlayer(), tmp_path, volume=100).start()
    announcer.say(call_text("02015", "5", "5号窗口"))
    assert engine.said.wait(5)
    announcer.stop()
    assert engine.texts == [CALL]
    text, path = announcer.spoken[0]
    assert text == CALL
    pcm = wav_text(path)
    assert len(pcm.samples) == len(chime().samples) + int(0.05 * RATE)  # the chime, then the speech


def test_in_a_rush_the_call_is_said_without_the_chime_and_the_courtesy_words(tmp_path) -> None:
    assert call_text("02015", "5", "5号窗口", brief=True) == "零二零一五 号 到 五 号窗口"
    engine = EspeakEngine()
    announcer = Announcer(engine, SilentPlayer(), tmp_path, volume=100).start()
    announcer.say(CALL)
    announcer.say(call_text("02015", "5", "5号窗口", brief=True), chime=False)
    announcer.stop()
    whole, short = (wav_text(path) for _, path in announcer.spoken)
    assert short.samples == engine.synthesize("零二零一五 号 到 五 号窗口").samples  # the words alone
    assert announcer.chimed == [True, False]
    assert whole.seconds - short.seconds > chime().seconds + 0.5  # the chime, 请 and 办理: 2 s sooner here


def test_espeak_says_the_call_in_mandarin_digit_by_digit(tmp_path) -> None:
    engine = EspeakEngine()
    announcer = Announcer(engine, SilentPlayer(), tmp_path, volume=100).start()
    announcer.say(CALL)
    announcer.stop()
    _, path = announcer.spoken[0]
    pcm = wav_text(path)
    # The WAV is the chime and exactly what espeak-ng says for this text ...
    direct = subprocess.run(engine.command(CALL), capture_output=True, check=True).stdout
    speech = engine.synthesize(CALL)
    assert pcm.samples == join([chime(), speech]).samples
    assert speech.samples.tobytes() == direct[44:]
    assert speech.seconds > 2
    # ... and what it says is 请 零二零一五 号 到 五 号窗口 办理, in Mandarin tones.
    phonemes = subprocess.run(["espeak-ng", "-q", "-x", "-v", "cmn-latn-pinyin", to_pinyin(CALL)],
                              capture_output=True, text=True, check=True).stdout
    syllables = [p.strip("_| \n") for p in phonemes.replace("\n", " ").split("_|") if p.strip("_| \n")]
    # qing ling er ling yi wu hao dao wu hao chuang kou ban li (tones vary with sandhi: compared without them)
    assert [re.sub(r"\d", "", s) for s in syllables] == [
        "tS;h'iN", "l'iN", "'@r", "l'iN", "j'i", "w'u", "X'Au", "t'Au", "w'u", "X'Au", "ts.hw'AN", "kh'ou", "p'an",
        "l'i"], phonemes
    assert syllables[1:5] == ["l'i35N", "'@r51", "l'i35N", "j'i55"]  # 零二零一: rising, falling, rising, level
    other = engine.synthesize(call_text("02016", "5"))
    assert other.samples != speech.samples


def test_volume_scales_the_signal(tmp_path) -> None:
    loud = Announcer(FakeEngine(), SilentPlayer(), tmp_path, volume=100).render(CALL)
    quiet = Announcer(FakeEngine(), SilentPlayer(), tmp_path, volume=50).render(CALL)
    assert max(quiet.samples) == pytest.approx(max(loud.samples) / 2, abs=1)


def tone(path: Path, seconds: float, freq: int) -> None:
    n = int(seconds * 8000)
    write_wav(path, Pcm(8000, array("h", ((1000 if (i * freq // 4000) % 2 else -1000) for i in range(n)))))


def test_recorded_clips_are_joined_longest_name_first(tmp_path) -> None:
    for name in ["请", "号", "到", "号窗口", "办理", "零", "一", "二", "五"]:
        tone(tmp_path / f"{name}.wav", 0.1, 440)
    engine = ClipsEngine(tmp_path)
    assert engine._pieces("五 号窗口") == ["五", " ", "号窗口"]
    pcm = engine.synthesize(CALL)
    pieces = [p for p in engine._pieces(CALL) if not p.isspace()]
    assert len(pieces) == 11  # 请 零 二 零 一 五 号 到 五 号窗口 办理
    clip = int(0.1 * RATE)
    pause = int(ClipsEngine.PAUSE_S * RATE)
    assert len(pcm.samples) == 11 * clip + 6 * pause
    with pytest.raises(VoiceError, match="三"):
        engine.synthesize("请 三 号")


class GatedPlayer:
    """Holds each announcement until the test lets it finish."""

    def __init__(self) -> None:
        self.started: list[Path] = []
        self.release = threading.Semaphore(0)
        self.began = threading.Semaphore(0)

    def play(self, path: Path, seconds: float) -> None:
        self.started.append(path)
        self.began.release()
        assert self.release.acquire(timeout=5)


def test_announcements_queue_and_never_overlap(tmp_path) -> None:
    player = GatedPlayer()
    engine = FakeEngine()
    announcer = Announcer(engine, player, tmp_path).start()
    for ticket in ("02015", "02016", "05001"):
        announcer.say(call_text(ticket, "5"))
    assert player.began.acquire(timeout=5)
    assert len(player.started) == 1 and announcer.pending() == 2  # the others wait their turn
    player.release.release()
    assert player.began.acquire(timeout=5)
    assert len(player.started) == 2
    player.release.release()
    assert player.began.acquire(timeout=5)
    player.release.release()
    announcer.stop()
    assert [t for t, _ in announcer.spoken] == [call_text(t, "5") for t in ("02015", "02016", "05001")]


def peak(pcm: Pcm) -> int:
    return max(abs(s) for s in pcm.samples)


def test_espeak_speaks_at_the_configured_volume() -> None:
    loud, quiet = EspeakEngine(volume=100).synthesize(CALL), EspeakEngine(volume=40).synthesize(CALL)
    assert len(loud.samples) == len(quiet.samples)  # the same words ...
    assert 0.25 < peak(quiet) / peak(loud) < 0.55  # ... at 40 %


def write_raw_wav(path: Path, rate: int, width: int, channels: int, frames: list[int]) -> None:
    """A WAV as a sound editor would save it (not through our own write_wav)."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        if width == 1:
            w.writeframes(bytes(128 + v // 256 for v in frames for _ in range(channels)))
        else:
            w.writeframes(array("h", [v for v in frames for _ in range(channels)]).tobytes())


def test_recorded_clips_of_any_common_format_are_joined_at_the_configured_volume(tmp_path) -> None:
    square = [8000 if (i // 20) % 2 else -8000 for i in range(4410)]  # 0.1 s at 44.1 kHz
    write_raw_wav(tmp_path / "请.wav", 44100, 2, 2, square)  # CD stereo
    write_raw_wav(tmp_path / "号.wav", 8000, 1, 1, square[:800])  # telephone 8-bit, 0.1 s
    write_raw_wav(tmp_path / "chime.wav", 22050, 2, 1, [4000] * 11025)  # the hall's own chime, 0.5 s
    full = ClipsEngine(tmp_path, volume=100)
    half = ClipsEngine(tmp_path, volume=50)
    pcm = full.synthesize("请 号")
    assert len(pcm.samples) == pytest.approx(2 * 0.1 * RATE + ClipsEngine.PAUSE_S * RATE, abs=2)
    assert peak(pcm) == pytest.approx(8000, abs=300)
    assert peak(half.synthesize("请 号")) == pytest.approx(peak(pcm) / 2, abs=150)
    # the announcer plays the hall's chime, not the built-in one, before the words
    said = Announcer(half, SilentPlayer(), tmp_path, volume=50).render("请 号")
    assert said.samples[:11025] == array("h", [2000] * 11025)
    assert len(said.samples) == 11025 + len(pcm.samples)


def test_the_engine_is_chosen_by_config(tmp_path) -> None:
    (tmp_path / "clips").mkdir()
    assert make_engine(Voice(engine="off")) is None
    assert isinstance(make_engine(Voice(engine="fake")), FakeEngine)
    assert isinstance(make_engine(Voice(engine="espeak", volume=30)), EspeakEngine)
    assert make_engine(Voice(engine="espeak", volume=30)).command("请")[6] == "30"
    clips = make_engine(Voice(engine="clips", clips_dir="clips", volume=70), base=tmp_path)
    assert isinstance(clips, ClipsEngine) and clips.folder == tmp_path / "clips" and clips.volume == 70
    with pytest.raises(ConfigError, match="not a folder"):
        make_engine(Voice(engine="clips", clips_dir="nowhere"), base=tmp_path)


def test_each_engine_says_what_it_cannot_say(tmp_path) -> None:
    assert EspeakEngine().missing(call_text("02015", "a", "综合服务台A")) == []
    assert EspeakEngine().missing(call_text("02015", "a", "鑫源窗口")) == ["鑫", "源"]
    write_wav(tmp_path / "请.wav", silence(0.1))
    assert ClipsEngine(tmp_path).missing("请 五 号") == ["五", "号"]
