"""handover: the digest of the 交接文据 PDF signed by the sender's department when its signer signs

Revision ID: custody2_0001
Revises: handover_0002
Create Date: 2026-12-01 14:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = 'custody2_0001'
down_revision = 'handover_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('handover_revisions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sender_record_sha256', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('handover_revisions', schema=None) as batch_op:
        batch_op.drop_column('sender_record_sha256')
