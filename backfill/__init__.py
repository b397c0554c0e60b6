"""The backfill CLI: migrate existing rows once, verify, restore, and run streams locally."""
