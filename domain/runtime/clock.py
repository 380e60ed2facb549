"""The one clock. Domain code never reads the system time: services and workers get a Clock.

All instants are aware datetimes in Asia/Tokyo, because every rule of the product is stated in
Japan time (cover runs 16:00 to 16:00 JST, day counts are JST calendar days).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


class Clock(Protocol):
    def now(self) -> datetime: ...

    def today(self) -> date: ...


class SystemClock:
    """Wall-clock time, optionally shifted by an offset (the `simulate` tooling moves it)."""

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> datetime:
        return datetime.now(JST) + self.offset

    def today(self) -> date:
        return self.now().date()


@dataclass
class ManualClock:
    """A clock that only moves when told to; tests and scenarios drive it."""

    current: datetime = field(default_factory=lambda: datetime(2026, 4, 1, 9, 0, tzinfo=JST))

    def __post_init__(self) -> None:
        self.current = as_jst(self.current)

    def now(self) -> datetime:
        return self.current

    def today(self) -> date:
        return self.current.date()

    def set(self, when: datetime) -> None:
        self.current = as_jst(when)

    def advance(self, delta: timedelta) -> datetime:
        self.current = self.current + delta
        return self.current


def as_jst(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("naive datetime: every instant must carry a time zone")
    return when.astimezone(JST)
