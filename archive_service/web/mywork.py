"""The home page's "我的工作" list: web modules provide sections; the home page shows them.

A provider is a web module's ``work_sections(user) -> list[WorkSection]`` (its look-ups through the
request's services); it must only return items the user may see (ask archive_service.permissions).
``create_app`` collects the providers of its web modules into ``app.extensions["mywork"]``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


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


def sections_for(user) -> list[WorkSection]:
    from flask import current_app

    sections: list[WorkSection] = []
    for provider in current_app.extensions["mywork"]:
        sections.extend(provider(user))
    return sorted((s for s in sections if s.items), key=lambda s: s.order)
