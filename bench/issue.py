"""Benchmark: the whole 印发 of a letter — render DOCX + PDF, sign the PDF, store both and the
processing sheet, grants and outbox rows — on the embedded default (SQLite, local store).

Usage: .venv/bin/python bench/issue.py [--runs 100] [--joint]
(--joint: 联合发文 with 县市场监督管理局, whose own seal and signature are added at 印发.)
Target (issue 3): ≤ 250 ms per issue.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select

from archive_service.demo import load_demo
from archive_service.models import User
from archive_service.runtime import Runtime
from archive_service.settings import Settings
from archive_service.wiring import FEATURES
from correspondence.issuing import Issuing
from correspondence.pki import key_source

_FINDING = ("经初步审查，有关经营场所与营业执照载明的住所不一致，现场核查情况与申请材料不符，"
            "需会同监管部门研究处理意见。")
BODY = ["根据《石城县行政审批与监管协调联动管理办法（试行）》第二十二条规定，现函商如下：",
        "一、基本情况", "（一）申请人情况", *([_FINDING * 2] * 12), "特此函商，请予研究并函复。"]


def registered_letters(rt: Runtime, n: int, joint: bool = False) -> list[int]:
    with rt.transaction() as s:
        users = {u.username: u for u in s.scalars(select(User))}
        issuing = Issuing(s, rt.documents(s), rt.clock, key_source(rt.settings))
        ids = []
        for i in range(n):
            to = ["县住房和城乡建设局"] if joint else ["县市场监督管理局"]
            letter = issuing.letters.create_draft(users["drafter"], title=f"关于商请协助研究有关问题的函（{i}）",
                                                  to=to, cc=["县卫生健康委员会"], body=BODY,
                                                  note="联系人：张伟，电话：0797-1234567",
                                                  co_issuers=["县市场监督管理局"] if joint else [])
            sha = letter.content_sha256
            countersign = (("scjg_leader", "sign", "会签同意"),) if joint else ()
            for who, action, opinion in (("drafter", "submit", ""), ("reviewer", "pass", ""),
                                         ("signer", "sign", "同意印发"), *countersign, ("clerk", "recheck", "")):
                issuing.letters.act(users[who], letter, action, sha, opinion)
            issuing.register(users["clerk"], letter, sha)  # the 办公室 registers and issues
            ids.append(letter.id)
        return ids


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100)
    ap.add_argument("--joint", action="store_true", help="联合发文: a co-issuer's seal and signature too")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_env(env={"ARCHIVE_INSTANCE": tmp})
        rt = Runtime.build(settings, features=FEATURES)
        rt.migrate()
        with rt.transaction() as s:
            load_demo(s, rt.clock, rt.documents)
        ids = registered_letters(rt, args.runs + 1, args.joint)
        times, cpu = [], []
        for i, letter_id in enumerate(ids):
            with rt.factory() as s:
                issuing = Issuing(s, rt.documents(s), rt.clock, key_source(rt.settings))
                clerk = s.scalar(select(User).where(User.username == "clerk"))
                letter = issuing.letters.get(clerk, letter_id)
                sha = issuing.letters.flow(letter).version_sha256
                t, c = time.perf_counter(), time.process_time()
                issuing.issue(clerk, letter, sha)
                s.commit()  # the caller's unit of work commits the issue
                if i:  # the first issue warms fonts and keys
                    times.append((time.perf_counter() - t) * 1000)
                    cpu.append((time.process_time() - c) * 1000)
        times.sort()
        med, p95 = statistics.median(times), times[int(len(times) * 0.95) - 1]
        what = "joint issue, two seals and signatures" if args.joint else "whole issue"
        print(f"{what} (render both, seal and sign, store 3 files, grants, outbox): {len(times)} runs; "
              f"load average {os.getloadavg()[0]:.1f}")
        print(f"CPU time per issue: median {statistics.median(cpu):.1f} ms")
        print(f"median {med:.1f} ms, p95 {p95:.1f} ms; target <= 250 ms: "
              f"{'OK' if p95 <= 250 else ('median OK' if med <= 250 else 'MISSED')}")


if __name__ == "__main__":
    main()
