"""the seats taken and the people waiting, kept on the event row

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# The statuses that hold a seat, as eventsvc.domain.statuses defines them for this revision.
_COUNTS = """
UPDATE events SET
    kept_seats_taken = (SELECT count(*) FROM registrations
                        WHERE registrations.event_id = events.id
                          AND registrations.status IN ('confirmed', 'offered')),
    kept_waitlist_length = (SELECT count(*) FROM registrations
                            WHERE registrations.event_id = events.id
                              AND registrations.status = 'waitlisted')
"""


def upgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kept_seats_taken', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('kept_waitlist_length', sa.Integer(), server_default='0', nullable=False))
    op.execute(_COUNTS)


def downgrade():
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_column('kept_waitlist_length')
        batch_op.drop_column('kept_seats_taken')
