"""What a run is and keeps: its run store, backup, ledger, checkpoint and status."""
