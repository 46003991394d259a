"""The modem thread: the one owner of the serial port.

Why a thread of its own: a SIM800 takes seconds per text (up to a minute when the
network is slow), and paho's network thread must keep answering the broker meanwhile.
So the MQTT side only writes to the store and wakes this thread (a byte down a pipe
that ``AtChannel.next_urc`` also waits on); everything that touches the modem —
starting it, sending, reading, deleting, polling the network — happens here, in order.

Faults (port missing or vanished, no SIM, no network, ERROR replies, silence, a
restart) are all handled alike: say so in the status, wait (1 s doubling to 60 s by
default), start the modem again, and list the SIM (notifications may have been lost
meanwhile). Texts stay queued in the store the whole time.
"""

from __future__ import annotations

import logging
import os
import select
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from firmware_bridge import pdu
from firmware_bridge.at import SerialLike, scrub
from firmware_bridge.errors import (
    AtTimeout, ModemError, PortUnavailable, SendCancelled, SendUncertain, SimNotReady, SmsRejected,
)
from firmware_bridge.modem import Listed, Modem, new_message_index, wake_pipe
from firmware_bridge.phones import dial_number, masked
from firmware_bridge.store import BridgeStore, Outgoing, pdu_hash
from paihao.device_config import Bridge

log = logging.getLogger(__name__)

# +CMS causes that describe the modem's state, not the text: not counted against the text.
MODEM_CAUSES = frozenset({310, 311, 312, 313, 314, 315, 316, 317, 318, 320, 321, 322, 330, 331, 332})


class Backoff:
    """1, 2, 4 … up to ``most`` seconds (by default; ``first`` is configurable)."""

    def __init__(self, first: float, most: float) -> None:
        self.first, self.most = first, most
        self.current: float | None = None

    def next(self) -> float:
        self.current = self.first if self.current is None else min(self.most, self.current * 2)
        return self.current

    def reset(self) -> None:
        self.current = None


