"""Revocation requests on the bureau's side (第二十八条): 核实, the handling result through the core sign-off
chain, and the placeholders of the letters drafted from a request. Services flush and never commit."""
from __future__ import annotations

import hashlib
import json

from sqlalchemy.orm import Session

from archive_service import permissions
from archive_service.clock import Clock
from archive_service.errors import Conflict, Forbidden, NotFound, Unprocessable
from archive_service.models import User
from archive_service.signoff import Signoff, SignoffFlow

from . import counts
from .models import OUTCOMES, Revocation
from .service import ExchangeService


def revocation_letter_values(row: Revocation) -> dict[str, str]:
    """The placeholders of the 审批变更撤销建议函 template (change_revocation) for a revocation request."""
    d = row.discovered_on
    return {"subject": f"{row.licensee}的{row.matter.name}", "licensee": row.licensee, "action": row.action_label,
            "discovered_on": f"{d.year}年{d.month}月{d.day}日"}


# -- the bureau's handling of a revocation request (核实, 处理结果 through the core sign-off chain) ---
REVOCATION_SUBJECT = "exchange_revocation"
HANDLING_ROLES = ("drafter", "reviewer", "signer", "liaison")


def result_digest(row: Revocation) -> str:
    """The digest the sign-off chain binds to: the recorded handling result as canonical JSON."""
    body = json.dumps({"revocation": row.id, "outcome": row.outcome, "result": row.result},
                      ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


class RevocationHandling:
    """verify → record (the handling result) → submit → pass → sign; the signature closes the request
    (done / not_done) and tells the regulator."""

    def __init__(self, session: Session, clock: Clock):
        self.s = session
        self.clock = clock
        self.signoff = Signoff(session, clock)
        self.exchange = ExchangeService(session, clock)

    def get(self, user: User, revocation_id: int) -> Revocation:
        row = self.s.get(Revocation, revocation_id)
        if row is None or not self._sees(user, row):
            raise NotFound("撤销建议不存在")
        return row

    def _sees(self, user: User, row: Revocation) -> bool:
        if user.department_id == row.regulator_id:
            return True
        return permissions.same_organisation(user.department, row.section)

    def flow(self, row: Revocation) -> SignoffFlow | None:
        return self.signoff.flow_for(REVOCATION_SUBJECT, row.id)

    def act(self, user: User, revocation_id: int, action: str, *, note: str = "", outcome: str = "",
            result: str = "", version_sha256: str = "") -> Revocation:
        row = self.get(user, revocation_id)
        if not permissions.same_organisation(user.department, row.section):
            raise Forbidden("只有审批局可以核实和处理撤销建议")
        if row.state in {"done", "not_done"}:
            raise Conflict(f"该建议已{row.state_label}")
        if action == "verify":
            if not permissions.has_role(user, *HANDLING_ROLES):
                raise Forbidden("核实需要拟稿人、核稿人、签发人或联络员角色")
            if row.state != "pushed":
                raise Conflict(f"当前为“{row.state_label}”，不能再次核实")
            row.state, row.verify_note = "verifying", (note or "").strip()
            self.exchange.audit.record(user, "exchange.revocation_verifying", "revocation", row.id, {"note": note})
            return row
        if action == "record":
            if not permissions.has_role(user, "drafter", "reviewer", "signer"):
                raise Forbidden("登记处理结果需要拟稿人、核稿人或签发人角色")
            if row.state not in {"verifying", "handling"}:
                raise Conflict("请先核实，再登记处理结果")
            if outcome not in OUTCOMES:
                raise Unprocessable("处理结果应为：done 已按建议处理、not_done 不予处理", field="outcome")
            if not (result or "").strip():
                raise Unprocessable("请填写处理情况（不予处理的须说明理由）", field="result")
            flow = self.flow(row)
            row.outcome, row.result, row.state = outcome, result.strip(), "handling"
            self.s.flush()
            if flow is None:
                org = permissions.issuing_organisation(row.section)
                self.signoff.start(REVOCATION_SUBJECT, row.id, org, result_digest(row))
            else:
                self.signoff.revise(flow, user, result_digest(row))
            return row
        flow = self.flow(row)
        if flow is None:
            raise Conflict("请先登记处理结果")
        if action not in {"submit", "pass", "return", "sign"}:
            raise Unprocessable("操作应为 verify、record、submit、pass、return、sign", field="action")
        self.signoff.act(flow, user, action, version_sha256 or flow.version_sha256, note)
        if action == "sign" and flow.state == "rechecking":
            row.state = row.outcome
            month = counts.month_of(row.pushed_on)
            counts.bump(self.s, {("revocation", month, row.regulator_id, "open"): -1,
                                 ("revocation", month, row.regulator_id, "handled"): 1})
            msg = (f"{row.section.name}已办结撤销建议：{row.matter.name}（{row.licensee}），"
                   f"{OUTCOMES[row.outcome]}：{row.result}")
            self.exchange._notify(row.regulator_id, msg, revocation=row)
            self.exchange.audit.record(user, "exchange.revocation_handled", "revocation", row.id,
                                       {"outcome": row.outcome})
        return row
