"""Member identity kept only as keyed hashes (UU PDP: NIK is specific personal data).

A NIK is 16 structured digits (region, birth date, serial): an unkeyed hash is reversed by
brute force in minutes, so only HMAC-SHA256 with a secret from the environment is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re

NIK_PATTERN = re.compile(r"^\d{16}$")


def normalise_nik(raw: str) -> str | None:
    """Digits of a NIK as typed (spaces, dots and dashes dropped), or None if not 16 digits."""
    digits = re.sub(r"[\s.\-]", "", raw)
    return digits if NIK_PATTERN.match(digits) else None


def normalise_phone(raw: str) -> str | None:
    """An Indonesian mobile number as 62xxxxxxxxx, or None when it is not one."""
    digits = re.sub(r"[^\d+]", "", raw)
    if digits.startswith("+"):
        digits = digits[1:]
    if digits.startswith("0"):
        digits = "62" + digits[1:]
    if not digits.startswith("62") or not 10 <= len(digits) <= 15 or not digits.isdigit():
        return None
    return digits


def keyed_hash(value: str, key: bytes) -> str:
    """HMAC-SHA256 as 64 lowercase hex characters."""
    return hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
