"""The home page's "我的工作" list: features register providers; the home page shows their sections.

A provider is ``provider(user, session) -> list[WorkSection]``; it must only return items the user
may see (ask archive_service.permissions).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

_PROVIDERS = []


@dataclass
class WorkItem:
    label: str
    url: str
    due: date | None = None
    overdue: bool = False
    note: str = ""


@dataclass
class WorkSection:
    title: str  # e.g. 待核稿, 收文待签收, 会议, 待印发纪要
    items: list[WorkItem] = field(default_factory=list)
    order: int = 50


def register(provider) -> None:
    _PROVIDERS.append(provider)


def sections_for(user, session) -> list[WorkSection]:
    sections: list[WorkSection] = []
    for provider in _PROVIDERS:
        sections.extend(provider(user, session))
    return sorted((s for s in sections if s.items), key=lambda s: s.order)
