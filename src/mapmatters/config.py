"""Configuration: schema validation with messages that name the file and the key, the
per-stage seeds, and defaults for config dicts. (Systems load in :mod:`mapmatters.system`.)"""
from __future__ import annotations

import hashlib
from pathlib import Path

import jsonschema

from .errors import InputError
from .io import load_yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "workflow" / "schemas"


def _key_path(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<top level>"


def schema_errors(data, schema: dict) -> list[str]:
    """Readable 'key: message' lines for every schema violation of ``data``."""
    validator = jsonschema.Draft202012Validator(schema)
    lines = []
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        key = _key_path(err.absolute_path)
        msg = err.message
        if err.validator == "additionalProperties":
            msg += " (unknown key: check its spelling against the schema)"
        lines.append(f"key '{key}': {msg}")
    return lines


def validate(data, schema_name: str, *, source: str) -> None:
    """Validate ``data`` against ``workflow/schemas/<schema_name>``; raise InputError if bad."""
    schema = load_yaml(SCHEMAS / schema_name)
    errors = schema_errors(data, schema)
    if errors:
        raise InputError("does not match the schema " f"workflow/schemas/{schema_name}:\n  " +
                         "\n  ".join(errors), file=source,
                         fix="correct the key(s) above; the schema documents each one.")


def stage_seed(master: int, *labels) -> int:
    """A reproducible 31-bit seed for one stage, derived from the master seed and labels."""
    h = hashlib.sha256(":".join(map(str, (master, *labels))).encode()).digest()
    return int.from_bytes(h[:4], "little") & 0x7FFFFFFF


def with_defaults(defaults: dict, config: dict | None, overrides: dict, what: str) -> dict:
    """``defaults`` updated by ``config`` and then ``overrides`` (deep copies); unknown keys
    raise ValueError naming ``what`` (e.g. 'training config')."""
    import copy

    cfg = copy.deepcopy(defaults)
    cfg.update(copy.deepcopy(config or {}))
    cfg.update(overrides)
    unknown = set(cfg) - set(defaults)
    if unknown:
        raise ValueError(f"unknown {what} keys: {sorted(unknown)}")
    return cfg


LIKE_SECTIONS = ("reference", "classical", "mlp")
CONFIG_SOURCES = "config (config/config.yaml + --configfile/--config overrides)"


def _deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = _deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def resolve_like(config: dict, sections=LIKE_SECTIONS) -> dict:
    """A copy of ``config`` where per-system entries ``{like: <other system>, ...}`` of
    ``reference``, ``classical`` and ``mlp`` are the other system's entry with the remaining
    keys merged over it (nested dicts merged, everything else replaced).

    Resolved after the presets are merged, so ``glycine: {like: alanine}`` follows every preset's
    change to alanine's settings unless a preset sets glycine's own. Chains (a like b like c) are
    followed; a cycle or a missing system is an :class:`InputError` naming the key.
    """
    import copy

    out = copy.deepcopy(config)
    for sec in sections:
        block = out.get(sec) or {}
        done: dict[str, dict] = {}

        def resolve(name, seen=()):
            if name in done:
                return done[name]
            entry = block[name]
            if not isinstance(entry, dict) or "like" not in entry:
                done[name] = entry
                return entry
            base = entry["like"]
            key = f"{sec}.{name}.like"
            if base not in block:
                raise InputError(f"'{key}' names '{base}', which has no '{sec}' entry.", key=key,
                                 file=CONFIG_SOURCES, fix=f"use one of {sorted(k for k in block if k != name)}.")
            if base in seen or base == name:
                raise InputError(f"'{key}' makes a cycle ({' -> '.join((*seen, name, base))}).", key=key,
                                 file=CONFIG_SOURCES, fix="let the chain of 'like' end in a full entry.")
            merged = _deep_merge(resolve(base, (*seen, name)), {k: v for k, v in entry.items() if k != "like"})
            done[name] = merged
            return merged

        for name in list(block):
            block[name] = resolve(name)
    return out
