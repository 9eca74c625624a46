"""referral_forms domain package: pure Python and pandas (no Qt, no SQLAlchemy, no mapping_tool)."""
