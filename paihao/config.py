"""The hall's TOML configuration: one file, validated on load, shared by every process.

Unknown keys are errors (a misspelt key must not silently fall back to a
default), and every error names the file, the key and what is wrong.
"""

from __future__ import annotations

import difflib
import re
import string
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from paihao.device_config import Kiosk, TicketText
from paihao.device_config import CallerPad
from paihao.device_config import Display
from paihao.device_config import Bridge
from paihao.errors import ConfigError

ID_PATTERN = r"^[a-z0-9_-]{1,32}$"
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_WORKDAYS = re.compile(r"^(\d{1,3})wd$")


def parse_duration(text: str) -> timedelta:
    """Parse "90s", "20m", "1h" or "1h30m" into a timedelta."""
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not match or not any(match.groups()):
        raise ValueError(f'{text!r} is not a duration such as "90s", "20m" or "1h30m"')
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    value = timedelta(hours=hours, minutes=minutes, seconds=seconds)
    if value <= timedelta(0):
        raise ValueError("a duration must be longer than zero")
    return value


def parse_workdays(text: str) -> int:
    """Parse "5wd" (five working days) into 5."""
    match = _WORKDAYS.match(text.strip()) if isinstance(text, str) else None
    if not match or int(match.group(1)) == 0:
        raise ValueError(f'{text!r} is not a number of working days such as "5wd"')
    return int(match.group(1))


def _check_duration(text: str) -> str:
    parse_duration(text)
    return text


def _check_workdays(text: str) -> str:
    parse_workdays(text)
    return text


def _check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{name!r} is not a known time zone such as 'Asia/Shanghai'") from None
    return name


