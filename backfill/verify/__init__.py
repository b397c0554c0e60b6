"""``backfill verify``: prove a migrated events table is complete, valid and exact."""

from backfill.verify.checks import Finding, Kind
from backfill.verify.runner import VerifyOptions, VerifyResult, run_verify

__all__ = ["Finding", "Kind", "VerifyOptions", "VerifyResult", "run_verify"]
