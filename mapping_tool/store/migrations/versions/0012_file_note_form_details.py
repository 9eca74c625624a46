"""file note form details: the school's name and the staff's names and positions as a sent form gave them

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = '0012'
down_revision: str | Sequence[str] | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('file_note', schema=None) as batch_op:
        batch_op.add_column(sa.Column('form_details', sa.Text(), server_default='', nullable=False))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('file_note', schema=None) as batch_op:
        batch_op.drop_column('form_details')
