"""``backfill verify``: prove a migrated table is complete, valid and exact."""

from backfill.verify.checks import Finding, FindingKind
from backfill.verify.runner import VerifyOptions, VerifyResult, run_verify

__all__ = ["Finding", "FindingKind", "VerifyOptions", "VerifyResult", "run_verify"]
