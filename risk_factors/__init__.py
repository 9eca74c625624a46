"""risk_factors domain package: pure Python and pandas (no Qt, no SQLAlchemy, no mapping_tool)."""
