"""retention periods of an event and the progress of removing its personal data;
certificates of attendance

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retention', sa.Integer(), nullable=False, server_default=str(365 * 86400)))
        batch_op.add_column(
            sa.Column('sensitive_retention', sa.Integer(), nullable=False, server_default=str(30 * 86400))
        )
        batch_op.add_column(sa.Column('retention_notice_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column('sensitive_removed_through', sa.Integer(), nullable=False, server_default='0')
        )
        batch_op.add_column(sa.Column('sensitive_removed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('personal_data_removed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('certificate', sa.JSON(), nullable=True))
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.alter_column('retention', server_default=None)
        batch_op.alter_column('sensitive_retention', server_default=None)
        batch_op.alter_column('sensitive_removed_through', server_default=None)


def downgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        for column in (
            'certificate',
            'personal_data_removed_at',
            'sensitive_removed_at',
            'sensitive_removed_through',
            'retention_notice_at',
            'sensitive_retention',
            'retention',
        ):
            batch_op.drop_column(column)
