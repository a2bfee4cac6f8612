"""Deterministic randomness: seeded generators and per-key hashes that stay stable across updates."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def generator(seed: int, stream: str) -> np.random.Generator:
    """A generator for one named stream, independent of the order streams are used in."""
    digest = hashlib.blake2b(f"{seed}:{stream}".encode(), digest_size=8).digest()
    return np.random.default_rng(int.from_bytes(digest, "little"))


def _salt(salt: str) -> np.uint64:
    return np.uint64(int.from_bytes(hashlib.blake2b(salt.encode(), digest_size=8).digest(), "little"))


def _splitmix(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def key_hash(keys: pd.Series | np.ndarray, salt: str) -> np.ndarray:
    """A uint64 per key, fixed for (key, salt): noise decided this way survives record updates."""
    base = pd.util.hash_array(np.asarray(keys, dtype=object))
    return _splitmix(base ^ _salt(salt))


def key_uniform(keys: pd.Series | np.ndarray, salt: str) -> np.ndarray:
    """Uniform floats in [0, 1) fixed per (key, salt)."""
    return (key_hash(keys, salt) >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def key_int(keys: pd.Series | np.ndarray, salt: str, n: int | np.ndarray) -> np.ndarray:
    """Integers in [0, n) fixed per (key, salt); ``n`` may be an array."""
    return np.floor(key_uniform(keys, salt) * np.asarray(n)).astype(np.int64)
