"""agency changes: earlier values of an agency's details kept when the data custodian changes them

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('agency_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=32), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=False),
    sa.Column('new_value', sa.Text(), nullable=False),
    sa.Column('changed_by', sa.String(length=64), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agency.id'], name=op.f('fk_agency_change_agency_id_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agency_change'))
    )
    with op.batch_alter_table('agency_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_agency_change_agency_id'), ['agency_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('agency_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_agency_change_agency_id'))
    op.drop_table('agency_change')
