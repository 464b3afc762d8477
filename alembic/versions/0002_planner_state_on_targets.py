"""planner state on targets

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan_state', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('decision', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('next_wake', sa.DateTime(), nullable=True))
    # A strike row is one slot (an instant may fire several hours of a location at once).
    with op.batch_alter_table('snipe_jobs', schema=None) as batch_op:
        batch_op.drop_constraint('uq_snipe_jobs_target_id', type_='unique')
        batch_op.create_unique_constraint(
            'uq_snipe_jobs_target_id', ['target_id', 'scheduled_execution', 'location', 'slot_start'])


def downgrade() -> None:
    with op.batch_alter_table('snipe_jobs', schema=None) as batch_op:
        batch_op.drop_constraint('uq_snipe_jobs_target_id', type_='unique')
        batch_op.create_unique_constraint(
            'uq_snipe_jobs_target_id', ['target_id', 'scheduled_execution', 'location'])
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.drop_column('next_wake')
        batch_op.drop_column('decision')
        batch_op.drop_column('plan_state')

