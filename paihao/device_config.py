"""Config sections of the hall's devices: kiosks and their printers (more devices follow)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ID_PATTERN = r"^[a-z0-9_-]{1,32}$"
DEFAULT_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class UsbPrinter(Section):
    type: Literal["usb"]
    vendor_id: int = Field(description="USB vendor id, e.g. 0x0416")
    product_id: int = Field(description="USB product id, e.g. 0x5011")
    # Endpoints differ between models (many 0x0416:0x5011 printers use 0x81/0x03) and
    # python-escpos cannot find them itself: without these such a printer cannot be used.
    in_ep: int = Field(0x82, ge=0x81, le=0x8F, description="USB IN endpoint (lsusb -v: bEndpointAddress)")
    out_ep: int = Field(0x01, ge=0x01, le=0x0F, description="USB OUT endpoint (lsusb -v: bEndpointAddress)")
    profile: str | None = Field(None, description="python-escpos printer profile, e.g. 'TM-T88V'")


class SerialPrinter(Section):
    type: Literal["serial"]
    device: str = Field("/dev/ttyUSB0")
    baudrate: int = Field(9600, ge=1200, le=921600)
    profile: str | None = None


class NetworkPrinter(Section):
    type: Literal["network"]
    host: str = Field(min_length=1)
    port: int = Field(9100, ge=1, le=65535)
    profile: str | None = None


class FilePrinter(Section):
    """Writes each ticket's ESC/POS bytes to a file: for a laptop, or a printer device node."""

    type: Literal["file"]
    path: str = Field(min_length=1)


class FakePrinter(Section):
    """The printer that ships in the package: records tickets, can be told to fail."""

    type: Literal["fake"]
    fault: Literal["none", "offline", "paper_out", "paper_low", "fail_mid_job"] = "none"


PrinterConfig = Annotated[
    UsbPrinter | SerialPrinter | NetworkPrinter | FilePrinter | FakePrinter, Field(discriminator="type")
]


class Screen(Section):
    width: int = Field(1080, ge=320, le=7680)
    height: int = Field(1920, ge=240, le=7680)
    fullscreen: bool = Field(True, description="false: a window of width x height, for a laptop")


class Kiosk(Section):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    printer: PrinterConfig = FakePrinter(type="fake")
    screen: Screen = Screen()
    font: str = Field(DEFAULT_FONT, description="a TrueType/OpenType file or collection with Chinese glyphs")
    idle_s: int = Field(30, ge=5, le=600, description="back to the home screen after this long untouched")
    reply_timeout_s: float = Field(3.0, gt=0, le=30, description="wait this long for the hall, then retry once")


class TicketText(Section):
    notice: str = Field("请留意叫号，过号请到窗口重新排队", max_length=60, description="one line printed on every ticket")


# --- displays (issue 5): the LED wall and the small screens above windows ----------------------

VoiceEngine = Literal["espeak", "clips", "fake", "off"]


class Voice(Section):
    """How a display announces calls. One display per hall speaks; the others say engine = "off"."""

    engine: VoiceEngine = Field("espeak", description='espeak-ng (Debian\'s, offline), "clips" (recorded WAVs '
                                                      'concatenated), "fake" (records the text; tests, demo) or "off"')
    volume: int = Field(80, ge=0, le=100, description="percent of full scale")
    clips_dir: str | None = Field(None, description='engine "clips": a folder of WAVs named after what they say, '
                                                    'e.g. 请.wav, 号.wav, 号窗口.wav, 零.wav … 九.wav, 十.wav, chime.wav')
    chime: bool = Field(True, description="a two-tone chime before each announcement")

    @model_validator(mode="after")
    def _clips_need_a_folder(self) -> Voice:
        if self.engine == "clips" and not self.clips_dir:
            raise ValueError('engine "clips" needs clips_dir')
        return self


