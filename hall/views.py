"""How tickets and windows look on the bus: phone masked, times in ISO 8601."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from bus.privacy import mask_phone
from hall.supervision import service_card
from paihao.config import Window

if TYPE_CHECKING:
    from hall.engine import Engine


def ticket_view(engine: Engine, ticket: dict, now: datetime) -> dict:
    view = {
        "number": ticket["number"],
        "dept": ticket["dept"],
        "item": ticket["item"],
        "status": ticket["status"],
        "issued_at": engine.iso(ticket["issued_at"]),
        "phone": mask_phone(ticket["phone"]) if ticket["phone"] else None,
    }
    if ticket["called_at"] is not None:
        view.update(
            called_at=engine.iso(ticket["called_at"]),
            window=ticket["window"],
            limit_s=round(ticket["limit_s"]),
            recalls=ticket["recalls"],
        )
    return view


def window_view(engine: Engine, config: Window, window: dict, serving: dict | None, now: datetime) -> dict:
    served = None
    if serving is not None:
        served = {
            "ticket": serving["number"],
            "dept": serving["dept"],
            "item": serving["item"],
            "called_at": engine.iso(serving["called_at"]),
            "limit_s": round(serving["limit_s"]),
            "card": service_card(
                serving["called_at"], serving["limit_s"], now.timestamp(), engine.config.supervision.red_factor
            ),
        }
    clerk = engine.config.clerk(window["clerk"]) if window["clerk"] else None
    return {
        "window": config.id,
        "name": config.name or f"{config.id}号窗口",
        "floor": engine.config.window_floor(config),
        "status": window["status"],
        "clerk": window["clerk"],
        "clerk_name": clerk.name if clerk else None,
        "depts": list(config.depts),
        "serving": served,
    }
