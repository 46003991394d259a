"""A hall behind a locked broker: ``paihao broker-config`` run for real on the test hall's
config, and the real mosquitto started with the files it wrote."""

from __future__ import annotations

import getpass
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bus.broker import ConfiguredBroker, free_port
from bus.client import BusClient
from bus.topics import Topics
from paihao.config import HallConfig, load_config
from paihao.credentials import connection, read_credentials
from tests.conftest import write_config

NOT_AUTHORIZED = 0x87


def locked_config_file(directory: Path, *, extra: str = "", tls: bool = False) -> Path:
    """The test hall with a second kiosk, an SMS bridge, and a [broker] on a free port."""
    port = free_port()
    path = write_config(directory, port)
    text = path.read_text(encoding="utf-8").replace(
        '[mqtt]\nhost = "127.0.0.1"', '[mqtt]\nhost = "127.0.0.1"\ncredentials = "broker/credentials.toml"')
    if tls:
        text = text.replace(f"port = {port}", f"port = {port}\ntls = true\nca_file = \"tls/cert.pem\"")
        broker = (f'[broker]\nbind = "127.0.0.1"\nport = 0\ntls_port = {port}\npersistence = false\n'
                  'certfile = "tls/cert.pem"\nkeyfile = "tls/key.pem"\n')
    else:
        broker = f'[broker]\nbind = "127.0.0.1"\nport = {port}\npersistence = false\n'
    text += f'\n{broker}\n[[kiosks]]\nid = "k2"\n\n[[bridges]]\nid = "gsm1"\n{extra}'
    path.write_text(text, encoding="utf-8")
    return path


def broker_config(config_path: Path, *args: str) -> subprocess.CompletedProcess:
    """The real command, as an installer or an admin runs it."""
    out = config_path.parent / "broker"
    # The broker runs as whoever runs the tests (as root it would otherwise switch to "mosquitto",
    # which cannot read a test's private folder).
    return subprocess.run([sys.executable, "-m", "paihao.cli", "broker-config", "--config", str(config_path),
                           "--out", str(out), "--broker-user", getpass.getuser(), *args],
                          capture_output=True, text=True, timeout=60)


@dataclass
class LockedHall:
    config: HallConfig
    config_path: Path
    broker: ConfiguredBroker
    topics: Topics

    @property
    def passwords(self) -> dict[str, str]:
        return read_credentials(self.config.mqtt.credentials)  # type: ignore[arg-type]

    def client(self, account: str, *, reply: bool = True, wait: float = 10, **changes: object) -> BusClient:
        """A started BusClient logged in as ``account`` (``changes`` override the login)."""
        options = {**connection(self.config, account), **changes}
        reply_topic = self.topics.replies(account) if reply else None
        client = BusClient(f"test-{account}-{uuid.uuid4().hex[:8]}", reply_topic=reply_topic, **options)
        return client.start(wait)

    def fence(self) -> None:
        """Once every device has heard this, it has heard all that was published before: "online"
        again on hall/status, not retained (the one topic every account may read)."""
        hall = self.client("hall", reply=False)
        try:
            hall.wait_published(self.topics.hall_status, "online")
        finally:
            hall.stop()

    def close(self) -> None:
        self.broker.close()


def start_locked(directory: Path, **options: object) -> LockedHall:
    path = locked_config_file(directory, **options)  # type: ignore[arg-type]
    done = broker_config(path)
    assert done.returncode == 0, done.stderr
    config = load_config(path)
    port = config.broker.tls_port or config.broker.port
    broker = ConfiguredBroker(directory / "broker" / "mosquitto.conf", port).start()
    return LockedHall(config, path, broker, Topics(config.site.id))


class RawClient:
    """paho itself, to see the broker's reason codes that BusClient does not surface."""

    def __init__(self, hall: LockedHall, account: str, password: str | None = None) -> None:
        self.acks: dict[int, int] = {}
        self._cond = threading.Condition()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"raw-{account}",
                                  protocol=mqtt.MQTTv5)
        self.client.username_pw_set(account, password if password is not None else hall.passwords[account])
        self.client.on_publish = self._acked
        self.client.connect(hall.broker.host, hall.broker.port)
        self.client.loop_start()

    def _acked(self, client: object, userdata: object, mid: int, reason: object, properties: object) -> None:
        with self._cond:
            self.acks[mid] = getattr(reason, "value", reason)
            self._cond.notify_all()

    def publish(self, topic: str, payload: bytes | str, *, retain: bool = False, response: str | None = None) -> int:
        """Publish at QoS 1; the PUBACK's reason code (0x87: not authorized)."""
        properties = None
        if response:
            properties = Properties(PacketTypes.PUBLISH)
            properties.ResponseTopic = response
            properties.CorrelationData = b"x"
        mid = self.client.publish(topic, payload, qos=1, retain=retain, properties=properties).mid
        with self._cond:
            assert self._cond.wait_for(lambda: mid in self.acks, 5), f"no PUBACK for {topic}"
            return self.acks[mid]

    def close(self) -> None:
        sock = self.client.socket()
        self.client.disconnect()
        self.client.loop_stop()
        if sock is not None:
            sock.close()
        self.client._reset_sockets(sockpair_only=True)  # as BusClient.stop does
