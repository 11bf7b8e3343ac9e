"""The sign-off chain (审签) shared by letters, minutes and handover records.

    drafting ──submit──▶ reviewing ──pass──▶ signing ──sign (every co-issuer)──▶ rechecking
        ▲                    │                  │                                   │
        └──────return────────┴─────return───────┘                              recheck
                                                                                    ▼
                              issued ◀──issue── registered ◀──register── registering

Every transition is guarded (role, department, state), audited, and bound to the exact digest of the
subject's current version. A new version after a signature voids the signatures: the flow goes back
to ``signing`` (a substantive change goes back to the signer, 《党政机关公文处理工作条例》).
The subject (a letter, minutes, a handover record) keeps its own fields; this module knows nothing
about them.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from .audit import AuditLog
from .clock import Clock
from .errors import Decision, ErrorKind, InvalidTransition, Unprocessable
from .models import ROLES, Base, Department, User
from .permissions import issuing_organisation

STATES = {
    "drafting": "拟稿", "reviewing": "核稿", "signing": "签发", "rechecking": "复核",
    "registering": "登记", "registered": "已登记", "issued": "已印发",
}
ACTIONS = {
    "submit": "提交核稿", "pass": "核稿通过", "return": "退回修改", "sign": "签发", "countersign": "会签",
    "recheck": "复核", "register": "登记", "issue": "印发", "revise": "修改（产生新版本）",
}
#: The actions a person takes on a chain (pages and API offer these; countersign/revise are implied).
CHAIN_ACTIONS = ("submit", "pass", "return", "sign", "recheck", "register", "issue")


class SignoffFlow(Base):
    __tablename__ = "signoff_flows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_type: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int] = mapped_column(Integer, index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))  # the issuing department
    state: Mapped[str] = mapped_column(String(20), default="drafting")
    version_sha256: Mapped[str] = mapped_column(String(64))  # digest of the subject's current version
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    department: Mapped[Department] = relationship()
    steps: Mapped[list[SignoffStep]] = relationship(order_by="SignoffStep.id", cascade="all, delete-orphan",
                                                      back_populates="flow")
    co_issuers: Mapped[list[SignoffCoDepartment]] = relationship(
        order_by="SignoffCoDepartment.position", cascade="all, delete-orphan", lazy="selectin")

    @property
    def co_department_ids(self) -> list[int]:
        """The co-issuing departments (会签机关), in the order they were named."""
        return [c.department_id for c in self.co_issuers]

    @property
    def state_label(self) -> str:
        return STATES[self.state]

    def valid_signatures(self) -> list[SignoffStep]:
        return [s for s in self.steps if s.action in {"sign", "countersign"} and not s.voided]


class SignoffCoDepartment(Base):
    """A co-issuing department (会签机关) of a flow: every one of them must sign."""

    __tablename__ = "signoff_co_departments"
    flow_id: Mapped[int] = mapped_column(ForeignKey("signoff_flows.id", ondelete="CASCADE"), primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class SignoffStep(Base):
    __tablename__ = "signoff_steps"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    flow_id: Mapped[int] = mapped_column(ForeignKey("signoff_flows.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(20))
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    actor_name: Mapped[str] = mapped_column(String(64))  # the person's name as it stands on the record
    role: Mapped[str] = mapped_column(String(20))
    department_id: Mapped[int] = mapped_column(Integer)
    opinion: Mapped[str] = mapped_column(Text, default="")
    version_sha256: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)

    flow: Mapped[SignoffFlow] = relationship(back_populates="steps")
    actor: Mapped[User] = relationship()

    @property
    def action_label(self) -> str:
        return ACTIONS.get(self.action, self.action)


# action -> (allowed from-states, roles of which one is needed, where the actor must belong)
_RULES: dict[str, tuple[set[str], tuple[str, ...], str]] = {
    "submit": ({"drafting"}, ("drafter",), "issuer"),
    "pass": ({"reviewing"}, ("reviewer", "clerk"), "issuer"),  # 核稿: the section head or the 办公室
    "return": ({"reviewing", "signing", "rechecking"}, (), "issuer_or_co"),
    "sign": ({"signing"}, ("signer",), "issuer_or_co"),
    "recheck": ({"rechecking"}, ("clerk",), "issuer"),
    "register": ({"registering"}, ("clerk",), "issuer"),
    "issue": ({"registered"}, ("clerk",), "issuer"),
}
#: 复核, 登记 (发文字号) and 印发 belong to the issuing organisation's 办公室 (文书), never to the drafter.
OFFICE_ACTIONS = ("recheck", "register", "issue")
OFFICE_RULE = "《党政机关公文处理工作条例》第十九、二十条"


def drafter_ids(flow: SignoffFlow) -> set[int]:
    """Who drafted the subject: the people who submitted it for 核稿."""
    return {s.actor_id for s in flow.steps if s.action == "submit"}


class Signoff:
    def __init__(self, session: Session, clock: Clock):
        self.s = session
        self.clock = clock

    def start(self, subject_type: str, subject_id: int, department: Department, version_sha256: str,
              co_departments: list[Department] | None = None, state: str = "drafting") -> SignoffFlow:
        """A new flow; ``state="signing"`` starts a one-step sign-off (e.g. a disposal proposal)."""
        if state not in STATES:
            raise Unprocessable(f"未知环节：{state}")
        now = self.clock.now()
        co = [d for d in co_departments or [] if d.id != department.id]
        flow = SignoffFlow(subject_type=subject_type, subject_id=subject_id, department=department,
                           state=state, version_sha256=version_sha256, created_at=now, updated_at=now,
                           co_issuers=[SignoffCoDepartment(department_id=d.id, position=i)
                                       for i, d in enumerate(co, 1)])
        self.s.add(flow)
        self.s.flush()
        return flow

    def flow_for(self, subject_type: str, subject_id: int) -> SignoffFlow | None:
        return self.s.scalar(select(SignoffFlow).where(SignoffFlow.subject_type == subject_type,
                                                       SignoffFlow.subject_id == subject_id))

    def flows_for(self, subject_type: str, subject_ids: list[int]) -> dict[int, SignoffFlow]:
        """``flow_for`` of many subjects in one query (list pages)."""
        if not subject_ids:
            return {}
        return {f.subject_id: f for f in self.s.scalars(select(SignoffFlow).where(
            SignoffFlow.subject_type == subject_type, SignoffFlow.subject_id.in_(subject_ids)))}

    def _org_id(self, department_id: int) -> int:
        """Departments compare as issuing organisations (a bureau section acts for its bureau)."""
        return issuing_organisation(self.s.get_one(Department, department_id)).id

    # -- guards ----------------------------------------------------------------------------------
    def allowed(self, flow: SignoffFlow, user: User, action: str) -> Decision:
        """Whether ``user`` may take ``action`` now: true when allowed, else the refusal with its reason
        (Chinese) and kind — ``forbidden`` (who the user is) or ``conflict`` (where the flow stands)."""
        if action not in _RULES:
            return Decision.refuse(f"未知操作：{action}", ErrorKind.CONFLICT)
        states, roles, where = _RULES[action]
        if flow.state not in states:
            return Decision.refuse(f"当前环节为“{flow.state_label}”，不能{ACTIONS[action]}", ErrorKind.CONFLICT)
        in_issuer = self._org_id(user.department_id) == self._org_id(flow.department_id)
        in_co = self._org_id(user.department_id) in {self._org_id(d) for d in flow.co_department_ids}
        if where == "issuer" and not in_issuer:
            return Decision.refuse(f"只有{flow.department.name}的人员可以{ACTIONS[action]}")
        if where == "issuer_or_co" and not (in_issuer or in_co):
            return Decision.refuse(f"只有发文机关或会签机关的人员可以{ACTIONS[action]}")
        if action in OFFICE_ACTIONS and user.id in drafter_ids(flow):
            return Decision.refuse(f"拟稿人不能{ACTIONS[action]}本人起草的公文：复核、登记、印发由发文机关办公室的文书"
                                   f"办理（{OFFICE_RULE}）")
        if roles and not user.roles & set(roles):
            needed = "或".join(f"“{ROLES[r]}”" for r in roles)
            rule = f"（{OFFICE_RULE}：由发文机关办公室办理）" if action in OFFICE_ACTIONS else ""
            return Decision.refuse(f"{ACTIONS[action]}需要{needed}角色{rule}")
        if action == "return" and not (user.roles & {"reviewer", "signer", "clerk"}):
            return Decision.refuse("退回需要核稿人、签发人或文书角色")
        if action == "sign":
            signed = {self._org_id(s.department_id) for s in flow.valid_signatures()}
            if self._org_id(user.department_id) in signed:
                return Decision.refuse("本机关已签发（会签），无需重复签发", ErrorKind.CONFLICT)
        return Decision.allow()

    def check(self, flow: SignoffFlow, user: User, action: str, version_sha256: str) -> None:
        """Raise the refusal (Forbidden or InvalidTransition) unless ``action`` may be taken on the
        version the caller saw."""
        self.allowed(flow, user, action).raise_if_refused()
        if version_sha256 != flow.version_sha256:
            raise InvalidTransition("文稿已有新版本，请刷新后基于最新版本操作")

    # -- transitions -----------------------------------------------------------------------------
    def act(self, flow: SignoffFlow, user: User, action: str, version_sha256: str, opinion: str = "") -> SignoffStep:
        """Take ``action`` on the version whose digest the caller saw; returns the recorded step."""
        self.check(flow, user, action, version_sha256)
        opinion = (opinion or "").strip()
        if action == "return" and not opinion:
            raise Unprocessable("退回时须填写修改意见")
        if action == "sign" and not opinion:
            raise Unprocessable("签发时须填写签发意见")
        to_state = self._next_state(flow, user, action)
        held = [r for r in _RULES[action][1] if r in user.roles]
        role = held[0] if held else next((r for r in ("signer", "reviewer", "clerk") if r in user.roles),
                                         sorted(user.roles)[0] if user.roles else "")
        in_issuer = self._org_id(user.department_id) == self._org_id(flow.department_id)
        step_action = "countersign" if action == "sign" and not in_issuer else action
        step = self._record(flow, user, step_action, to_state, role, opinion)
        if action == "return":
            for s in flow.valid_signatures():
                s.voided = True
        return step

    def _next_state(self, flow: SignoffFlow, user: User, action: str) -> str:
        if action == "sign":
            signed = {self._org_id(s.department_id) for s in flow.valid_signatures()}
            signed.add(self._org_id(user.department_id))
            needed = {self._org_id(d) for d in (flow.department_id, *flow.co_department_ids)}
            return "rechecking" if needed <= signed else "signing"
        return {"submit": "reviewing", "pass": "signing", "return": "drafting", "recheck": "registering",
                "register": "registered", "issue": "issued"}[action]

    def revise(self, flow: SignoffFlow, user: User, new_sha256: str) -> None:
        """The subject has a new version: bind to it; signatures on the old one are void."""
        if flow.state in {"registered", "issued"}:
            raise InvalidTransition("已登记或已印发的公文不能修改")
        if new_sha256 == flow.version_sha256:
            return
        had_signatures = bool(flow.valid_signatures())
        for s in flow.valid_signatures():
            s.voided = True
        signing_again = had_signatures and flow.state in {"signing", "rechecking", "registering"}
        to_state = "signing" if signing_again else flow.state
        flow.version_sha256 = new_sha256
        self._record(flow, user, "revise", to_state, "", "产生新版本" + ("，原签发作废" if had_signatures else ""))

    def _record(self, flow, user, action, to_state, role, opinion) -> SignoffStep:
        step = SignoffStep(flow=flow, action=action, from_state=flow.state, to_state=to_state, actor_id=user.id,
                           actor_name=user.full_name, role=role or "", department_id=user.department_id,
                           opinion=opinion, version_sha256=flow.version_sha256, at=self.clock.now())
        self.s.add(step)
        flow.state = to_state
        flow.updated_at = step.at
        self.s.flush()
        AuditLog(self.s, self.clock).record(user, f"signoff.{action}", flow.subject_type, flow.subject_id, {
            "flow": flow.id, "from": step.from_state, "to": to_state, "opinion": opinion,
            "version_sha256": flow.version_sha256,
        })
        return step
