"""Who may do what on the broker: one account per process, and the topics it may touch.

Every paihao process logs in with its own account, named after what it is
(``hall``, ``kiosk-k1``, ``caller-p1``, ``display-wall1``, ``bridge-gsm1``);
a device's replies topic carries the same name, so the broker can keep each
device to its own replies. ``paihao broker-config`` turns these grants into
Mosquitto's ACL file; the processes use ``account_name`` to log in.
"""

from __future__ import annotations

from dataclasses import dataclass

from bus.topics import Topics
from paihao.config import HallConfig

HALL = "hall"
MONITOR = "monitor"  # read-only, for a technician's mosquitto_sub; never sees a phone number
KINDS = ("kiosk", "caller", "display", "bridge")


def account_name(kind: str, device_id: str | None = None) -> str:
    """``hall``, or ``kiosk-k1``: a device's account, client name and replies topic."""
    if kind == HALL:
        return HALL
    if kind not in KINDS or not device_id:
        raise ValueError(f"no account for {kind!r} {device_id!r}")
    return f"{kind}-{device_id}"


@dataclass(frozen=True)
class Account:
    name: str
    what: str  # a line for the ACL file, so a reader knows what the account is for
    read: tuple[str, ...] = ()
    write: tuple[str, ...] = ()


def accounts(config: HallConfig) -> list[Account]:
    """Every account of the hall, in a stable order (so the files they make are too)."""
    t = Topics(config.site.id)
    found = [
        Account(HALL, "the controller: the only writer of state and events; reads every request",
                read=(f"{t.root}/#",), write=(f"{t.root}/#",)),
        Account(MONITOR, "read-only: hall state, events and device status (no requests, replies or texts)",
                read=_public(t) + (t.device_status("+", "+"), t.report("+"))),
    ]
    found += [_kiosk(t, k.id) for k in config.kiosks]
    for pad in config.callers:
        windows = [w.window for w in pad.windows]
        depts = sorted({d for w in windows for d in config.window(w).depts})  # type: ignore[union-attr]
        found.append(_caller(t, pad.id, windows, depts))
    found += [_display(t, d.id) for d in config.displays]
    found += [_bridge(t, b.id) for b in config.bridges]
    return found


def _public(t: Topics) -> tuple[str, ...]:
    """The retained state and the events: what a screen shows (phone numbers masked)."""
    return (t.hall_status, t.queue("+"), t.window("+"), t.recent_calls, t.active_cards, t.cards_today, t.event("+"))


def _kiosk(t: Topics, kiosk: str) -> Account:
    name = account_name("kiosk", kiosk)
    return Account(name, f"kiosk {kiosk}: asks for tickets on its own request topic",
                   read=(t.hall_status, t.queue("+"), t.replies(name)),
                   write=(t.kiosk_request(kiosk), t.device_status("kiosks", kiosk)))


def _caller(t: Topics, pad: str, windows: list[str], depts: list[str]) -> Account:
    name = account_name("caller", pad)
    return Account(name, f"call-pad {pad}: the commands of windows {', '.join(windows)}",
                   read=(t.hall_status, *(t.window(w) for w in windows), *(t.queue(d) for d in depts),
                         t.replies(name)),
                   write=(*(t.window_command(w) for w in windows), t.device_status("callers", pad)))


def _display(t: Topics, display: str) -> Account:
    return Account(account_name("display", display), f"display {display}: reads, and says it is alive",
                   read=_public(t), write=(t.device_status("displays", display),))


def _bridge(t: Topics, bridge: str) -> Account:
    name = account_name("bridge", bridge)
    return Account(name, f"SMS bridge {bridge}: the texts, nothing else",
                   read=(t.hall_status, t.sms_outbox, t.sms_cancel, t.replies(name)),
                   write=(t.sms_sent, t.sms_inbox, t.device_status("bridge", bridge)))
