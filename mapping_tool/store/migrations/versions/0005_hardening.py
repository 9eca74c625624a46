"""hardening: import content hash unique, replaced students

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    # --- h11-import: replaced students (issue 11, item 12) -------------------------------------
    op.create_table('replaced_students',
    sa.Column('retired_key', sa.String(length=12), nullable=False),
    sa.Column('student_key', sa.String(length=10), nullable=False),
    sa.Column('snapshot_id', sa.Integer(), nullable=False),
    sa.Column('replaced_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['snapshot_id'], ['snapshot.id'], name=op.f('fk_replaced_students_snapshot_id_snapshot'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('retired_key', name=op.f('pk_replaced_students'))
    )
    with op.batch_alter_table('replaced_students', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_replaced_students_student_key'), ['student_key'], unique=False)
    # --- end h11-import ------------------------------------------------------------------------


def downgrade() -> None:
    """Downgrade schema."""
    # --- h11-import: replaced students ---------------------------------------------------------
    with op.batch_alter_table('replaced_students', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_replaced_students_student_key'))
    op.drop_table('replaced_students')
    # --- end h11-import ------------------------------------------------------------------------
