"""The bridge's retained status, ``{root}/bridge/{id}/status``: what a supervisor needs to see.

``state``: ``online`` (the modem is ready and registered), ``degraded`` (the bridge runs
but cannot do everything: no SIM, not registered, error replies, the hall not taking
messages), ``offline`` (the modem cannot be reached: port missing or vanished, no
answer — and, with ``online: false``, the bridge itself is down).
"""

from __future__ import annotations

from firmware_bridge.courier import InboxCourier
from firmware_bridge.worker import ModemWorker


def bridge_status(worker: ModemWorker, courier: InboxCourier, counts: dict[str, int], port: str) -> dict:
    facts = worker.modem.facts
    problem = worker.problem
    if problem is None and courier.retry_in_s is not None:
        problem = "the hall does not take received messages"
    if worker.offline:
        state = "offline"
    elif problem or not worker.ready:
        state = "degraded"
    else:
        state = "online"
    return {
        "online": True,
        "state": state,
        "problem": problem,
        "last_error": worker.last_error,
        "retry_in_s": worker.retry_in_s,
        "modem": {
            "port": port,
            "port_open": facts.port_open,
            "sim": facts.sim,
            "registration": facts.registration,
            "registered": facts.registered,
            "signal_dbm": facts.signal_dbm,
            "csq": facts.csq,
            "operator": facts.operator,
        },
        "line_noise": worker.noise,
        "undecodable": worker.undecodable,
        **counts,
    }


def last_word(counts: dict[str, int]) -> dict:
    """Published on an orderly stop: offline, and what waits for the next start."""
    return {"online": False, "state": "offline", "last_error": None, **counts}
