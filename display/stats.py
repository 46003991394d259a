"""Frame times and rate, for the heartbeat and the benchmark."""

from __future__ import annotations

from collections import deque

WINDOW_S = 5.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class FrameStats:
    def __init__(self, keep: int = 600) -> None:
        self.durations: deque[float] = deque(maxlen=keep)  # seconds each frame took to make
        self._times: deque[float] = deque()  # monotonic time of each frame in the last WINDOW_S

    def add(self, at: float, seconds: float) -> None:
        self.durations.append(seconds)
        self._times.append(at)
        while self._times and self._times[0] < at - WINDOW_S:
            self._times.popleft()

    def fps(self, now: float) -> float:
        recent = [t for t in self._times if t >= now - WINDOW_S]
        if len(recent) < 2:
            return 0.0
        return (len(recent) - 1) / max(1e-6, recent[-1] - recent[0])

    def ms(self, q: float) -> float:
        return percentile(list(self.durations), q) * 1000
