"""Document data kept in ``templates/documents/``: format variants per kind and letter templates.

``format_for(kind)`` returns the variant data (letter.json, standard.json, minutes.json) that the
renderers combine with the geometry in layout.py. ``letter_templates()``/``load_letter_template(id)``
give the drafting workflow the letter kinds of the county measures (协商函 …) with ``fill()``.
"""
from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

DOCUMENTS = Path(__file__).resolve().parents[1] / "templates" / "documents"
KINDS = ("letter", "minutes", "standard")


@cache
def format_for(kind: str) -> dict:
    if kind not in KINDS:
        raise KeyError(kind)
    return json.loads((DOCUMENTS / f"{kind}.json").read_text(encoding="utf-8"))


@cache
def _letters() -> dict[str, dict]:
    out = {}
    for path in sorted((DOCUMENTS / "letters").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        out[data["id"]] = data
    return out


def letter_templates() -> list[dict]:
    """All letter templates: id, name (协商函 …), article, kind, title_pattern, body, note, placeholders."""
    return [dict(t) for t in _letters().values()]


def load_letter_template(template_id: str) -> dict:
    try:
        return dict(_letters()[template_id])
    except KeyError:
        raise KeyError(f"没有此公文模板：{template_id}") from None


def fill(template: dict, **values: str) -> dict:
    """Title and body with ``{placeholder}``s replaced; unknown placeholders stay visible as ×××."""
    def sub(text: str) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: str(values.get(m.group(1), "×××")), text)

    return {"kind": template["kind"], "title": sub(template["title_pattern"]),
            "body": [sub(p) for p in template["body"]], "note": sub(template.get("note", ""))}
