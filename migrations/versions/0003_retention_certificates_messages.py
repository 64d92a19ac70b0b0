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
    op.create_table(
        'messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('audience', sa.JSON(), nullable=False),
        sa.Column('document_ids', sa.JSON(), nullable=False),
        sa.Column('test_to', sa.String(length=254), nullable=True),
        sa.Column('recipients', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_by', sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_messages_event_id_events'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_messages')),
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messages_event_id'), ['event_id'], unique=False)
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_messages_message_id'), ['message_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_messages_message_id_messages'), 'messages',
                                    ['message_id'], ['id'], ondelete='CASCADE')
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
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_messages_message_id_messages'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_messages_message_id'))
        batch_op.drop_column('message_id')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_event_id'))
    op.drop_table('messages')
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
