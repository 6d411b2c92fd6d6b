"""Ledger contracts, import/export, the synthetic generator and (later) profile features."""
