"""Every model module, listed once: Alembic's environment and the schema test load the whole
schema from here, so a feature's tables are composed explicitly rather than by import side effects."""

from __future__ import annotations

from mapping_tool.store import models, models_interventions, models_records, models_referrals

MODEL_MODULES = (models, models_interventions, models_referrals, models_records)
Base = models.Base
metadata = Base.metadata