class Display(Section):
    id: Annotated[str, Field(pattern=ID_PATTERN)]
    size: tuple[Annotated[int, Field(ge=64, le=7680)], Annotated[int, Field(ge=32, le=4320)]] = Field(
        (1920, 1080), description="canvas in pixels, drawn 1:1 (an LED wall's native size, e.g. [384, 192])")
    layout: Literal["wall", "calls"] = Field("wall", description='"wall": everything; "calls": calls and queues only')
    theme: Literal["led", "contrast"] = Field("led", description='"led": pure red, green, yellow on black; '
                                                                 '"contrast": white and badges, for LCD panels')
    window: Annotated[str, Field(pattern=ID_PATTERN)] | None = Field(
        None, description="show the page for the small screen above this window instead of the wall")
    fullscreen: bool = True
    font: str = Field(DEFAULT_FONT, description="a TrueType/OpenType file or collection with Chinese glyphs")
    voice: Voice = Voice()
    notice: str = Field("", max_length=300, description="scrolls along the bottom of the wall")
    fps: int = Field(30, ge=1, le=60)
    flash_s: float = Field(5.0, ge=0, le=30, description="a new call flashes this long")
    call_min_s: float = Field(3.0, ge=3, le=30, description="each call stays in the banner at least this long")
    page_s: float = Field(6.0, ge=2, le=60, description="lists longer than their box turn a page this often")
    state_file: str | None = Field(None, description="remembers the last announced call and today's card tally "
                                                     "across restarts; default ~/.local/state/paihao/display-<id>.json")


# --- call-pads (issue 4): a window's buttons, LEDs, buzzer, keypad and LCD ----------------------

GpioPin = Annotated[int, Field(ge=0, le=27, description="BCM GPIO number (GPIO17 is 17, header pin 11)")]


class PadButtons(Section):
    """Push buttons between the GPIO and ground (the internal pull-up is used)."""

    next: GpioPin | None = Field(None, description="呼叫 call the next citizen; held hold_s: 转办 transfer")
    recall: GpioPin | None = Field(None, description="重呼 call again")
    skip: GpioPin | None = Field(None, description="过号 the citizen did not come")
    complete: GpioPin | None = Field(None, description="办结 done")
    accept: GpioPin | None = Field(None, description="受理 a promised matter taken in")
    pause: GpioPin | None = Field(None, description="暂停 pause, or resume when paused")


class PadLeds(Section):
    green: GpioPin | None = Field(None, description="serving a citizen")
    amber: GpioPin | None = Field(None, description="paused")
    red: GpioPin | None = Field(None, description="blinks: not connected, or the last command failed")


class PadLcd(Section):
    type: Literal["i2c", "fake"] = Field("i2c", description='"fake" records its text (tests, demo)')
    address: int = Field(0x27, ge=0x03, le=0x77, description="I2C address (i2cdetect -y 1): often 0x27 or 0x3f")
    port: int = Field(1, ge=0, le=20, description="the I2C bus, /dev/i2c-N")
    expander: Literal["PCF8574", "MCP23008"] = Field("PCF8574", description="the I2C backpack's chip")


class PadWindow(Section):
    window: Annotated[str, Field(pattern=ID_PATTERN)] = Field(description="the window's id in [[windows]]")
    pins: PadButtons = PadButtons()
    leds: PadLeds = PadLeds()
    buzzer: GpioPin | None = Field(None, description="an active buzzer: one beep ok, two beeps refused")
    keypad: str | None = Field(None, description='a USB keypad: "/dev/input/by-id/…-event-kbd", or "fake"')
    lcd: PadLcd | None = Field(None, description="a 16x2 character LCD on I2C")

    def pins_used(self) -> list[tuple[str, int]]:
        used = [(f"pins.{k}", v) for k, v in self.pins.model_dump().items() if v is not None]
        used += [(f"leds.{k}", v) for k, v in self.leds.model_dump().items() if v is not None]
        return used + ([("buzzer", self.buzzer)] if self.buzzer is not None else [])


