"""corrections: earlier versions of corrected student notes, earlier values of intervention goals

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table('student_note_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('note_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('written_by', sa.String(length=64), nullable=False),
    sa.Column('written_at', sa.DateTime(), nullable=False),
    sa.Column('replaced_by', sa.String(length=64), nullable=False),
    sa.Column('replaced_at', sa.DateTime(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['note_id'], ['student_note.id'], name=op.f('fk_student_note_version_note_id_student_note'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_student_note_version')),
    sa.UniqueConstraint('note_id', 'version', name=op.f('uq_student_note_version_note_id'))
    )
    with op.batch_alter_table('student_note_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_student_note_version_note_id'), ['note_id'], unique=False)
    op.create_table('intervention_mapping_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mapping_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=24), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=False),
    sa.Column('new_value', sa.Text(), nullable=False),
    sa.Column('changed_by', sa.String(length=64), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['mapping_id'], ['intervention_mapping.id'], name=op.f('fk_intervention_mapping_change_mapping_id_intervention_mapping'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intervention_mapping_change'))
    )
    with op.batch_alter_table('intervention_mapping_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intervention_mapping_change_mapping_id'), ['mapping_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('intervention_mapping_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intervention_mapping_change_mapping_id'))
    op.drop_table('intervention_mapping_change')
    with op.batch_alter_table('student_note_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_student_note_version_note_id'))
    op.drop_table('student_note_version')
