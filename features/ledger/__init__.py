"""Ledger import: parsing and validation of cooperative spreadsheet exports."""
