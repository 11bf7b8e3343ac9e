"""An injectable clock so tests can move time. All stored times are naive UTC."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8))


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC).replace(tzinfo=None)

    def today(self) -> date:
        """Today in China (deadlines are counted in local working days)."""
        return datetime.now(CHINA).date()


class FixedClock(Clock):
    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at

    def today(self) -> date:
        return (self.at.replace(tzinfo=UTC).astimezone(CHINA)).date()

    def advance(self, **kw) -> None:
        self.at += timedelta(**kw)


def local_time(utc_naive: datetime | None) -> str:
    """Format a stored UTC time for display in China time."""
    if utc_naive is None:
        return ""
    return utc_naive.replace(tzinfo=UTC).astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S")