class ModemWorker:
    def __init__(self, opener: Callable[[], SerialLike], store: BridgeStore, settings: Bridge, *,
                 on_sent: Callable[[dict], None], on_received: Callable[[], None], on_change: Callable[[], None],
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._wake_r, self._wake_w = wake_pipe()
        pin = getattr(settings.modem, "pin", None)
        self.modem = Modem(opener, pin=pin, wake_fd=self._wake_r, timeout_s=settings.command_timeout_s,
                           send_timeout_s=settings.send_timeout_s, on_noise=self.noise_seen)
        self.store, self.settings = store, settings
        self._on_sent, self._on_received, self._on_change = on_sent, on_received, on_change
        self.clock, self.monotonic = clock, monotonic
        self.ready = False  # started and initialised
        self.problem: str | None = None  # what keeps the bridge from working fully, now
        self.offline = True  # the modem cannot be reached at all
        self.last_error: str | None = None
        self.retry_in_s: float | None = None
        self.noise = 0
        self.undecodable = 0
        self._backoff = Backoff(settings.retry_min_s, settings.retry_max_s)
        self._registration = Backoff(settings.retry_min_s, settings.retry_max_s)
        self._next_poll = self._next_sweep = 0.0
        self._stopping = False
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------------------
    def start(self) -> ModemWorker:
        self._thread = threading.Thread(target=self._run, name="modem", daemon=True)
        self._thread.start()
        return self

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop after the command in progress (a send is let finish, so it is not left uncertain)."""
        self._stopping = True
        self.wake()
        if self._thread:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the modem thread did not stop within %.0f s", timeout)
                return  # it still uses the port and the pipe; the process is ending anyway
        self.modem.close()
        write_fd, self._wake_w = self._wake_w, -1  # a closed number may be reused: never write to it again
        os.close(write_fd)
        os.close(self._wake_r)

    def wake(self) -> None:
        """From any thread: look at the queue now."""
        if self._wake_w < 0:
            return
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass  # full: a wake-up is pending anyway

    def noise_seen(self, line: str) -> None:
        self.noise += 1
        self.last_error = "line noise from the modem (bytes no modem sends)"

    # -- the loop -----------------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stopping:
            try:
                if not self.ready:
                    self._start_modem()
                self._turn()
            except ModemError as exc:
                self._fault(exc)
            except Exception as exc:  # a bug must not end the thread: report it and start again
                log.exception("unexpected error in the modem thread")
                self._fault(exc)

    def _start_modem(self) -> None:
        self.modem.start()
        log.info("modem ready on its port: SIM %s, network %s, signal %s",
                 self.modem.facts.sim, self.modem.facts.registration, self.modem.facts.signal_dbm)
        self.ready, self.offline, self.problem, self.retry_in_s = True, False, None, None
        self._backoff.reset()
        self._next_poll = 0.0  # registration is looked at in the first turn
        self._sweep()

    def _fault(self, exc: Exception) -> None:
        self.ready = False
        if isinstance(exc, (PortUnavailable, AtTimeout, SendUncertain)) or not isinstance(exc, ModemError):
            self.modem.close()  # open it afresh: a USB modem comes back as a new device
        self.offline = self.modem.channel is None or isinstance(exc, AtTimeout)
        self.problem = self.last_error = str(exc) or type(exc).__name__
        self.retry_in_s = delay = self._backoff.next()
        log.warning("modem: %s; trying again in %g s", self.problem, delay)
        self._on_change()
        self._sleep(delay)

    def _sleep(self, delay: float) -> None:
        """Wait ``delay`` seconds; only stopping cuts it short (a queued text does not)."""
        deadline = self.monotonic() + delay
        while not self._stopping and (left := deadline - self.monotonic()) > 0:
            ready, _, _ = select.select([self._wake_r], [], [], left)
            if ready:
                self._drain()

    def _drain(self) -> None:
        try:
            os.read(self._wake_r, 4096)
        except BlockingIOError:
            pass

    def _turn(self) -> None:
        """Notifications, the network, one text, the SIM; then wait for the next thing to do."""
        self._notifications()
        now = self.monotonic()
        if now >= self._next_poll:
            self._poll()
        if now >= self._next_sweep:
            self._sweep()
        sent_one = False
        if self.modem.facts.registered:
            due = self.store.due(limit=1)
            if due:
                self._send(due[0])
                sent_one = True
        flushed = self.store.flush_parts(timedelta(seconds=self.settings.parts_wait_s))
        if flushed:
            self._on_received()
        self._on_change()
        if not sent_one and not self._stopping:
            self._wait()

    def _wait(self) -> None:
        timeout = min(self._next_poll, self._next_sweep) - self.monotonic()
        due = self.store.next_due()
        if due is not None and self.modem.facts.registered:
            timeout = min(timeout, (due - self.clock()).total_seconds())
        urc = self.modem.channel.next_urc(max(0.0, min(timeout, self.settings.poll_s)))
        self._drain()
        if urc is not None:
            self.modem.channel.urcs.appendleft(urc)

    # -- what the modem says by itself ---------------------------------------------------------------
    def _notifications(self) -> None:
        urcs = self.modem.channel.urcs
        while urcs:
            line = urcs.popleft()
            index = new_message_index(line)
            if index is not None:
                listed = self.modem.read(index)
                if listed:
                    self._take(listed)
            elif line.startswith("RDY"):
                raise ModemError("the modem restarted (RDY)")
            elif line.startswith("+CPIN:") and line.split(":", 1)[1].strip() != "READY":
                raise SimNotReady(f"the SIM went away ({line})")
            elif "POWER DOWN" in line:
                raise ModemError(f"the modem powered down ({line})")
            else:
                log.debug("modem says: %s", scrub(line))

    def _poll(self) -> None:
        facts = self.modem.refresh()
        if facts.registered:
            if self._registration.current is not None:
                self._next_sweep = 0.0  # back on the network: what came as it returned may have no +CMTI
            self._registration.reset()
            self.problem, self.retry_in_s = None, None
            self._next_poll = self.monotonic() + self.settings.poll_s
            return
        delay = self._registration.next()
        self.problem = f"not registered on the network ({facts.registration}, signal {facts.signal_dbm} dBm)" \
            if facts.csq is not None else f"not registered on the network ({facts.registration}, no signal)"
        self.last_error, self.retry_in_s = self.problem, delay
        self._next_poll = self.monotonic() + delay

    # -- received messages ------------------------------------------------------------------------------
    def _sweep(self) -> None:
        """List the whole SIM: messages whose notification was lost (or came while we were down)."""
        for listed in self.modem.list_all():
            if listed.stat in (0, 1):
                self._take(listed)
        self._next_sweep = self.monotonic() + self.settings.sweep_s
        self.store.purge(timedelta(days=self.settings.retention_days))

    def _take(self, listed: Listed) -> None:
        """Record a received message, then delete it from the SIM — in that order."""
        digest = pdu_hash(listed.pdu)
        if not self.store.seen(digest):
            try:
                sms = pdu.decode(listed.pdu)
            except pdu.PduError as exc:
                self.undecodable += 1
                self.last_error = f"the message at SIM index {listed.index} cannot be decoded: {exc}; left on the SIM"
                log.warning("%s", self.last_error)
                return
            if sms.kind != "deliver":
                return  # a text stored for sending: not ours to take
            completed = self.store.record(sms, digest)
            part = f" (part {sms.concat.seq} of {sms.concat.total})" if sms.concat and sms.concat.total > 1 else ""
            log.info("received a message from %s%s at SIM index %d", masked(sms.number), part, listed.index)
            if completed:
                self._on_received()
        self.modem.delete(listed.index)

    # -- sending ------------------------------------------------------------------------------------------
    def _send(self, item: Outgoing) -> None:
        number = dial_number(item.phone)
        if number is None:  # refused when offered; kept here for rows from before that check
            self._on_sent(self.store.fail(item.id, "bad_phone", "not a phone number the modem can dial"))
            return
        _encoding, chunks = pdu.split_text(item.text)
        ref = self.store.reference(item.id, len(chunks)) if len(chunks) > 1 else 0
        parts = pdu.encode_submit(number, item.text, ref=ref)
        for index in range(item.parts_done, len(parts)):
            if not self._send_part(item, parts, index):
                return
        log.info("text %s to %s sent (%d part%s)", item.id, masked(item.phone), len(parts),
                 "s" if len(parts) > 1 else "")
        self._on_sent(self.store.answer(item.id) or {})

    def _send_part(self, item: Outgoing, parts: list[pdu.OutgoingPdu], index: int) -> bool:
        try:
            # The store is the arbiter: it refuses to mark a cancelled text sending, and only
            # a text marked sending is written to the modem.
            self.modem.send(parts[index], before_write=lambda: self.store.sending(item.id, index))
        except SendCancelled:
            log.info("text %s to %s: cancelled as it was about to be sent; not sent", item.id, masked(item.phone))
            return False  # answered when the cancel was recorded
        except SmsRejected as exc:
            self._rejected(item, exc)
            return False
        except SendUncertain as exc:
            log.warning("text %s to %s: %s; it may have been sent, so it is not sent again",
                        item.id, masked(item.phone), exc)
            self._on_sent(self.store.fail(item.id, "uncertain", f"the modem gave no result for part {index + 1}: {exc}"))
            raise
        except ModemError:
            self.store.put_back(item.id)  # failed before the PDU was written: nothing went out
            raise
        self.store.part_sent(item.id, index, len(parts))
        return True

    def _rejected(self, item: Outgoing, exc: SmsRejected) -> None:
        if exc.code in MODEM_CAUSES:
            self.store.put_back(item.id)
            raise ModemError(f"the modem cannot send now: {exc}") from exc
        if exc.permanent:
            log.warning("text %s to %s refused by the network for good: %s", item.id, masked(item.phone), exc)
            self._on_sent(self.store.fail(item.id, "rejected", str(exc)))
            return
        delay = min(self.settings.retry_max_s, self.settings.retry_min_s * 2 ** item.attempts)
        attempts = self.store.retry(item.id, f"cms_{exc.code}", str(exc), delay)
        self.last_error = f"text {item.id}: {exc}"
        if attempts >= self.settings.attempts:
            log.warning("text %s to %s: given up after %d tries: %s", item.id, masked(item.phone), attempts, exc)
            self._on_sent(self.store.fail(item.id, "gave_up", f"{attempts} tries, the last: {exc}"))
        else:
            log.warning("text %s to %s not sent (%s); try %d of %d in %g s", item.id, masked(item.phone), exc,
                        attempts + 1, self.settings.attempts, delay)
