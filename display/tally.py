"""Today's yellow and red cards per department, as this display has heard them: the fallback
for a controller that does not publish its own count, ``cards/today`` (see display/hallstate.py).

Without that count, ``cards/active`` lists only the services and cases that are over
their limit *now*, and ``card`` events are not retained. So the display counts what
it hears and remembers it in its state file:

- every ``card`` event whose ``at`` is today (local midnight on) counts once per
  (department, ticket or case, level), so a republished event is not counted twice;
- every entry of ``cards/active`` whose current level began today counts too (a
  red service also counts its yellow: services are same-day), which recovers the
  cards earned while the display was away that are still open;
- a card earned *and closed* while the display was not listening is lost. The
  events' ``seq`` shows when that may have happened: a jump in seq (or no
  remembered seq at all, unless it is the hall's very first event, seq 1) is
  recorded as a gap, and the wall prints it beside the tally ("09:58–10:05
  可能漏计") instead of pretending to be complete.
"""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo

from display.model import Card

Key = tuple[str, str, str]  # dept, ticket or case, level


class CardTally:
    def __init__(self, tz: tzinfo, today: date) -> None:
        self.tz = tz
        self.day = today
        self._keys: set[Key] = set()
        self.gaps: list[tuple[datetime, datetime]] = []
        self.last_seq: int | None = None
        self.last_at: datetime | None = None

    def _midnight(self) -> datetime:
        return datetime.combine(self.day, time(0), self.tz)

    def roll(self, now: datetime) -> bool:
        """A new local day empties the tally; True if it did."""
        day = now.astimezone(self.tz).date()
        if day <= self.day:
            return False
        self.day, self._keys, self.gaps = day, set(), []
        return True

    def is_duplicate(self, seq: int, at: datetime) -> bool:
        """An event already heard (the controller republishes after a crash)."""
        return self.last_seq is not None and seq <= self.last_seq and (self.last_at is None or at <= self.last_at)

    def heard(self, seq: int, at: datetime, event: dict) -> None:
        """Any event (not a duplicate): notes gaps in seq, counts it if it is a card."""
        self.roll(at)
        expected = self.last_seq + 1 if self.last_seq is not None else 1  # seq 1: the hall's very first event
        if seq != expected:
            start = max(self.last_at, self._midnight()) if self.last_at else self._midnight()
            if start < at:
                self.gaps.append((start, at))
        self.last_seq, self.last_at = seq, at
        if event.get("type") == "card" and at.astimezone(self.tz).date() == self.day:
            ref = event.get("ticket") or event.get("case")
            if ref and event.get("level") in ("yellow", "red"):
                self._keys.add((str(event["dept"]), str(ref), str(event["level"])))

    def active(self, cards: list[Card]) -> None:
        """Fold in the cards open now whose level began today."""
        for card in cards:
            if datetime.fromisoformat(card.since).astimezone(self.tz).date() != self.day:
                continue
            self._keys.add((card.dept, card.ref, card.level))
            if card.level == "red" and not card.is_case:
                self._keys.add((card.dept, card.ref, "yellow"))

    def counts(self) -> dict[str, tuple[int, int]]:
        """dept -> (yellow, red)."""
        out: dict[str, list[int]] = {}
        for dept, _ref, level in self._keys:
            out.setdefault(dept, [0, 0])[level == "red"] += 1
        return {dept: (y, r) for dept, (y, r) in out.items()}

    def gap_note(self) -> str:
        """'09:58–10:05 可能漏计' for the latest gap, or '' when the count is complete."""
        if not self.gaps:
            return ""
        start, end = (t.astimezone(self.tz).strftime("%H:%M") for t in self.gaps[-1])
        more = f" 等{len(self.gaps)}段" if len(self.gaps) > 1 else ""
        return f"{start}–{end}{more} 可能漏计"

    # -- the state file ----------------------------------------------------------
    def to_json(self) -> dict:
        return {"day": self.day.isoformat(), "cards": sorted(list(k) for k in self._keys),
                "gaps": [[a.isoformat(), b.isoformat()] for a, b in self.gaps[-20:]],
                "last_seq": self.last_seq, "last_at": self.last_at.isoformat() if self.last_at else None}

    @classmethod
    def from_json(cls, data: dict | None, tz: tzinfo, now: datetime) -> CardTally:
        """Today's saved tally; yesterday's keeps only its last seq (to spot a gap this morning)."""
        tally = cls(tz, now.astimezone(tz).date())
        if not data:
            return tally
        try:
            tally.last_seq = data.get("last_seq")
            tally.last_at = datetime.fromisoformat(data["last_at"]) if data.get("last_at") else None
            if data.get("day") == tally.day.isoformat():
                tally._keys = {(str(d), str(r), str(level)) for d, r, level in data.get("cards", [])}
                tally.gaps = [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in data.get("gaps", [])]
        except (TypeError, ValueError, KeyError):
            return cls(tz, tally.day)  # a damaged file: count from now, with the gap shown
        return tally
