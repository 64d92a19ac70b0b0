"""the seats taken and the people waiting, kept on each event row by triggers

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

from eventsvc.domain import counters

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ALTER TABLE, not a batch: on SQLite a batch copies the table and drops the old
    # one, and with foreign keys on, dropping `events` deletes every registration.
    op.add_column('events', sa.Column('seats_taken', sa.Integer(), server_default='0', nullable=False))
    op.add_column('events', sa.Column('people_waiting', sa.Integer(), server_default='0', nullable=False))
    dialect = op.get_bind().dialect.name
    op.execute(counters.recounting())
    for statement in counters.installing(dialect):
        op.execute(statement)


def downgrade():
    for statement in counters.removing(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_column('events', 'people_waiting')  # SQLite 3.35 and later drop a column in place
    op.drop_column('events', 'seats_taken')
