"""releases owed, account quarantine and login flow, site clocks, daemon leases; targets named
per site

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quarantine', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('login_flow', sa.String(length=10), nullable=True))
    # Two files naming the same target on one site: the newest import wins (the older rows
    # keep their history under a suffixed name rather than break the new constraint).
    op.execute(
        "UPDATE targets SET name = name || ' (#' || id || ')' WHERE id NOT IN ("
        "SELECT MAX(id) FROM targets GROUP BY site_profile, name)")
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.drop_constraint('uq_targets_source', type_='unique')
        batch_op.create_unique_constraint('uq_targets_site_profile', ['site_profile', 'name'])
    op.create_table('releases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('next_try_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('done_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_releases_booking_id_bookings'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_releases')),
    sa.UniqueConstraint('booking_id', name=op.f('uq_releases_booking_id'))
    )
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.create_index('ix_releases_done_at_next_try_at', ['done_at', 'next_try_at'], unique=False)
    op.create_table('site_clocks',
    sa.Column('site', sa.String(length=60), nullable=False),
    sa.Column('offset_s', sa.Float(), nullable=False),
    sa.Column('uncertainty_s', sa.Float(), nullable=False),
    sa.Column('measured_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('site', name=op.f('pk_site_clocks'))
    )
    op.create_table('leases',
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_leases'))
    )


def downgrade() -> None:
    op.drop_table('leases')
    op.drop_table('site_clocks')
    with op.batch_alter_table('releases', schema=None) as batch_op:
        batch_op.drop_index('ix_releases_done_at_next_try_at')
    op.drop_table('releases')
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.drop_constraint('uq_targets_site_profile', type_='unique')
        batch_op.create_unique_constraint('uq_targets_source', ['source', 'name'])
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_column('login_flow')
        batch_op.drop_column('quarantine')
