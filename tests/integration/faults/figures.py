"""The fault suite's figures: every scenario adds what it measured, the session prints the sum."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Figures:
    scenarios: int = 0
    records_processed: int = 0  # backfill items examined + stream records delivered + items restored
    faults: Counter[str] = field(default_factory=Counter)  # kind -> how many were injected
    items_checked: int = 0  # items compared with an independent fresh count/snapshot
    items_lost: int = 0
    counts_wrong: int = 0

    def add(self, other: Figures) -> None:
        self.scenarios += other.scenarios
        self.records_processed += other.records_processed
        self.faults.update(other.faults)
        self.items_checked += other.items_checked
        self.items_lost += other.items_lost
        self.counts_wrong += other.counts_wrong

    def lines(self) -> list[str]:
        faults = ", ".join(f"{kind} {n}" for kind, n in sorted(self.faults.items())) or "none"
        return [
            f"scenarios run:        {self.scenarios}",
            f"records processed:    {self.records_processed}",
            f"faults injected:      {sum(self.faults.values())} ({faults})",
            f"items checked:        {self.items_checked} (against a fresh independent count/snapshot)",
            f"items lost:           {self.items_lost}",
            f"counts wrong:         {self.counts_wrong}",
        ]


SESSION = Figures()
