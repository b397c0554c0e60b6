"""Errors raised by the upgrade rule."""

from __future__ import annotations


class UpgradeRefused(ValueError):
    """The item cannot be upgraded without guessing. Carries the item's key and every reason."""

    def __init__(self, item_name: object, reasons: list[str]) -> None:  # item_name: the item's name
        self.item_name = item_name
        self.reasons = list(reasons)
        super().__init__(f"item {item_name!r} refused: {'; '.join(self.reasons)}")


class DeclarationError(ValueError):
    """A declaration that cannot be used: one line naming it and the problem."""

    def __init__(self, reference: str, problem: str, problems: list[str] | None = None) -> None:
        self.reference = reference
        self.problem = problem
        self.problems = problems if problems is not None else [problem]  # each reason, when there are several
        super().__init__(f"declaration {reference}: {problem}")
