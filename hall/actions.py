"""Window actions: the state machine of a window and the ticket it serves.

Window states (docs/protocol.md draws the diagram):

    closed --login--> open --pause--> paused --resume--> open
    open --logout--> closed            (only when serving nobody)
    open, idle --next--> open, serving a ticket
    serving --recall--> serving        (the call is shown and announced again)
    serving --complete | accept | skip | transfer--> idle

complete and accept also queue the evaluation text (hall/evaluation.py) in the same
transaction.

Ticket states: waiting -> serving -> completed | accepted | skipped;
skipped --requeue--> waiting (front); serving --transfer--> waiting (front of
another department); waiting and skipped tickets of a past day -> expired.

A command that does not fit the state is refused with ``wrong_state``;
nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from bus.codes import ErrorCode
from bus.payloads import WindowCommand
from hall.outcome import Outcome, Refused

if TYPE_CHECKING:
    from hall.engine import Engine

Action = Callable[["Engine", str, WindowCommand, datetime], Outcome]


def _logged_in(engine: Engine, window_id: str) -> dict:
    window = engine.window_row(window_id)
    if window["status"] == "closed":
        raise Refused(ErrorCode.NOT_LOGGED_IN, f"window {window_id} has no clerk logged in", "本窗口尚未登录")
    return window


def _serving(engine: Engine, window_id: str, action: str) -> tuple[dict, dict]:
    window = _logged_in(engine, window_id)
    if window["serving"] is None:
        raise Refused(ErrorCode.WRONG_STATE, f"{action}: window {window_id} is serving nobody", "本窗口当前没有正在办理的号")
    return window, engine.ticket_row(window["serving"])


def _idle(engine: Engine, window_id: str, action: str) -> dict:
    window = _logged_in(engine, window_id)
    if window["serving"] is not None:
        number = engine.ticket_row(window["serving"])["number"]
        raise Refused(ErrorCode.WRONG_STATE, f"{action}: window {window_id} is still serving {number}; finish it first", f"请先办结{number}号")
    return window


def login(engine: Engine, window_id: str, command: WindowCommand, now: datetime) -> Outcome:
    clerk = engine.config.clerk(command.clerk or "")
    if clerk is None:
        raise Refused(ErrorCode.UNKNOWN_CLERK, f"no clerk {command.clerk!r}", "没有这个工号")
    window = engine.window_row(window_id)
    if window["status"] != "closed":
        if window["clerk"] == clerk.id:
            return Outcome(reply={})  # the pad asked again after a restart: already so
        raise Refused(ErrorCode.WRONG_STATE, f"window {window_id} is in use by clerk {window['clerk']}", "本窗口已有人登录")
    elsewhere = engine.db.conn.execute(
        "SELECT id FROM windows WHERE clerk = ? AND status != 'closed'", (clerk.id,)
    ).fetchone()
    if elsewhere:
        raise Refused(ErrorCode.WRONG_STATE, f"clerk {clerk.id} is logged in at window {elsewhere[0]}", f"该工号已在{elsewhere[0]}号窗口登录")
    engine.save_window({**window, "status": "open", "clerk": clerk.id})
    event = engine.journal.emit("window_login", now, window=window_id, clerk=clerk.id, request_id=command.request_id)
    return Outcome(reply={}, events=[event], depts=set(engine.config.window(window_id).depts))


def logout(engine: Engine, window_id: str, command: WindowCommand, now: datetime) -> Outcome:
    window = _idle(engine, window_id, "logout")
    engine.save_window({**window, "status": "closed", "clerk": None})
    event = engine.journal.emit("window_logout", now, window=window_id, clerk=window["clerk"], request_id=command.request_id)
    return Outcome(reply={}, events=[event], depts=set(engine.config.window(window_id).depts))


def pause(engine: Engine, window_id: str, command: WindowCommand, now: datetime) -> Outcome:
    window = _idle(engine, window_id, "pause")
    if window["status"] == "paused":
        raise Refused(ErrorCode.WRONG_STATE, f"window {window_id} is already paused", "本窗口已暂停")
    engine.save_window({**window, "status": "paused"})
    event = engine.journal.emit("window_paused", now, window=window_id, clerk=window["clerk"], request_id=command.request_id)
    return Outcome(reply={}, events=[event], depts=set(engine.config.window(window_id).depts))


def resume(engine: Engine, window_id: str, command: WindowCommand, now: datetime) -> Outcome:
    window = _logged_in(engine, window_id)
    if window["status"] != "paused":
        raise Refused(ErrorCode.WRONG_STATE, f"window {window_id} is not paused", "本窗口没有暂停")
    engine.save_window({**window, "status": "open"})
    event = engine.journal.emit("window_resumed", now, window=window_id, clerk=window["clerk"], request_id=command.request_id)
    return Outcome(reply={}, events=[event], depts=set(engine.config.window(window_id).depts))


def call_next(engine: Engine, window_id: str, command: WindowCommand, now: datetime) -> Outcome:
    window = _idle(engine, window_id, "next")
    if window["status"] == "paused":
        raise Refused(ErrorCode.WRONG_STATE, f"window {window_id} is paused; resume first", "本窗口已暂停，请先恢复")
    depts = engine.config.window(window_id).depts
    marks = ",".join("?" * len(depts))
    row = engine.db.conn.execute(
        f"SELECT * FROM tickets WHERE status = 'waiting' AND dept IN ({marks})"
        " ORDER BY priority DESC, queue_seq LIMIT 1",
        tuple(depts),
    ).fetchone()
    if row is None:
        raise Refused(ErrorCode.NO_WAITING, f"nobody is waiting for window {window_id}", "当前没有人等候")
    ticket = dict(row)
    limit_s = _limit_s(engine, ticket)
    engine.db.conn.execute(
        "UPDATE tickets SET status = 'serving', called_at = ?, limit_s = ?, window = ?, clerk = ? WHERE id = ?",
        (now.timestamp(), limit_s, window_id, window["clerk"], ticket["id"]),
    )
    engine.save_window({**window, "serving": ticket["id"]})
    event = engine.journal.emit(
        "called", now, ticket=ticket["number"], window=window_id, clerk=window["clerk"],
        dept=ticket["dept"], item=ticket["item"], limit_s=round(limit_s), request_id=command.request_id,
    )
    return _with_ticket(engine, ticket["id"], now, event, calls=True)


def _limit_s(engine: Engine, ticket: dict) -> float:
    item = engine.config.item(ticket["item"]) if ticket["item"] else None
    if item is not None:
        return item.limit.total_seconds()
    # Transferred without naming an item: the most generous limit of the
    # department, so nobody is carded for our missing information.
    return max(i.limit.total_seconds() for i in engine.config.items if i.dept == ticket["dept"])


def _with_ticket(engine: Engine, ticket_id: int, now: datetime, event: dict, *, calls: bool = False) -> Outcome:
    ticket = engine.ticket_row(ticket_id)
    return Outcome(
        reply={"ticket": engine.ticket_state(ticket, now)}, events=[event], depts={ticket["dept"]},
        calls=calls, cards=True,
    )


def recall(engine: Engine, window_id: str, command: WindowCommand, now: datetime) -> Outcome:
    window, ticket = _serving(engine, window_id, "recall")
    engine.db.conn.execute("UPDATE tickets SET recalls = recalls + 1 WHERE id = ?", (ticket["id"],))
    event = engine.journal.emit(
        "recalled", now, ticket=ticket["number"], window=window_id, clerk=window["clerk"],
        recalls=ticket["recalls"] + 1, request_id=command.request_id,
    )
    return _with_ticket(engine, ticket["id"], now, event, calls=True)


def _finish(engine: Engine, window_id: str, command: WindowCommand, now: datetime, status: str) -> tuple[dict, dict]:
    window, ticket = _serving(engine, window_id, command.action)
    engine.db.conn.execute(
        "UPDATE tickets SET status = ?, finished_at = ? WHERE id = ?", (status, now.timestamp(), ticket["id"])
    )
    engine.save_window({**window, "serving": None})
    if status in ("completed", "accepted"):
        engine.service_times.record(ticket["dept"], now.timestamp() - ticket["called_at"])
    return window, ticket


def complete(engine: Engine, window_id: str, command: WindowCommand, now: datetime) -> Outcome:
    window, ticket = _finish(engine, window_id, command, now, "completed")
    event = engine.journal.emit(
        "completed", now, ticket=ticket["number"], window=window_id, clerk=window["clerk"], dept=ticket["dept"],
        item=ticket["item"], service_s=round(now.timestamp() - ticket["called_at"]), request_id=command.request_id,
    )
    outcome = _with_ticket(engine, ticket["id"], now, event)
    outcome.sms += engine.evaluations.after_service(ticket, window_id, window["clerk"], now)
    return outcome


def skip(engine: Engine, window_id: str, command: WindowCommand, now: datetime) -> Outcome:
    window, ticket = _finish(engine, window_id, command, now, "skipped")
    event = engine.journal.emit(
        "skipped", now, ticket=ticket["number"], window=window_id, clerk=window["clerk"], dept=ticket["dept"],
        request_id=command.request_id,
    )
    return _with_ticket(engine, ticket["id"], now, event)


def accept(engine: Engine, window_id: str, command: WindowCommand, now: datetime) -> Outcome:
    window, ticket = _serving(engine, window_id, "accept")
    item = engine.config.item(ticket["item"]) if ticket["item"] else None
    if item is None or item.kind != "promised":
        raise Refused(ErrorCode.WRONG_STATE, f"{ticket['number']} is not a promised item; use complete", "即办件请用“办结”")
    _finish(engine, window_id, command, now, "accepted")
    today = now.astimezone(engine.tz).date()
    span = item.deadline_workdays or 1
    case_id = f"{ticket['day'].replace('-', '')}-{ticket['number']}"
    due_date = engine.calendar.add_workdays(today, span).isoformat()
    red_date = engine.calendar.add_workdays(today, 2 * span).isoformat()
    engine.db.conn.execute(
        "INSERT INTO cases (id, ticket, dept, item, window, clerk, accepted_at, due_date, red_date, status)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'open')",
        (case_id, ticket["id"], ticket["dept"], item.code, window_id, window["clerk"], now.timestamp(), due_date, red_date),
    )
    event = engine.journal.emit(
        "accepted", now, ticket=ticket["number"], window=window_id, clerk=window["clerk"], dept=ticket["dept"],
        item=item.code, case=case_id, due_date=due_date, request_id=command.request_id,
    )
    outcome = _with_ticket(engine, ticket["id"], now, event)
    outcome.reply["case"] = {"id": case_id, "due_date": due_date}
    outcome.sms += engine.evaluations.after_service(ticket, window_id, window["clerk"], now)
    return outcome


def case_done(engine: Engine, window_id: str, command: WindowCommand, now: datetime) -> Outcome:
    window = _logged_in(engine, window_id)
    case_id = (command.case or "").strip()
    if "-" not in case_id and len(case_id) > 8:
        case_id = f"{case_id[:8]}-{case_id[8:]}"  # typed on a keypad without a dash
    row = engine.db.conn.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone()
    if row is None:
        raise Refused(ErrorCode.UNKNOWN_CASE, f"no case {command.case!r}", "没有这个办件编号")
    case = dict(row)
    if case["status"] != "open":
        raise Refused(ErrorCode.WRONG_STATE, f"case {case_id} is already done", "该件已办结")
    if case["dept"] not in engine.config.window(window_id).depts:
        raise Refused(ErrorCode.WRONG_STATE, f"case {case_id} belongs to department {case['dept']}, not this window", "该件不属于本窗口的部门")
    engine.db.conn.execute(
        "UPDATE cases SET status = 'done', done_at = ?, done_by = ? WHERE id = ?", (now.timestamp(), window["clerk"], case_id)
    )
    on_time = now.astimezone(engine.tz).date().isoformat() <= case["due_date"]
    event = engine.journal.emit(
        "case_done", now, case=case_id, window=window_id, clerk=window["clerk"], dept=case["dept"],
        on_time=on_time, request_id=command.request_id,
    )
    return Outcome(reply={"case": {"id": case_id, "on_time": on_time}}, events=[event], cards=True)


def requeue(engine: Engine, window_id: str, command: WindowCommand, now: datetime) -> Outcome:
    window = _logged_in(engine, window_id)
    row = engine.db.conn.execute(
        "SELECT * FROM tickets WHERE day = ? AND number = ?", (engine.local_day(now), command.ticket)
    ).fetchone()
    if row is None:
        raise Refused(ErrorCode.UNKNOWN_TICKET, f"no ticket {command.ticket!r} today", "今天没有这个号")
    ticket = dict(row)
    if ticket["status"] != "skipped":
        raise Refused(ErrorCode.WRONG_STATE, f"{ticket['number']} is {ticket['status']}, not skipped", "只有过号的号才能重新排队")
    if ticket["dept"] not in engine.config.window(window_id).depts:
        raise Refused(ErrorCode.WRONG_STATE, f"{ticket['number']} belongs to department {ticket['dept']}, not this window", "该号不属于本窗口的部门")
    _to_front(engine, ticket["id"], ticket["dept"], ticket["item"])
    event = engine.journal.emit(
        "requeued", now, ticket=ticket["number"], window=window_id, clerk=window["clerk"], dept=ticket["dept"],
        request_id=command.request_id,
    )
    return _with_ticket(engine, ticket["id"], now, event)


def _to_front(engine: Engine, ticket_id: int, dept: str, item: str | None) -> None:
    """Back to waiting, ahead of everyone who has not been called yet."""
    front = engine.db.conn.execute("SELECT coalesce(max(queue_seq), 0) + 1 FROM tickets WHERE priority = 1").fetchone()[0]
    engine.db.conn.execute(
        "UPDATE tickets SET status = 'waiting', dept = ?, item = ?, priority = 1, queue_seq = ?,"
        " called_at = NULL, limit_s = NULL, window = NULL, clerk = NULL, finished_at = NULL WHERE id = ?",
        (dept, item, front, ticket_id),
    )


def transfer(engine: Engine, window_id: str, command: WindowCommand, now: datetime) -> Outcome:
    window, ticket = _serving(engine, window_id, "transfer")
    dept = engine.config.department(command.dept or "")
    if dept is None:
        raise Refused(ErrorCode.UNKNOWN_DEPT, f"no department {command.dept!r}", "没有这个部门")
    if dept.code == ticket["dept"]:
        raise Refused(ErrorCode.BAD_REQUEST, f"{ticket['number']} is already in department {dept.code}", "已在该部门")
    item = engine.config.item(command.item) if command.item else None
    if command.item and (item is None or item.dept != dept.code):
        raise Refused(ErrorCode.UNKNOWN_ITEM, f"department {dept.code} has no item {command.item!r}", "该部门没有这个事项")
    _to_front(engine, ticket["id"], dept.code, item.code if item else None)
    engine.save_window({**window, "serving": None})
    event = engine.journal.emit(
        "transferred", now, ticket=ticket["number"], window=window_id, clerk=window["clerk"],
        from_dept=ticket["dept"], dept=dept.code, item=item.code if item else None, request_id=command.request_id,
    )
    outcome = _with_ticket(engine, ticket["id"], now, event)
    outcome.depts.add(ticket["dept"])
    return outcome


ACTIONS: dict[str, Action] = {
    "login": login,
    "logout": logout,
    "next": call_next,
    "recall": recall,
    "skip": skip,
    "requeue": requeue,
    "complete": complete,
    "accept": accept,
    "case_done": case_done,
    "transfer": transfer,
    "pause": pause,
    "resume": resume,
}