Identifier = Annotated[str, Field(pattern=ID_PATTERN, description="lower-case letters, digits, _ and -")]
DeptCode = Annotated[str, Field(pattern=r"^\d{2}$", description="two digits, e.g. '02'")]
Duration = Annotated[str, AfterValidator(_check_duration)]
Workdays = Annotated[str, AfterValidator(_check_workdays)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Site(Section):
    id: Identifier = Field(description="the site's id in every MQTT topic")
    name: str = Field(min_length=1, description="the hall's name, as printed and shown")
    timezone: Annotated[str, AfterValidator(_check_timezone)] = Field(
        "Asia/Shanghai", description="decides when a day (and its numbering) starts"
    )


class Mqtt(Section):
    host: str = Field("localhost", min_length=1)
    port: int = Field(1883, ge=1, le=65535)
    credentials: str | None = Field(
        None, description="TOML file of account = password (paihao broker-config writes it); each process "
                          "logs in as its own account; relative to the config file"
    )
    username: str | None = Field(None, description="one account for every process (a broker paihao did not set up)")
    password: str | None = Field(None, repr=False, description="never logged")
    keepalive_s: int = Field(30, ge=5, le=600)
    tcp_nodelay: bool = Field(
        True, description="disable Nagle's algorithm; without it a QoS 1 round trip can stall ~40 ms"
    )
    tls: bool = Field(False, description="connect over TLS (the broker's [broker] tls_port)")
    ca_file: str | None = Field(
        None, description="with tls: the CA certificate the broker's is checked against; none: the system's CAs"
    )

    @model_validator(mode="after")
    def _one_way_to_log_in(self) -> Mqtt:
        if self.credentials and (self.username or self.password):
            raise ValueError("credentials and username/password exclude each other: every process logs in "
                             "with its own account from the credentials file")
        if self.ca_file and not self.tls:
            raise ValueError("ca_file is only used with tls = true")
        return self


class Broker(Section):
    """The Mosquitto config that ``paihao broker-config`` writes for the hall server."""

    bind: str = Field("", description='address the listeners bind to; "" every interface')
    port: int = Field(1883, ge=0, le=65535, description="plain MQTT listener; 0: none (TLS only)")
    tls_port: int = Field(0, ge=0, le=65535, description="TLS listener, e.g. 8883; 0: none")
    certfile: str | None = Field(None, description="the broker's certificate (PEM); relative to the config file")
    keyfile: str | None = Field(None, description="its private key (PEM), readable by the mosquitto user")
    persistence: bool = Field(True, description="keep retained messages and queued QoS 1 messages across restarts")
    persistence_dir: str = Field("/var/lib/mosquitto", min_length=1, description="where mosquitto keeps them")

    @model_validator(mode="after")
    def _listeners(self) -> Broker:
        if not self.port and not self.tls_port:
            raise ValueError("the broker needs a listener: port, tls_port or both")
        if self.tls_port and not (self.certfile and self.keyfile):
            raise ValueError("tls_port needs certfile and keyfile")
        if self.port and self.port == self.tls_port:
            raise ValueError("port and tls_port must differ")
        return self


class Storage(Section):
    db: str = Field("paihao.db", min_length=1, description="SQLite file, relative to the config file")
    phone_retention_days: int = Field(
        180, ge=1, le=3650, description="phone numbers are erased after this many days; evaluations stay, anonymous"
    )


class Queue(Section):
    max_waiting_per_phone: int = Field(
        3, ge=1, le=50, description="waiting tickets one phone may hold in one department"
    )
    request_retention_days: int = Field(
        7, ge=1, le=365, description="how long answered request_ids are remembered"
    )


class Supervision(Section):
    red_factor: float = Field(2.0, gt=1.0, le=10.0, description="red card at limit x red_factor")
    tick: Duration = Field("1s", description="how often overdue services are checked")


class Calendar(Section):
    """Working days for years the official calendar package has no data for."""

    extra_workdays: list[str] = Field(default_factory=list, description="ISO dates worked though weekend")
    extra_holidays: list[str] = Field(default_factory=list, description="ISO dates off though weekday")

    @field_validator("extra_workdays", "extra_holidays")
    @classmethod
    def _iso_dates(cls, values: list[str]) -> list[str]:
        from datetime import date

        for value in values:
            try:
                date.fromisoformat(value)
            except (TypeError, ValueError):
                raise ValueError(f"{value!r} is not a date such as '2027-02-07'") from None
        return values


SMS_FIELDS = ("hall", "date", "window", "item", "ticket", "dept")


def _template_fields(allowed: tuple[str, ...]):
    """A text with ``{field}`` placeholders, each one of ``allowed``: checked on load, not when a text is due."""

    def check(text: str) -> str:
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
        except ValueError as exc:
            raise ValueError(f"{text!r}: {exc} (write a literal brace as {{{{ or }}}})") from None
        for name in names:
            if name not in allowed:
                raise ValueError(f"{{{name}}} is not one of {', '.join('{' + a + '}' for a in allowed)}")
        return text

    return AfterValidator(check)


class Sms(Section):
    """Evaluation by SMS (issue 6): the text sent after a service, and how replies are matched."""

    enabled: bool = Field(True, description="false: no texts are queued at all; replies that arrive are still recorded")
    template: Annotated[str, _template_fields(SMS_FIELDS)] = Field(
        "【{hall}】您于{date}在{window}办理的{item}已办结。请回复：1满意 2基本满意 3不满意",
        min_length=1,
        max_length=300,
        description="fields: {hall} {date} {window} {item} {ticket} {dept}",
    )
    help: Annotated[str, _template_fields(("hall",))] = Field(
        "【{hall}】请回复数字评价：1满意 2基本满意 3不满意；回复TD退订。", min_length=1, max_length=300,
        description="the one reply to a text that is not a rating (at most one per number per reply_window); {hall}",
    )
    opted_out: Annotated[str, _template_fields(("hall",))] = Field(
        "【{hall}】您已退订评价短信。", max_length=300, description="the reply to TD; empty: none; {hall}"
    )
    reply_window: Duration = Field("72h", description="a reply rates the latest unrated service this recent")
    resend: Duration = Field("60s", description="an outbox text not yet confirmed sent is offered again this often")


class Score(Section):
    """The monthly score: mean points of the answered evaluations, minus a penalty per card."""

    satisfied: float = Field(100, ge=0, le=1000, description="points for 满意")
    basic: float = Field(60, ge=0, le=1000, description="points for 基本满意")
    unsatisfied: float = Field(0, ge=0, le=1000, description="points for 不满意")
    yellow_penalty: float = Field(1, ge=0, le=1000, description="points off per yellow card")
    red_penalty: float = Field(3, ge=0, le=1000, description="points off per red card (on top of its yellow one)")


class Reports(Section):
    folder: str = Field("reports", min_length=1, description="CSV and XLSX files, relative to the config file")
    score: Score = Score()


class Department(Section):
    code: DeptCode
    name: str = Field(min_length=1)
    name_en: str = Field("", description="shown beneath the Chinese name for visitors")
    short_name: str = Field("", max_length=8, description="简称, e.g. 人社局: where the full name does not fit "
                                                          "(the LED wall's narrow columns)")
    floor: int = Field(ge=-5, le=100)


class Item(Section):
    code: Identifier
    dept: DeptCode
    name: str = Field(min_length=1)
    name_en: str = Field("", description="shown beneath the Chinese name for visitors")
    kind: Literal["immediate", "promised"]
    service_limit: Duration = Field(description="time at the window before a yellow card")
    deadline: Workdays | None = Field(None, description='promised items only: "5wd"')

    @model_validator(mode="after")
    def _deadline_matches_kind(self) -> Item:
        if self.kind == "promised" and self.deadline is None:
            raise ValueError('a promised item needs a deadline such as "5wd"')
        if self.kind == "immediate" and self.deadline is not None:
            raise ValueError("an immediate item is done on the spot and has no deadline")
        return self

    @property
    def limit(self) -> timedelta:
        return parse_duration(self.service_limit)

    @property
    def deadline_workdays(self) -> int | None:
        return parse_workdays(self.deadline) if self.deadline else None


class Window(Section):
    id: Identifier
    depts: list[DeptCode] = Field(min_length=1)
    name: str | None = Field(None, description='shown and announced; default "<id>号窗口"')
    floor: int | None = Field(None, description="default: the floor of its first department")


class Clerk(Section):
    id: Identifier
    name: str = Field(min_length=1)


class HallConfig(Section):
    site: Site
    mqtt: Mqtt = Mqtt()
    broker: Broker = Broker()
    storage: Storage = Storage()
    queue: Queue = Queue()
    supervision: Supervision = Supervision()
    calendar: Calendar = Calendar()
    sms: Sms = Sms()
    reports: Reports = Reports()
    departments: list[Department] = Field(min_length=1)
    items: list[Item] = Field(min_length=1)
    windows: list[Window] = Field(min_length=1)
    clerks: list[Clerk] = Field(min_length=1)
    ticket: TicketText = TicketText()
    kiosks: list[Kiosk] = Field(default_factory=list)
    callers: list[CallerPad] = Field(default_factory=list)
    displays: list[Display] = Field(default_factory=list)
    bridges: list[Bridge] = Field(default_factory=list)

    @model_validator(mode="after")
    def _references(self) -> HallConfig:
        for name, keys in (
            ("departments", [d.code for d in self.departments]),
            ("items", [i.code for i in self.items]),
            ("windows", [w.id for w in self.windows]),
            ("clerks", [c.id for c in self.clerks]),
            ("kiosks", [k.id for k in self.kiosks]),
            ("callers", [c.id for c in self.callers]),
            ("displays", [d.id for d in self.displays]),
            ("bridges", [b.id for b in self.bridges]),
        ):
            seen: set[str] = set()
            for key in keys:
                if key in seen:
                    raise ValueError(f"{name}: {key!r} appears twice")
                seen.add(key)
        codes = {d.code for d in self.departments}
        for item in self.items:
            if item.dept not in codes:
                raise ValueError(f"items: {item.code!r} names unknown department {item.dept!r}")
        for window in self.windows:
            for dept in window.depts:
                if dept not in codes:
                    raise ValueError(f"windows: {window.id!r} names unknown department {dept!r}")
        padded: dict[str, str] = {}
        for pad in self.callers:  # a window answers to one pad: two would call over each other
            for entry in pad.windows:
                if entry.window not in {w.id for w in self.windows}:
                    raise ValueError(f"callers: {pad.id!r} names unknown window {entry.window!r}")
                if padded.setdefault(entry.window, pad.id) != pad.id:
                    raise ValueError(f"callers: window {entry.window!r} is on {padded[entry.window]!r} and {pad.id!r}")
        served = {d for w in self.windows for d in w.depts}
        with_items = {i.dept for i in self.items}
        for dept in sorted(codes):
            if dept not in served:
                raise ValueError(f"departments: {dept!r} has no window, its tickets would never be called")
            if dept not in with_items:
                raise ValueError(f"departments: {dept!r} has no items, no ticket could be taken for it")
        if timedelta(days=self.storage.phone_retention_days) < parse_duration(self.sms.reply_window):
            # The reply is matched by the number the text went to: erased, a reply could not be matched.
            raise ValueError("storage.phone_retention_days: shorter than [sms] reply_window")
        return self

    # Look-ups used by every process; the lists are small, so plain scans are fine.
    def department(self, code: str) -> Department | None:
        return next((d for d in self.departments if d.code == code), None)

    def item(self, code: str) -> Item | None:
        return next((i for i in self.items if i.code == code), None)

    def window(self, window_id: str) -> Window | None:
        return next((w for w in self.windows if w.id == window_id), None)

    def clerk(self, clerk_id: str) -> Clerk | None:
        return next((c for c in self.clerks if c.id == clerk_id), None)

    def kiosk(self, kiosk_id: str) -> Kiosk | None:
        return next((k for k in self.kiosks if k.id == kiosk_id), None)

    def caller(self, pad_id: str) -> CallerPad | None:
        return next((c for c in self.callers if c.id == pad_id), None)

    def display(self, display_id: str) -> Display | None:
        return next((d for d in self.displays if d.id == display_id), None)

    def bridge(self, bridge_id: str) -> Bridge | None:
        return next((b for b in self.bridges if b.id == bridge_id), None)

    def window_floor(self, window: Window) -> int:
        if window.floor is not None:
            return window.floor
        dept = self.department(window.depts[0])
        return dept.floor if dept else 1

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.site.timezone)


