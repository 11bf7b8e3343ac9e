"""E-mail: each department with a mailbox gets one daily digest of its unread 审管互动 notifications
through the configured SMTP server (``ARCHIVE_SMTP_URL``), sent by the worker from ``ARCHIVE_DIGEST_HOUR``
China time; a digest that fails to send is retried on the next pass (the mailbox row is not advanced)."""
from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import select

from archive_service.clock import CHINA, local_time
from archive_service.errors import Unprocessable

from .models import ExchangeNotification, Mailbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    user: str | None = None
    password: str | None = None
    tls: bool = False  # smtps: TLS from the start
    starttls: bool = False
    timeout: float = 20.0

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in {"smtp", "smtps"} or not parts.hostname:
            raise Unprocessable("ARCHIVE_SMTP_URL 应为 smtp://[用户:密码@]主机[:端口] 或 smtps://…")
        query = parse_qs(parts.query)
        return cls(host=parts.hostname, port=parts.port or (465 if parts.scheme == "smtps" else 25),
                   user=unquote(parts.username) if parts.username else None,
                   password=unquote(parts.password) if parts.password else None, tls=parts.scheme == "smtps",
                   starttls=query.get("starttls", ["0"])[0] in {"1", "true", "yes"})

    def send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP = (smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
                              if self.tls else smtplib.SMTP(self.host, self.port, timeout=self.timeout))
        with smtp:
            if self.starttls:
                smtp.starttls(context=context)
            if self.user:
                smtp.login(self.user, self.password or "")
            smtp.send_message(message)


def digest_message(sender: str, box: Mailbox, notes: list[ExchangeNotification]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"审管互动每日提醒：{box.department.name}有 {len(notes)} 条未读通知"
    msg["From"] = sender
    msg["To"] = box.address
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    lines = [f"{box.department.name}：", "",
             "以下审管互动通知尚未阅读（请登录石城县审管协调电子档案系统查看、办理）：", ""]
    lines += [f"{i}. [{local_time(n.created_at)}] {n.message}" for i, n in enumerate(notes, 1)]
    lines += ["", "此邮件由系统自动发送，请勿回复。"]
    msg.set_content("\n".join(lines), charset="utf-8")
    return msg


def send_digests(runtime, server: SmtpServer | None = None) -> int:
    """Send the day's digests that are due; returns how many mails went out. Several workers are safe:
    each mailbox is locked (SKIP LOCKED) while its mail is sent and its row advanced."""
    settings = runtime.settings
    if server is None:
        if not settings.smtp_url:
            return 0
        server = SmtpServer.from_url(settings.smtp_url)
    now = runtime.clock.now()  # naive UTC, as the database keeps it
    china_now = now.replace(tzinfo=UTC).astimezone(CHINA)
    if china_now.hour < settings.digest_hour:
        return 0
    with runtime.transaction() as session:
        ids = list(session.scalars(select(Mailbox.department_id).order_by(Mailbox.department_id)))
    sent = 0
    for dept_id in ids:
        with runtime.transaction() as session:
            box = session.scalar(select(Mailbox).where(Mailbox.department_id == dept_id)
                                 .with_for_update(skip_locked=True))
            if box is None:
                continue
            if box.last_digest_at is not None and _china_date(box.last_digest_at) >= china_now.date():
                continue
            q = select(ExchangeNotification).where(ExchangeNotification.department_id == dept_id,
                                                   ExchangeNotification.read_at.is_(None),
                                                   ExchangeNotification.created_at <= now)
            if box.last_digest_at is not None:
                q = q.where(ExchangeNotification.created_at > box.last_digest_at)
            notes = list(session.scalars(q.order_by(ExchangeNotification.id).limit(200)))
            if notes:
                server.send(digest_message(settings.smtp_from, box, notes))
                sent += 1
            box.last_digest_at = now
    return sent


def _china_date(utc_naive: datetime) -> date:
    return utc_naive.replace(tzinfo=UTC).astimezone(CHINA).date()
