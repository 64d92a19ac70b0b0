"""member organizations and contingents, roles and series, undeliverable addresses, the
series' interest lists, sessions of an event, the report's counts, feedback

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

TIME = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        'organizations',
        sa.Column('key', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('region', sa.String(length=200), nullable=True),
        sa.Column('member', sa.Boolean(), nullable=False),
        sa.Column('email_domains', sa.JSON(), nullable=False),
        sa.Column('created_at', TIME, nullable=False),
        sa.Column('updated_at', TIME, nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_organizations')),
    )
    op.create_table(
        'organization_domains',
        sa.Column('domain', sa.String(length=253), nullable=False),
        sa.Column('organization_key', sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(['organization_key'], ['organizations.key'],
                                name=op.f('fk_organization_domains_organization_key_organizations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('domain', name=op.f('pk_organization_domains')),
    )
    with op.batch_alter_table('organization_domains', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organization_domains_organization_key'), ['organization_key'],
                              unique=False)
    op.create_table(
        'undeliverable_addresses',
        sa.Column('email_normalized', sa.String(length=254), nullable=False),
        sa.Column('at', TIME, nullable=False),
        sa.Column('reason', sa.Text(), nullable=True),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('outbox_id', sa.Integer(), nullable=True),
        sa.Column('reported_at', TIME, nullable=True),
        sa.PrimaryKeyConstraint('email_normalized', name=op.f('pk_undeliverable_addresses')),
    )
    op.create_table(
        'interest_entries',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('series', sa.String(length=40), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('email_normalized', sa.String(length=254), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('created_at', TIME, nullable=False),
        sa.Column('confirmed_at', TIME, nullable=True),
        sa.Column('consented_at', TIME, nullable=False),
        sa.Column('privacy_url', sa.String(length=500), nullable=True),
        sa.Column('confirm_sent_at', TIME, nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_interest_entries')),
        sa.UniqueConstraint('series', 'email_normalized', name='uq_interest_entries_series_email'),
        sa.UniqueConstraint('token', name=op.f('uq_interest_entries_token')),
    )
    with op.batch_alter_table('interest_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_interest_entries_series'), ['series'], unique=False)
        batch_op.create_index(batch_op.f('ix_interest_entries_email_normalized'), ['email_normalized'],
                              unique=False)
    op.create_table(
        'feedback_answers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('answers', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_feedback_answers_event_id_events'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback_answers')),
    )
    with op.batch_alter_table('feedback_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_answers_event_id'), ['event_id'], unique=False)
    op.create_table(
        'registration_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('registration_id', sa.Integer(), nullable=False),
        sa.Column('event_id', sa.Integer(), nullable=False),
        sa.Column('session_key', sa.String(length=40), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', TIME, nullable=False),
        sa.Column('attended', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_registration_sessions_event_id_events'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'],
                                name=op.f('fk_registration_sessions_registration_id_registrations'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_sessions')),
        sa.UniqueConstraint('registration_id', 'session_key', name='uq_registration_sessions_choice'),
    )
    with op.batch_alter_table('registration_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registration_sessions_registration_id'), ['registration_id'],
                              unique=False)
        batch_op.create_index('ix_registration_sessions_queue', ['event_id', 'session_key', 'status', 'id'],
                              unique=False)
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organization_limit', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('members_first_until', TIME, nullable=True))
        batch_op.add_column(sa.Column('contingents_release_at', TIME, nullable=True))
        batch_op.add_column(sa.Column('windows_applied_at', TIME, nullable=True))
        batch_op.add_column(sa.Column('roles', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('series', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('series_announced_at', TIME, nullable=True))
        batch_op.add_column(sa.Column('report_snapshot', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('sessions', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('feedback', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_events_series'), ['series'], unique=False)
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('organization_key', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('waitlist_reason', sa.String(length=24), nullable=True))
        batch_op.create_index(batch_op.f('ix_registrations_organization_key'), ['organization_key'], unique=False)
        batch_op.add_column(sa.Column('feedback_token', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('feedback_invited_at', TIME, nullable=True))
        batch_op.add_column(sa.Column('feedback_reminded_at', TIME, nullable=True))
        batch_op.add_column(sa.Column('feedback_answered_at', TIME, nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_registrations_feedback_token'), ['feedback_token'])
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.alter_column('event_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('interest_entry_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbox_messages_interest_entry_id'), ['interest_entry_id'],
                              unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_messages_interest_entry_id_interest_entries'),
                                    'interest_entries', ['interest_entry_id'], ['id'], ondelete='CASCADE')
    with op.batch_alter_table('erasures', schema=None) as batch_op:
        batch_op.alter_column('event_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('series', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('interest_entries', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('erasures', schema=None) as batch_op:
        batch_op.alter_column('interest_entries', server_default=None)
    # Everyone waiting so far waits because the event was full.
    op.execute("UPDATE registrations SET waitlist_reason = 'full' WHERE status = 'waitlisted'")


def downgrade():
    with op.batch_alter_table('erasures', schema=None) as batch_op:
        batch_op.drop_column('interest_entries')
        batch_op.drop_column('series')
    with op.batch_alter_table('outbox_messages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_messages_interest_entry_id_interest_entries'),
                                 type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbox_messages_interest_entry_id'))
        batch_op.drop_column('interest_entry_id')
    with op.batch_alter_table('registrations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_registrations_feedback_token'), type_='unique')
        for column in ('feedback_answered_at', 'feedback_reminded_at', 'feedback_invited_at', 'feedback_token'):
            batch_op.drop_column(column)
        batch_op.drop_index(batch_op.f('ix_registrations_organization_key'))
        batch_op.drop_column('waitlist_reason')
        batch_op.drop_column('organization_key')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_events_series'))
        for column in ('feedback', 'sessions', 'report_snapshot', 'series_announced_at', 'series', 'roles', 'windows_applied_at', 'contingents_release_at',
                       'members_first_until', 'organization_limit'):
            batch_op.drop_column(column)
    op.drop_table('registration_sessions')
    op.drop_table('feedback_answers')
    op.drop_table('interest_entries')
    op.drop_table('undeliverable_addresses')
    op.drop_table('organization_domains')
    op.drop_table('organizations')
