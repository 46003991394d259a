"""The locked broker: the real mosquitto started with what ``paihao broker-config`` wrote,
the real controller and the real device links logging in with their own accounts."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest

from bus.client import BusClient
from caller.link import CallerLink
from display.hallstate import HallState
from display.link import DisplayLink
from kiosk.link import HallLink
from paihao.accounts import accounts
from paihao.errors import BrokerError
from tests.conftest import FakeClock, Recorder, RunningHall
from tests.locked import NOT_AUTHORIZED, LockedHall, RawClient, start_locked


@pytest.fixture(scope="module")
def locked(tmp_path_factory) -> Iterator[LockedHall]:
    hall = start_locked(tmp_path_factory.mktemp("locked"))
    yield hall
    hall.close()


@pytest.fixture(scope="module")
def running(locked: LockedHall) -> Iterator[RunningHall]:
    watcher = locked.client("monitor", reply=False)
    hall = RunningHall(locked.config, FakeClock()).start(watcher)
    yield hall
    hall.stop()
    watcher.stop()


@pytest.fixture(scope="module")
def monitor(locked: LockedHall, running: RunningHall) -> Iterator[tuple[BusClient, Recorder]]:
    client = locked.client("monitor", reply=False)
    yield client, Recorder(client, f"{locked.topics.root}/#")
    client.stop()


def _tickets(locked: LockedHall) -> int:
    with sqlite3.connect(locked.config.storage.db) as conn:
        return conn.execute("SELECT count(*) FROM tickets").fetchone()[0]


# -- logging in -----------------------------------------------------------------------


def test_a_wrong_password_an_unknown_account_and_anonymous_are_refused(locked):
    for changes in ({"password": "not-the-password"}, {"username": "kiosk-k9"}, {"username": None}):
        with pytest.raises(BrokerError, match="Not authorized"):
            locked.client("kiosk-k1", reply=False, **changes)
    client = locked.client("kiosk-k1")  # the right one is let in
    assert client.connected.is_set()
    client.stop()


def test_every_account_of_the_config_gets_a_password_and_nobody_else(locked):
    names = {a.name for a in accounts(locked.config)}
    assert names == {"hall", "monitor", "kiosk-k1", "kiosk-k2", "caller-p1", "display-wall1", "bridge-gsm1"}
    assert set(locked.passwords) == names
    assert len(set(locked.passwords.values())) == len(names)  # each its own


# -- what each device is for works ------------------------------------------------------


def test_a_kiosk_takes_a_number_through_its_own_account(locked, running, monitor):
    _client, heard = monitor
    link = HallLink(locked.config, "k1").start()
    try:
        assert link.bus.connected.wait(5)
        reply = link.take_ticket("02", "0202", "13812345678")
        assert reply["ok"] and reply["ticket"]["phone"] == "138****5678"
        # its own status, retained: allowed, and the monitor reads it
        assert heard.latest(locked.topics.device_status("kiosks", "k1"))["online"] is True
    finally:
        link.stop()


def test_a_call_pad_commands_its_windows_and_hears_their_state(locked, running):
    states: list[dict] = []
    link = CallerLink(locked.config, "p1", ["2", "5"], on_window=lambda w, s, q: states.append(s))
    link.start()
    try:
        assert link.bus.connected.wait(5)
        request = {"request_id": uuid.uuid4().hex, "action": "login", "clerk": "c02"}
        assert link.bus.request(locked.topics.window_command("2"), request, timeout=5)["ok"]
        assert any(s["window"] == "2" for s in states)  # its windows' retained state reached it
    finally:
        link.stop()


def test_a_display_hears_the_hall_and_the_bridge_its_texts(locked, running):
    all_windows = threading.Event()
    state = HallState(locked.config.tz, running.clock,
                      on_change=lambda: len(state.windows) == len(locked.config.windows) and all_windows.set())
    display = DisplayLink(locked.config, "wall1", state).start()
    bridge = locked.client("bridge-gsm1")
    outbox = Recorder(bridge, locked.topics.sms_outbox)
    cancel = Recorder(bridge, locked.topics.sms_cancel)
    hall = locked.client("hall", reply=False)
    try:
        assert display.bus.connected.wait(5)
        hall.wait_published(locked.topics.sms_outbox, {"id": 1, "phone": "13812345678", "text": "请回复"})
        assert json.loads(outbox.wait_for(lambda m: True).payload)["id"] == 1
        hall.wait_published(locked.topics.sms_cancel, {"ids": ["1"]})  # a TD withdrew it
        assert json.loads(cancel.wait_for(lambda m: True).payload) == {"ids": ["1"]}
        assert all_windows.wait(5)  # every window's retained state came in
    finally:
        hall.stop()
        bridge.stop()
        display.stop()


# -- what is not theirs is refused ---------------------------------------------------


FORBIDDEN = [
    # (account, topic below the root, payload, retained)
    ("kiosk-k1", "kiosks/k2/request", "ticket", False),  # another kiosk's request topic
    ("kiosk-k1", "windows/1/command", "login", False),  # a clerk's command
    ("kiosk-k1", "queues/02", "state", True),  # forged retained state
    ("kiosk-k1", "sms/sent", "sent", False),
    ("kiosk-k1", "callers/p1/status", "status", True),  # another device's status
    ("caller-p1", "windows/1/command", "login", False),  # a window not on this pad
    ("caller-p1", "kiosks/k1/request", "ticket", False),
    ("caller-p1", "windows/2", "state", True),  # its own window's state is the hall's to say
    ("display-wall1", "windows/2/command", "login", False),
    ("display-wall1", "hall/status", "offline", True),
    ("display-wall1", "events/called", "event", False),
    ("bridge-gsm1", "sms/outbox", "text", False),  # only the hall sends texts
    ("bridge-gsm1", "sms/cancel", "cancel", False),  # ... and withdraws them
    ("kiosk-k1", "sms/cancel", "cancel", False),  # nobody else may silence a text
    ("bridge-gsm1", "kiosks/k1/request", "ticket", False),
    ("bridge-gsm1", "cards/active", "state", True),
    ("monitor", "hall/status", "offline", True),
    ("monitor", "windows/3/command", "login", False),
]

PAYLOADS = {
    "ticket": {"request_id": "forged", "action": "ticket", "dept": "02", "item": "0202", "phone": "13912345678"},
    "login": {"request_id": "forged", "action": "login", "clerk": "c01"},
    "state": {"dept": "02", "waiting": 99, "window": "2", "status": "open"},
    "sent": {"id": 1, "ok": True},
    "status": {"online": False},
    "offline": "offline",
    "event": {"ticket": "02999", "window": "2"},
    "text": {"id": 7, "phone": "13912345678", "text": "forged"},
    "cancel": {"ids": ["forged"]},
}


@pytest.mark.parametrize("account, topic, payload, retain", FORBIDDEN)
def test_a_forbidden_publish_is_refused_and_changes_nothing(locked, running, monitor, account, topic, payload,
                                                           retain):
    _client, heard = monitor
    root = locked.topics.root
    tickets = _tickets(locked)
    mark = heard.mark()
    raw = RawClient(locked, account)
    body = PAYLOADS[payload]
    sent = (body if isinstance(body, str) else json.dumps(body)).encode()
    try:
        code = raw.publish(f"{root}/{topic}", sent, retain=retain, response=f"{root}/replies/{account}")
    finally:
        raw.close()
    assert code == NOT_AUTHORIZED
    # Nothing changed: no ticket, no clerk logged in, the retained state is still the hall's.
    assert _tickets(locked) == tickets
    locked.fence()
    heard.wait_for(lambda m: m.topic == locked.topics.hall_status and not m.retain, after=mark)
    assert not [m for m in heard.messages[mark:] if m.topic == f"{root}/{topic}" and m.payload == sent]
    fresh = locked.client("monitor", reply=False)
    retained = Recorder(fresh, f"{root}/#")
    try:
        assert retained.wait_for(lambda m: m.topic == f"{root}/hall/status").payload == b"online"
        window = retained.latest(locked.topics.window("1"))
        assert window["status"] == "closed"  # nobody logged in through a forged command
    finally:
        fresh.stop()


def test_a_device_reads_only_what_is_its_own(locked, running):
    """Everyone but the hall listens to the whole site while texts, tickets and replies pass."""
    root = locked.topics.root
    names = ["kiosk-k1", "caller-p1", "display-wall1", "bridge-gsm1", "monitor"]
    listeners = {name: locked.client(name, reply=False) for name in names}
    heard = {name: Recorder(client, f"{root}/#") for name, client in listeners.items()}
    kiosk2 = HallLink(locked.config, "k2").start()
    hall = locked.client("hall", reply=False)
    bridge = locked.client("bridge-gsm1")
    try:
        assert kiosk2.bus.connected.wait(5)
        assert kiosk2.take_ticket("02", "0202", "13700001111")["ok"]  # the request holds a full number
        hall.wait_published(locked.topics.sms_outbox, {"id": 2, "phone": "13700001111", "text": "请回复"})
        hall.wait_published(locked.topics.sms_cancel, {"ids": ["2"]})
        bridge.wait_published(locked.topics.sms_inbox, {"request_id": "r1", "phone": "13700001111", "text": "1"})
        marks = {name: heard[name].mark() for name in names}
        locked.fence()  # everything above has passed the broker
        for name in names:
            heard[name].wait_for(lambda m: m.topic == locked.topics.hall_status and not m.retain, after=marks[name])
    finally:
        for client in (hall, bridge, *listeners.values()):
            client.stop()
        kiosk2.stop()

    def topics(name: str) -> set[str]:
        return {m.topic.removeprefix(root + "/") for m in heard[name].messages}

    grants = {a.name: a.read for a in accounts(locked.config)}
    for name in names:
        assert all(any(mqtt.topic_matches_sub(g, f"{root}/{t}") for g in grants[name]) for t in topics(name)), name
        assert "kiosks/k2/request" not in topics(name)  # a citizen's full number
        assert "replies/kiosk-k2" not in topics(name)  # another device's replies
        assert ("sms/outbox" in topics(name)) == (name == "bridge-gsm1")  # texts: the bridge's alone
        assert ("sms/cancel" in topics(name)) == (name == "bridge-gsm1")  # and what is withdrawn
        assert "sms/inbox" not in topics(name)  # a citizen's answer, with the number: the hall's alone
    assert "queues/02" in topics("kiosk-k1") and "events/ticket_issued" in topics("display-wall1")
    assert "events/ticket_issued" in topics("monitor") and "kiosks/k2/status" in topics("monitor")


def _die_with_will(locked: LockedHall, will_topic: str) -> None:
    raw = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"dying-{uuid.uuid4().hex[:6]}",
                      protocol=mqtt.MQTTv5)
    raw.username_pw_set("kiosk-k1", locked.passwords["kiosk-k1"])
    raw.will_set(will_topic, json.dumps({"online": False, "will": will_topic}), qos=1, retain=True)
    connected = threading.Event()
    raw.on_connect = lambda *args: connected.set()
    raw.connect(locked.broker.host, locked.broker.port)
    while not connected.is_set():
        raw.loop(0.1)
    raw.socket().close()  # gone without a DISCONNECT: the broker sends the will
    raw._reset_sockets(sockpair_only=True)


def test_a_last_will_goes_out_on_the_devices_own_status_only(locked, running, monitor):
    _client, heard = monitor
    mine, other = (locked.topics.device_status("kiosks", k) for k in ("k1", "k2"))
    mark = heard.mark()
    _die_with_will(locked, other)  # kiosk-k1 with a will on k2's status: dropped
    _die_with_will(locked, mine)  # ... and on its own, after the first died: delivered
    heard.wait_for(lambda m: m.topic == mine and b'"will"' in m.payload, after=mark)
    assert not [m for m in heard.messages[mark:] if m.topic == other and b'"will"' in m.payload]
