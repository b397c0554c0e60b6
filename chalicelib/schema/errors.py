"""Errors raised by the upgrade rule."""

from __future__ import annotations


class UpgradeRefused(ValueError):
    """The item cannot be upgraded without guessing. Carries the item's key and every reason."""

    def __init__(self, event_id: object, reasons: list[str]) -> None:
        self.event_id = event_id
        self.reasons = list(reasons)
        super().__init__(f"event {event_id!r} refused: {'; '.join(self.reasons)}")
