"""Errors that a user can act on."""
from __future__ import annotations


class InputError(ValueError):
    """Bad user input: says where (file, key) and how to fix it."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None,
                 fix: str | None = None):
        self.file = file
        self.key = key
        self.fix = fix
        parts = []
        if file:
            parts.append(str(file))
        if key:
            parts.append(f"key '{key}'")
        where = ": ".join(parts)
        text = f"{where}: {message}" if where else message
        if fix:
            text += f" Fix: {fix}"
        super().__init__(text)
