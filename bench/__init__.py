"""Benchmarks (issue 6): backfill, stream path, backup and restore against a local endpoint.

Run with ``make bench`` or ``python -m bench [--quick]``; figures go to ``bench/results.md``.
"""
