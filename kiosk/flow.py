"""The kiosk's screens as a state machine: taps in, a view out. No pygame here.

home → matters of a department → keypad for the mobile number → confirm →
"正在出票…" → the number → home. Every screen but home returns home after
``idle_s`` untouched. Taking the number and printing run on a worker
thread, so the screen keeps drawing; their result comes back through a
queue that ``tick()`` empties on the UI thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime

from bus.privacy import mask_phone, normalize_phone
from kiosk import texts
from kiosk.link import HallLink
from kiosk.printers import PrinterError, PrinterState, TicketPrinter
from kiosk.ticket import TicketContent, render_ticket
from kiosk.views import BusyView, Chrome, ConfirmView, DoneView, HomeView, KeypadView, MattersView, MessageView, View
from paihao.config import HallConfig
from paihao.device_config import Kiosk
from paihao.errors import BusTimeout

log = logging.getLogger(__name__)

PHONE_DIGITS = 11


class KioskFlow:
    def __init__(self, config: HallConfig, kiosk: Kiosk, link: HallLink, printer: TicketPrinter,
                 now: Callable[[], datetime], monotonic: Callable[[], float] = time.monotonic) -> None:
        self.config, self.kiosk, self.link, self.printer, self.now = config, kiosk, link, printer, now
        self.monotonic = monotonic
        self.screen = "home"
        self.dept: str | None = None
        self.item: str | None = None
        self.digits = ""
        self.error: tuple[str, str] | None = None
        self.done: DoneView | None = None
        self.message: MessageView | None = None
        self.printer_state = PrinterState.OK
        self.last_error: str | None = None
        self._results: queue.Queue[Callable[[], None]] = queue.Queue()
        self.result_ready = threading.Event()  # set by the worker; tests and the loop may wait on it
        self._touched = self.monotonic()

    # -- input -----------------------------------------------------------------
    def tap(self, target: str) -> None:
        self._touched = self.monotonic()
        kind, _, value = target.partition(":")
        if target in ("back", "home"):
            self._back()
        elif kind == "dept" and self.screen == "home" and self.link.hall_online:
            self.dept, self.screen = value, "matters"
        elif kind == "item" and self.screen == "matters":
            self.item, self.digits, self.error, self.screen = value, "", None, "keypad"
        elif kind == "key" and self.screen == "keypad":
            self._key(value)
        elif target == "confirm" and self.screen == "confirm":
            self._confirm()

    def _back(self) -> None:
        previous = {"matters": "home", "keypad": "matters", "confirm": "keypad"}
        self.screen = previous.get(self.screen, "home")
        if self.screen == "home":
            self.dept = self.item = None
            self.digits = ""

    def _key(self, key: str) -> None:
        self.error = None
        if key.isdigit() and len(self.digits) < PHONE_DIGITS:
            self.digits += key
        elif key == "backspace":
            self.digits = self.digits[:-1]
        elif key == "clear":
            self.digits = ""
        elif key == "ok" and len(self.digits) == PHONE_DIGITS:
            if normalize_phone(self.digits):
                self.screen = "confirm"
            else:
                self.error = texts.BAD_PHONE

    def _confirm(self) -> None:
        """Check the printer first: a number that cannot be printed is not taken."""
        self.printer_state = self.printer.status()
        if self.printer_state in (PrinterState.OFFLINE, PrinterState.PAPER_OUT):
            self._report(str(self.printer_state))
            self._show_message(texts.PRINTER_FAULT[self.printer_state])
            return
        if not self.link.hall_online:
            self._show_message(texts.PAUSED_MESSAGE)
            return
        self.screen = "busy"
        dept, item, phone = self.dept or "", self.item or "", self.digits
        threading.Thread(target=self._take_and_print, args=(dept, item, phone), daemon=True).start()

    # -- the worker --------------------------------------------------------------
    def _take_and_print(self, dept: str, item: str, phone: str) -> None:
        try:
            reply = self.link.take_ticket(dept, item, phone)
        except BusTimeout:
            self._deliver(lambda: self._show_message(texts.NO_REPLY))
            return
        if not reply.get("ok"):
            self._deliver(lambda: self._refused(reply.get("error", {})))
            return
        ticket = reply["ticket"]
        printed, error = True, None
        try:
            self.printer.print(render_ticket(self._content(ticket)))
        except PrinterError as exc:
            # The number is valid and in the queue: the screen keeps it large.
            printed, error = False, f"print failed for {ticket['number']}: {exc}"
            log.error("%s", error)
        state = self.printer.status()
        self._deliver(lambda: self._show_done(ticket, printed, state, error))

    def _deliver(self, apply: Callable[[], None]) -> None:
        self._results.put(apply)
        self.result_ready.set()

    def _content(self, ticket: dict) -> TicketContent:
        dept = self.config.department(ticket["dept"])
        item = self.config.item(ticket["item"])
        return TicketContent(
            site_id=self.config.site.id, site_name=self.config.site.name, number=ticket["number"],
            dept_name=dept.name if dept else ticket["dept"], item_name=item.name if item else ticket["item"],
            kind_label=texts.KIND[item.kind][0] if item else "",
            windows=[(w.name or f"{w.id}号窗口", self.config.window_floor(w))
                     for w in self.config.windows if ticket["dept"] in w.depts],
            ahead=ticket["ahead"], est_wait_s=ticket["est_wait_s"],
            issued_at=datetime.fromisoformat(ticket["issued_at"]), phone_masked=ticket["phone"],
            notice=self.config.ticket.notice,
        )

    # -- results, on the UI thread -------------------------------------------------
    def tick(self) -> bool:
        """Apply worker results and the idle timeout; True if the screen changed."""
        changed = False
        self.result_ready.clear()
        while True:
            try:
                self._results.get_nowait()()
                changed = True
            except queue.Empty:
                break
        idle = self.monotonic() - self._touched
        if self.screen not in ("home", "busy") and idle >= self.kiosk.idle_s:
            self._back_home()
            changed = True
        return changed

    def _back_home(self) -> None:
        self.screen, self.dept, self.item, self.digits = "home", None, None, ""
        self.done = self.message = None

    def _show_done(self, ticket: dict, printed: bool, state: PrinterState, error: str | None) -> None:
        self.printer_state = state
        self._report(error)
        item = self.config.item(ticket["item"])
        dept = self.config.department(ticket["dept"])
        self.done = DoneView(
            chrome=self.chrome(), number=ticket["number"], dept=texts.named(dept), matter=texts.named(item),
            ahead=ticket["ahead"], wait_min=max(1, round(ticket["est_wait_s"] / 60)) if ticket["ahead"] else 0,
            windows=texts.windows_text(self.config, ticket["dept"]), printed=printed,
        )
        self.screen, self._touched = "done", self.monotonic()

    def _refused(self, error: dict) -> None:
        if error.get("code") == "bad_phone":
            self.screen, self.error = "keypad", texts.BAD_PHONE
            return
        self._show_message(texts.refusal(error))

    def _show_message(self, message: tuple[tuple[str, str], tuple[str, str]]) -> None:
        self.message = MessageView(chrome=self.chrome(), title=message[0], detail=message[1])
        self.screen, self._touched = "message", self.monotonic()

    def printer_checked(self, state: PrinterState) -> None:
        """From the printer watch: the printer's state now, told to the hall if it changed."""
        self.printer_state = state
        self._report(None)

    def _report(self, last_error: str | None) -> None:
        self.last_error = last_error or self.last_error
        self.link.set_status(str(self.printer_state), self.last_error)

    # -- output ------------------------------------------------------------------------
    def chrome(self) -> Chrome:
        status = texts.PRINTER_STATUS.get(self.printer_state, "")
        return Chrome(site_name=self.config.site.name, clock=self.now().astimezone(self.config.tz).strftime("%H:%M"),
                      paused=not self.link.hall_online, status_line=status)

    def view(self) -> View:
        chrome = self.chrome()
        if self.screen == "matters":
            return MattersView(chrome, texts.named(self.config.department(self.dept or "")),
                               texts.matter_rows(self.config, self.dept or ""))
        if self.screen == "keypad":
            echo = "".join("*" if 3 <= i < 7 else d for i, d in enumerate(self.digits))
            return KeypadView(chrome, texts.KEYPAD_TITLE, echo, self.error,
                              can_confirm=len(self.digits) == PHONE_DIGITS)
        if self.screen == "confirm":
            item = self.config.item(self.item or "")
            return ConfirmView(chrome, texts.named(self.config.department(self.dept or "")), texts.named(item),
                               mask_phone(self.digits))
        if self.screen == "busy":
            return BusyView(chrome)
        if self.screen == "done" and self.done:
            return DoneView(**{**self.done.__dict__, "chrome": chrome})
        if self.screen == "message" and self.message:
            return MessageView(chrome, self.message.title, self.message.detail)
        return HomeView(chrome, texts.floors(self.config, self.link.waiting, enabled=self.link.hall_online))