def load_config(path: str | Path, *, folder: Path | None = None, **overrides: object) -> HallConfig:
    """Read and validate a hall config; raise ConfigError naming the file and key.

    Relative paths in it are relative to ``folder``, by default the file's own (the
    installer passes the folder the file is about to be copied to).
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    for section, values in overrides.items():
        raw.setdefault(section, {}).update(values)  # type: ignore[union-attr]
    try:
        config = HallConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(path, exc)) from None
    return _resolve_paths(config, folder or path.parent)


def _resolve_paths(config: HallConfig, folder: Path) -> HallConfig:
    """Relative file names in the config are relative to the config file's folder."""

    def resolved(value: str | None) -> str | None:
        return value if value is None or Path(value).is_absolute() else str((folder / value).resolve())

    mqtt, broker = config.mqtt, config.broker
    return config.model_copy(update={
        "storage": config.storage.model_copy(update={"db": resolved(config.storage.db)}),
        "reports": config.reports.model_copy(update={"folder": resolved(config.reports.folder)}),
        "mqtt": mqtt.model_copy(update={"credentials": resolved(mqtt.credentials), "ca_file": resolved(mqtt.ca_file)}),
        "broker": broker.model_copy(update={"certfile": resolved(broker.certfile),
                                            "keyfile": resolved(broker.keyfile)}),
    })


def _describe(path: Path, exc: ValidationError) -> str:
    lines = [f"{path}: {exc.error_count()} error(s)"]
    for error in exc.errors():
        location = _dotted(error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key" + _suggestion(error["loc"])
        elif error["type"] == "missing":
            message = "missing: this key is required"
        lines.append(f"  {location or '(top level)'}: {message}")
    return "\n".join(lines)


def _dotted(loc: tuple) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _suggestion(loc: tuple) -> str:
    """'; did you mean "depts"?' for a misspelt key, from the model's own field names."""
    model: type[BaseModel] = HallConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation
        inner = getattr(annotation, "__args__", (annotation,))[0]
        if not (isinstance(inner, type) and issubclass(inner, BaseModel)):
            return ""
        model = inner
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    return f'; did you mean "{close[0]}"?' if close else ""