class CallerPad(Section):
    """One Pi serving the call-pads of one or several windows: ``paihao caller --id ID``."""

    id: Annotated[str, Field(pattern=ID_PATTERN)]
    windows: list[PadWindow] = Field(min_length=1)
    gpio: Literal["auto", "mock"] = Field("auto", description='"mock": gpiozero\'s MockFactory (laptop, demo)')
    bounce_s: float = Field(0.05, ge=0, le=1, description="button debounce time")
    hold_s: float = Field(2.0, ge=0.2, le=10, description="next (or + on the keypad) held this long: transfer")
    repeat_s: float = Field(0.4, ge=0, le=2, description="the same key again within this is a double press, ignored")
    reply_timeout_s: float = Field(1.5, gt=0, le=30, description="wait this long for the hall, then ask again")
    attempts: int = Field(3, ge=1, le=10, description="asks at most this often (same request_id), then reports")
    state_file: str | None = Field(None, description="keeps the clerks logged in across restarts; relative to "
                                                     "the db's folder; default caller-<id>.json there")

    @model_validator(mode="after")
    def _distinct(self) -> CallerPad:
        seen: dict[object, str] = {}
        for n, entry in enumerate(self.windows):
            things: list[tuple[str, object]] = [("window", ("window", entry.window))]
            things += [(name, ("pin", pin)) for name, pin in entry.pins_used()]
            if entry.keypad and entry.keypad != "fake":
                things.append(("keypad", ("keypad", entry.keypad)))
            if entry.lcd and entry.lcd.type == "i2c":
                things.append(("lcd", ("lcd", entry.lcd.port, entry.lcd.address)))
            for where, key in things:
                if key in seen:
                    raise ValueError(f"windows[{n}].{where}: {key[-1]!r} is already used by {seen[key]}")
                seen[key] = f"windows[{n}].{where}"
        return self


# --- the serial bridge (issue 6): a GSM modem for the evaluation texts --------------------------


class SerialModem(Section):
    """A SIM800 / SIM7600 class modem on a serial port (a USB modem's AT port, or a UART)."""

    type: Literal["serial"]
    device: str = Field("/dev/ttyUSB2", min_length=1,
                        description="the modem's AT port, best its /dev/serial/by-id/…-if02-port0 link")
    baudrate: int = Field(115200, ge=1200, le=921600)
    pin: str | None = Field(None, repr=False, pattern=r"^\d{4,8}$",
                            description="the SIM's PIN, if it has one; never logged, and never offered "
                                        "again once the SIM has rejected it")


class FakeModem(Section):
    """The modem that ships in the package: speaks the AT dialogue on a pseudo-terminal."""

    type: Literal["fake"]
    fault: Literal["none", "no_sim", "no_signal", "error", "garbage", "offline"] = Field(
        "none", description="how the fake misbehaves from the start (tests and demos)")


ModemConfig = Annotated[SerialModem | FakeModem, Field(discriminator="type")]


class Bridge(Section):
    """``paihao bridge --id ID``: serial devices <-> MQTT; today the GSM modem."""

    id: Annotated[str, Field(pattern=ID_PATTERN)]
    modem: ModemConfig = FakeModem(type="fake")
    db: str | None = Field(None, description="the bridge's own SQLite (ids it has sent, texts not yet handed "
                                             "over); relative to the hall db's folder; default bridge-<id>.db there")
    retry_min_s: float = Field(1.0, gt=0, le=60, description="the first wait after a modem fault; doubles each time")
    retry_max_s: float = Field(60.0, gt=0, le=3600, description="the longest wait between two tries")
    poll_s: float = Field(30.0, ge=0.05, le=3600, description="signal and registration are looked at this often")
    sweep_s: float = Field(300.0, ge=0.05, le=86400, description="the whole SIM is listed this often, for "
                                                                 "messages whose notification was lost")
    command_timeout_s: float = Field(10.0, gt=0, le=120, description="an AT command unanswered this long: a fault")
    send_timeout_s: float = Field(60.0, gt=0, le=300, description="AT+CMGS unanswered this long after the PDU: "
                                                                  "the text may have gone, and is failed 'uncertain'")
    attempts: int = Field(5, ge=1, le=50, description="tries of a text the network refuses for a passing reason")
    reply_timeout_s: float = Field(5.0, gt=0, le=60, description="wait this long for the hall to take a received "
                                                                 "message, then ask again (same request_id)")
    parts_wait_s: float = Field(3600.0, gt=0, le=7 * 86400, description="the missing parts of a long message are "
                                                                        "awaited this long, then it is handed over "
                                                                        "with the gaps marked")
    retention_days: int = Field(30, ge=1, le=3650, description="finished texts and handed-over messages are "
                                                               "forgotten after this many days")

    @model_validator(mode="after")
    def _retry_bounds(self) -> Bridge:
        if self.retry_max_s < self.retry_min_s:
            raise ValueError("retry_max_s must not be less than retry_min_s")
        return self
