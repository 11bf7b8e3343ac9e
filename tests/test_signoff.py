"""The shared sign-off chain: guarded, audited, bound to the version digest."""
import pytest
from sqlalchemy import select

from archive_service.errors import Forbidden, InvalidTransition, Unprocessable
from archive_service.models import AuditEvent, Department
from archive_service.signoff import Signoff
from factories import Make

V1, V2 = "a" * 64, "b" * 64


@pytest.fixture
def chain(rt):
    s = rt.factory()
    make = Make(rt, s)
    bureau = make.department("bureau")
    scjg = make.department("regulator", code="SCJG")
    users = {"drafter": make.user(bureau, "drafter"), "reviewer": make.user(bureau, "reviewer"),
             "signer": make.user(bureau, "signer", "reviewer", full_name="局长李明"),
             "scjg_leader": make.user(scjg, "reviewer", "signer"), "clerk": make.user(bureau, "clerk"),
             "scjg_clerk": make.user(scjg, "clerk")}
    yield s, Signoff(s, rt.clock), users, bureau
    s.close()


def test_full_chain_with_a_return(chain):
    s, so, u, bureau = chain
    flow = so.start("letter", 1, bureau, V1)
    so.act(flow, u["drafter"], "submit", V1)
    so.act(flow, u["reviewer"], "return", V1, "请补充依据")
    assert flow.state == "drafting"
    so.revise(flow, u["drafter"], V2)
    so.act(flow, u["drafter"], "submit", V2)
    so.act(flow, u["reviewer"], "pass", V2)
    step = so.act(flow, u["signer"], "sign", V2, "同意印发")
    assert (step.actor_name, step.opinion, step.version_sha256) == ("局长李明", "同意印发", V2)
    so.act(flow, u["clerk"], "recheck", V2)
    so.act(flow, u["clerk"], "register", V2)
    so.act(flow, u["clerk"], "issue", V2)
    assert flow.state == "issued"
    actions = s.scalars(select(AuditEvent.action).where(AuditEvent.action.startswith("signoff."))
                        .order_by(AuditEvent.id)).all()
    assert actions[:3] == ["signoff.submit", "signoff.return", "signoff.revise"] and actions[-1] == "signoff.issue"


def test_illegal_transitions_say_why(chain):
    _s, so, u, bureau = chain
    flow = so.start("letter", 2, bureau, V1)
    with pytest.raises(InvalidTransition, match="核稿"):
        so.act(flow, u["reviewer"], "pass", V1)           # not submitted yet
    so.act(flow, u["drafter"], "submit", V1)
    with pytest.raises(InvalidTransition):
        so.act(flow, u["signer"], "sign", V1, "同意")      # review comes first
    with pytest.raises(Forbidden, match="核稿人"):
        so.act(flow, u["drafter"], "pass", V1)             # drafter has no reviewer role
    with pytest.raises(InvalidTransition, match="新版本"):
        so.act(flow, u["reviewer"], "pass", V2)            # a digest the flow is not bound to
    with pytest.raises(Unprocessable):
        so.act(flow, u["reviewer"], "return", V1, "")      # a return needs a comment
    so.act(flow, u["reviewer"], "pass", V1)
    with pytest.raises(Forbidden):
        so.act(flow, u["scjg_leader"], "sign", V1, "同意")  # a signer of another department


def test_edit_after_signature_voids_it(chain):
    _s, so, u, bureau = chain
    flow = so.start("letter", 3, bureau, V1)
    so.act(flow, u["drafter"], "submit", V1)
    so.act(flow, u["reviewer"], "pass", V1)
    so.act(flow, u["signer"], "sign", V1, "同意")
    assert flow.state == "rechecking"
    so.revise(flow, u["drafter"], V2)
    assert flow.state == "signing" and flow.valid_signatures() == []
    so.act(flow, u["signer"], "sign", V2, "同意（修改后）")
    assert flow.state == "rechecking"


def test_joint_letter_needs_every_countersignature(chain):
    s, so, u, bureau = chain
    scjg = s.scalar(select(Department).where(Department.code == "SCJG"))
    flow = so.start("letter", 4, bureau, V1, co_departments=[scjg])
    so.act(flow, u["drafter"], "submit", V1)
    so.act(flow, u["reviewer"], "pass", V1)
    so.act(flow, u["signer"], "sign", V1, "同意")
    assert flow.state == "signing"                     # waiting for 会签
    with pytest.raises(InvalidTransition, match="已签发"):
        so.act(flow, u["signer"], "sign", V1, "再签")
    step = so.act(flow, u["scjg_leader"], "sign", V1, "会签同意")
    assert step.action == "countersign" and flow.state == "rechecking"


def test_issued_flow_cannot_be_revised(chain):
    _s, so, u, bureau = chain
    flow = so.start("letter", 5, bureau, V1)
    for user, action, op in [("drafter", "submit", ""), ("reviewer", "pass", ""), ("signer", "sign", "同意"),
                             ("clerk", "recheck", ""), ("clerk", "register", ""), ("clerk", "issue", "")]:
        so.act(flow, u[user], action, V1, op)
    with pytest.raises(InvalidTransition):
        so.revise(flow, u["drafter"], V2)
    with pytest.raises(InvalidTransition):
        so.act(flow, u["clerk"], "issue", V1)


def test_office_steps_belong_to_a_clerk_of_the_issuer_never_the_drafter(chain):
    s, so, u, bureau = chain
    scjg = s.scalar(select(Department).where(Department.code == "SCJG"))
    flow = so.start("letter", 6, bureau, V1, co_departments=[scjg])
    for user, action, op in [("drafter", "submit", ""), ("reviewer", "pass", ""), ("signer", "sign", "同意"),
                             ("scjg_leader", "sign", "会签同意")]:
        so.act(flow, u[user], action, V1, op)
    with pytest.raises(Forbidden, match=r"只有.*的人员可以复核"):
        so.act(flow, u["scjg_clerk"], "recheck", V1)   # the co-issuer's 办公室 is not the issuer's
    with pytest.raises(Forbidden, match="文书"):
        so.act(flow, u["signer"], "recheck", V1)
    so.act(flow, u["clerk"], "recheck", V1)
    assert flow.state == "registering"
