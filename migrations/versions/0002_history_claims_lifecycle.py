"""registration history, sender claims, message keys, waitlist offers and reconfirmation,
cancel reasons, revocable uniquely named tokens

Revision ID: 0002
Revises: 0001
"""
import secrets

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

LIVE_BEFORE = "status IN ('confirmed', 'waitlisted')"
LIVE_NOW = "status IN ('confirmed', 'waitlisted', 'offered')"


def upgrade():
    op.create_table(
        'erasures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('registrations', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_erasures_event_id_events'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_erasures')),
    )
    with op.batch_alter_table('erasures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erasures_event_id'), ['event_id'], unique=False)
    op.create_table(
        'registration_history',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('registration_id', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('reason', sa.String(length=32), nullable=True),
        sa.Column('by', sa.String(length=16), nullable=False),
        sa.Column('actor', sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'],
                                name=op.f('fk_registration_history_registration_id_registrations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_history')),
    )
    with op.batch_alter_table('registration_history', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registration_history_registration_id'), ['registration_id'], unique=False)

    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cancel_reason', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('offer_expires_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reconfirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('reconfirm_asked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('answers', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('sensitive_consent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('registered_as', sa.String(length=16), nullable=False, server_default='confirmed'))
        batch_op.add_column(sa.Column('registered_by', sa.String(length=16), nullable=False, server_default='participant'))
        batch_op.add_column(sa.Column('registered_actor', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('consented_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('anonymised_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('privacy_url', sa.String(length=500), nullable=True))
        batch_op.drop_index('uq_registrations_live_email', sqlite_where=sa.text(LIVE_BEFORE),
                            postgresql_where=sa.text(LIVE_BEFORE))
        batch_op.create_index('uq_registrations_live_email', ['event_id', 'email_normalized'], unique=True,
                              sqlite_where=sa.text(LIVE_NOW), postgresql_where=sa.text(LIVE_NOW))
        batch_op.drop_index('ix_registrations_email_normalized')
        batch_op.create_index('ix_registrations_address', ['email_normalized', 'event_id', 'created_at'], unique=False)
    op.execute("UPDATE registrations SET cancel_reason = 'participant' WHERE status = 'cancelled'")
    # Every registration was made with consent (the form and the API require it).
    op.execute("UPDATE registrations SET consented_at = created_at")
    # Registrations made before: waitlisted if they got their seat after registering.
    op.execute("UPDATE registrations SET registered_as = 'waitlisted' "
               "WHERE confirmed_at IS NULL OR confirmed_at > created_at")
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        for column in ('registered_as', 'registered_by'):
            batch_op.alter_column(column, server_default=None)

    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('waitlist_mode', sa.String(length=8), nullable=False, server_default='auto'))
        batch_op.add_column(sa.Column('offer_window', sa.Integer(), nullable=False, server_default=str(48 * 3600)))
        batch_op.add_column(sa.Column('promotion_cutoff', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reconfirm_before', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reconfirm_window', sa.Integer(), nullable=False, server_default=str(3 * 86400)))
        batch_op.add_column(sa.Column('questions', sa.JSON(), nullable=False, server_default='[]'))
    with op.batch_alter_table('events', schema=None) as batch_op:
        for column in ('waitlist_mode', 'offer_window', 'reconfirm_window', 'questions'):
            batch_op.alter_column(column, server_default=None)

    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('message_key', sa.String(length=64), nullable=True))
    # Keep the Message-IDs already given out; every other row gets its key now.
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, message_id FROM outbox_messages")).all()
    for row_id, message_id in rows:
        key = message_id.strip("<>").partition("@")[0] if message_id else secrets.token_hex(16)
        connection.execute(sa.text("UPDATE outbox_messages SET message_key = :key WHERE id = :id"),
                           {"key": key, "id": row_id})
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.alter_column('message_key', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_outbox_messages_message_key'), ['message_key'])
        batch_op.drop_column('message_id')

    # Token names become unique: a repeated name gets its id appended.
    op.execute("UPDATE admin_tokens SET name = name || '-' || CAST(id AS VARCHAR(12)) WHERE id NOT IN "
               "(SELECT MIN(id) FROM admin_tokens GROUP BY name)")
    with op.batch_alter_table('admin_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_admin_tokens_name'), ['name'])


def downgrade():
    with op.batch_alter_table('erasures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_erasures_event_id'))
    op.drop_table('erasures')
    with op.batch_alter_table('admin_tokens', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_admin_tokens_name'), type_='unique')
        batch_op.drop_column('revoked_at')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.String(length=255), nullable=True))
    op.execute("UPDATE outbox_messages SET message_id = '<' || message_key || '@eventsvc>'")
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_outbox_messages_message_key'), type_='unique')
        batch_op.drop_column('message_key')
        batch_op.drop_column('claimed_by')
    op.execute("UPDATE registrations SET status = 'cancelled' WHERE status = 'offered'")
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_index('ix_registrations_address')
        batch_op.create_index('ix_registrations_email_normalized', ['email_normalized'], unique=False)
        batch_op.drop_index('uq_registrations_live_email', sqlite_where=sa.text(LIVE_NOW),
                            postgresql_where=sa.text(LIVE_NOW))
        batch_op.create_index('uq_registrations_live_email', ['event_id', 'email_normalized'], unique=True,
                              sqlite_where=sa.text(LIVE_BEFORE), postgresql_where=sa.text(LIVE_BEFORE))
        batch_op.drop_column('privacy_url')
        batch_op.drop_column('anonymised_at')
        batch_op.drop_column('consented_at')
        batch_op.drop_column('registered_actor')
        batch_op.drop_column('registered_by')
        batch_op.drop_column('registered_as')
        batch_op.drop_column('sensitive_consent_at')
        batch_op.drop_column('answers')
        batch_op.drop_column('reconfirm_asked_at')
        batch_op.drop_column('reconfirmed_at')
        batch_op.drop_column('offer_expires_at')
        batch_op.drop_column('cancel_reason')
    with op.batch_alter_table('events', schema=None) as batch_op:
        for column in ('questions', 'reconfirm_window', 'reconfirm_before', 'promotion_cutoff', 'offer_window', 'waitlist_mode'):
            batch_op.drop_column(column)
    with op.batch_alter_table('registration_history', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registration_history_registration_id'))
    op.drop_table('registration_history')
