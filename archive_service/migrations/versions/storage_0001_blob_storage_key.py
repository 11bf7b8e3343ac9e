"""blobs: the object key that holds each blob's bytes (storage_key)

Revision ID: storage_0001
Revises: 0002

An S3 store writes each upload once to a key named by the upload (objects/<id>) and the database
records which key holds which digest; existing blobs are at their content address
(sha256/ab/cd/<digest>), which is what the backfill writes.
"""
import sqlalchemy as sa
from alembic import op

revision = 'storage_0001'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('blobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('storage_key', sa.String(length=200), nullable=True))
    op.execute("UPDATE blobs SET storage_key = 'sha256/' || substr(sha256, 1, 2) || '/' || substr(sha256, 3, 2)"
               " || '/' || sha256")
    with op.batch_alter_table('blobs', schema=None) as batch_op:
        batch_op.alter_column('storage_key', existing_type=sa.String(length=200), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_blobs_storage_key'), ['storage_key'])


def downgrade() -> None:
    with op.batch_alter_table('blobs', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_blobs_storage_key'), type_='unique')
        batch_op.drop_column('storage_key')
