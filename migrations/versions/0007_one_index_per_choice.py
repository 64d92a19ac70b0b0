"""a session choice is found by its registration through the unique (registration, session)
index alone

Revision ID: 0007
Revises: 0006
"""
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('registration_sessions', schema=None) as batch_op:
        batch_op.drop_index('ix_registration_sessions_registration_id')


def downgrade():
    with op.batch_alter_table('registration_sessions', schema=None) as batch_op:
        batch_op.create_index('ix_registration_sessions_registration_id', ['registration_id'], unique=False)
