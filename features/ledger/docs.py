"""Render the ledger reference (`docs/ledger.md`) from the contracts, so it cannot drift.

Regenerate on purpose with `python -m features.ledger.docs > docs/ledger.md`; a test
compares the committed file with this output.
"""

from __future__ import annotations

from features.ledger.contracts import MAX_RUPIAH, TABLES, Column, Rule
from features.ledger.headers import COLUMN_ALIASES, COMMON_ALIASES, TABLE_ALIASES
from features.ledger.parsing import BOOL_WORDS
from features.ledger.rules import MESSAGES

_TYPES = {
    "id": "text id",
    "text": "text",
    "hash": "HMAC-SHA256 hex (64)",
    "money": "integer Rupiah",
    "amount0": "integer Rupiah",
    "int": "integer",
    "rate": "fraction",
    "date": "date",
    "enum": "closed set",
    "period": "month YYYY-MM",
    "bool": "yes/no",
}

_MAX_RUPIAH_TEXT = f"Rp {MAX_RUPIAH:,}".replace(",", ".")
_BOOL_RULE = (
    "yes: "
    + ", ".join(f"`{w}`" for w, yes in BOOL_WORDS.items() if yes)
    + "; no: "
    + ", ".join(f"`{w}`" for w, yes in BOOL_WORDS.items() if not yes)
    + " (any case; Excel TRUE/FALSE)"
)


def _rule(col: Column) -> str:
    parts = ["required" if col.required else "optional"]
    if col.kind == "money":
        parts.append(f"> 0, at most {_MAX_RUPIAH_TEXT}")
    elif col.kind == "amount0":
        parts.append(f">= 0, at most {_MAX_RUPIAH_TEXT}")
    elif col.low is not None and col.high is not None:
        parts.append(f"{col.low:g} to {col.high:g}")
    elif col.kind == "bool":
        parts.append(_BOOL_RULE)
    if col.enum is not None:
        parts.append("one of " + ", ".join(f"`{v}`" for v in col.enum.values()))
    if col.pattern:
        parts.append("letters, digits, `.` `_` `-`")
    return "; ".join(parts)


def render() -> str:
    lines = [
        "# The ledger: tables, columns and rules",
        "",
        "Generated from `features/ledger/contracts.py` by `python -m features.ledger.docs`;",
        "do not edit by hand. Stored as Parquet, one file per table per cooperative",
        "(`LEDGER_DIR/<table>/<cooperative_id>.parquet`); amounts are integer Rupiah, dates are",
        "calendar dates, closed sets are English identifiers with Indonesian labels.",
        "",
    ]
    for table in TABLES.values():
        aliases = ", ".join(f"`{a}`" for a in TABLE_ALIASES[table.name])
        lines += [
            f"## `{table.name}`",
            "",
            f"{table.description} Key: {', '.join(f'`{k}`' for k in table.key)}. "
            f"Import recognises files or sheets named {aliases}.",
            "",
            "| column | type | meaning | rule | also read from |",
            "| --- | --- | --- | --- | --- |",
        ]
        for col in table.columns:
            names = (
                *COMMON_ALIASES.get(col.name, ()),
                *COLUMN_ALIASES[table.name].get(col.name, ()),
            )
            also = ", ".join(f"`{n}`" for n in names)
            lines.append(
                f"| `{col.name}` | {_TYPES[col.kind]} | {col.description} | {_rule(col)} | {also} |"
            )
        lines.append("")
    lines += [
        "## Quarantine rules",
        "",
        "A row that breaks a rule goes to `LEDGER_DIR/quarantine/<table>.parquet` with `_rule`,",
        "`_column`, `_reason_id`, `_reason_en`, `_source_file` and `_source_row`.",
        "",
        "| rule | reason (en) |",
        "| --- | --- |",
    ]
    for rule in Rule:
        lines.append(f"| `{rule.value}` | {MESSAGES[rule][1]} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(render(), end="")
