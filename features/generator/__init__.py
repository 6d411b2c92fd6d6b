"""Synthetic Koperasi Merah Putih ledgers with known ground truth (the oracle)."""
