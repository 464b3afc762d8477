"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('netid', sa.String(length=120), nullable=False),
    sa.Column('password_enc', sa.LargeBinary(), nullable=False),
    sa.Column('site_profile', sa.String(length=60), nullable=False),
    sa.Column('site_url', sa.String(length=300), nullable=True),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('netid', name=op.f('uq_accounts_netid'))
    )
    op.create_table('slot_availability',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('site_profile', sa.String(length=60), nullable=False),
    sa.Column('location', sa.String(length=60), nullable=False),
    sa.Column('sub_location', sa.String(length=60), nullable=True),
    sa.Column('booking_date', sa.Date(), nullable=False),
    sa.Column('time_slot', sa.String(length=5), nullable=False),
    sa.Column('is_available', sa.Boolean(), nullable=False),
    sa.Column('total_capacity', sa.Integer(), nullable=True),
    sa.Column('remaining_capacity', sa.Integer(), nullable=True),
    sa.Column('site_booking_id', sa.String(length=60), nullable=True),
    sa.Column('last_checked', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_slot_availability')),
    sa.UniqueConstraint('site_profile', 'location', 'sub_location', 'booking_date', 'time_slot', name=op.f('uq_slot_availability_site_profile'))
    )
    op.create_table('targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('spec', sa.JSON(), nullable=False),
    sa.Column('site_profile', sa.String(length=60), nullable=False),
    sa.Column('site_url', sa.String(length=300), nullable=True),
    sa.Column('target_date', sa.Date(), nullable=True),
    sa.Column('repeat', sa.String(length=20), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_targets')),
    sa.UniqueConstraint('source', 'name', name=op.f('uq_targets_source'))
    )
    op.create_table('snipe_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('target_date', sa.Date(), nullable=False),
    sa.Column('target_time', sa.String(length=5), nullable=False),
    sa.Column('location', sa.String(length=60), nullable=False),
    sa.Column('sub_locations', sa.JSON(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('scheduled_execution', sa.DateTime(), nullable=False),
    sa.Column('slot_start', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('assigned_accounts', sa.JSON(), nullable=False),
    sa.Column('consecutive_hours', sa.Integer(), nullable=False),
    sa.Column('time_window_start', sa.String(length=5), nullable=True),
    sa.Column('time_window_end', sa.String(length=5), nullable=True),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('executed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['target_id'], ['targets.id'], name=op.f('fk_snipe_jobs_target_id_targets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_snipe_jobs')),
    sa.UniqueConstraint('target_id', 'scheduled_execution', 'location', name=op.f('uq_snipe_jobs_target_id'))
    )
    with op.batch_alter_table('snipe_jobs', schema=None) as batch_op:
        batch_op.create_index('ix_snipe_jobs_status_scheduled_execution', ['status', 'scheduled_execution'], unique=False)

    op.create_table('booking_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('strike_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('booking_date', sa.Date(), nullable=False),
    sa.Column('time_slot', sa.String(length=5), nullable=False),
    sa.Column('location', sa.String(length=60), nullable=False),
    sa.Column('sub_location', sa.String(length=60), nullable=True),
    sa.Column('error_message', sa.Text(), nullable=True),
    sa.Column('execution_time_ms', sa.Float(), nullable=True),
    sa.Column('timestamp', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_booking_log_account_id_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['strike_id'], ['snipe_jobs.id'], name=op.f('fk_booking_log_strike_id_snipe_jobs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_log'))
    )
    with op.batch_alter_table('booking_log', schema=None) as batch_op:
        batch_op.create_index('ix_booking_log_timestamp', ['timestamp'], unique=False)

    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('strike_id', sa.Integer(), nullable=True),
    sa.Column('booking_date', sa.Date(), nullable=False),
    sa.Column('time_slot', sa.String(length=5), nullable=False),
    sa.Column('location', sa.String(length=60), nullable=False),
    sa.Column('sub_location', sa.String(length=60), nullable=True),
    sa.Column('slot_start', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('booking_reference', sa.String(length=60), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_bookings_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['strike_id'], ['snipe_jobs.id'], name=op.f('fk_bookings_strike_id_snipe_jobs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['target_id'], ['targets.id'], name=op.f('fk_bookings_target_id_targets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index('uq_bookings_active_hour', ['account_id', 'booking_date', 'time_slot'], unique=True, sqlite_where=sa.text("status IN ('pending', 'confirmed')"), postgresql_where=sa.text("status IN ('pending', 'confirmed')"))
        batch_op.create_index('uq_bookings_active_location', ['account_id', 'booking_date', 'location'], unique=True, sqlite_where=sa.text("status IN ('pending', 'confirmed')"), postgresql_where=sa.text("status IN ('pending', 'confirmed')"))



def downgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('uq_bookings_active_location', sqlite_where=sa.text("status IN ('pending', 'confirmed')"), postgresql_where=sa.text("status IN ('pending', 'confirmed')"))
        batch_op.drop_index('uq_bookings_active_hour', sqlite_where=sa.text("status IN ('pending', 'confirmed')"), postgresql_where=sa.text("status IN ('pending', 'confirmed')"))

    op.drop_table('bookings')
    with op.batch_alter_table('booking_log', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_log_timestamp')

    op.drop_table('booking_log')
    with op.batch_alter_table('snipe_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_snipe_jobs_status_scheduled_execution')

    op.drop_table('snipe_jobs')
    op.drop_table('targets')
    op.drop_table('slot_availability')
    op.drop_table('accounts')
