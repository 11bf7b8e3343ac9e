"""minutes follow their letter's flow: drop the string sign-off subject

The column held "letter:<id>" (the letter is ``letter_id``) or, for minutes drafted without the
letters workflow, "meeting_minutes:<minutes>:<document>:<flow>"; that path no longer exists.

Revision ID: uow_0002
Revises: 0300
"""
import sqlalchemy as sa
from alembic import op

revision = 'uow_0002'
down_revision = '0300'
branch_labels = None
depends_on = None


def upgrade() -> None:
    conn = op.get_bind()
    # minutes whose subject names their letter but whose letter_id was not set
    for minutes_id, subject in conn.execute(sa.text(
            "SELECT id, flow_subject FROM meeting_minutes WHERE letter_id IS NULL AND flow_subject LIKE 'letter:%'")):
        letter_id = str(subject).split(":", 1)[1]
        if letter_id.isdigit():
            conn.execute(sa.text("UPDATE meeting_minutes SET letter_id = :l WHERE id = :id"),
                         {"l": int(letter_id), "id": minutes_id})
    # a plain DROP COLUMN (SQLite >= 3.35, PostgreSQL): a batch copy would drop the table under its foreign keys
    op.execute("ALTER TABLE meeting_minutes DROP COLUMN flow_subject")


def downgrade() -> None:
    with op.batch_alter_table('meeting_minutes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flow_subject', sa.String(length=60), server_default='', nullable=False))
    conn = op.get_bind()
    conn.execute(sa.text("UPDATE meeting_minutes SET flow_subject = 'letter:' || CAST(letter_id AS VARCHAR(20)) "
                         "WHERE letter_id IS NOT NULL"))
