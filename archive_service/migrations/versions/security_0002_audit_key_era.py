"""audit chain keyed: events carry their key era (0 = plain SHA-256 before the upgrade, 1 = HMAC)

Revision ID: security_0002
Revises: security_0001

Existing events keep their SHA-256 hashes and get era 0, so the chain keeps verifying; events
written afterwards are era 1 (HMAC-SHA256 with ARCHIVE_AUDIT_KEY). `verify` refuses an era-0 event
after an era-1 one, and `init` anchors the head right after the upgrade.
"""
import sqlalchemy as sa
from alembic import op

revision = 'security_0002'
down_revision = 'security_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_era', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('key_era')
