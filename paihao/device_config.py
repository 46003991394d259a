"""Config sections of the hall's devices: kiosks and their printers (more devices follow)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

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
