"""Exact discrete Laplace noise drawn from a keyed stream: the same seed, the same noise.

OpenDP samples from the operating system's randomness and cannot be seeded, so a run of the
same spec on the same data would get fresh noise every time, and averaging enough runs gives
back the true counts. Here the randomness is a keyed pseudo-random stream instead:
HMAC-SHA256(seed, counter) blocks, the seed itself a keyed hash (`Purpose.AGGREGATE_NOISE`)
of the query and of the data's version (`anonymize.noise`). From that stream the samplers
of Canonne, Kamath and Steinke ("The Discrete Gaussian for Differential Privacy", 2020,
Algorithms 1 and 2) draw the noise with integer arithmetic only: uniform integers by
rejection, Bernoulli(exp(-gamma)) for a rational gamma, and the discrete Laplace of rational scale
t/s. No floating point is involved, so the distribution is exact (no Mironov-style gaps in
the low bits of a float Laplace).

Why it is sound: for any one data set the output is the data's true answer plus a sample
of the stated distribution, the sample indistinguishable from a fresh random one to anyone
without the key (HMAC-SHA256 as a pseudo-random function), which is what the ε-DP
guarantee needs (a computational one, as every implementation's on a CSPRNG). A repeated
query on the same data gives the same answer, a function of the one release: it adds
nothing. Another query, or the same one on another version of the data, hashes to another
seed and independent noise, and is charged against the data set's budget (the release log).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from fractions import Fraction

_BLOCK = 32  # bytes of one HMAC-SHA256 output
_SCALE_DENOMINATOR = 1 << 20  # a scale is rounded *up* to a multiple of 2^-20


class KeyedStream:
    """Pseudo-random bytes from a secret seed: HMAC-SHA256(seed, counter), block after block.

    Examples:
        >>> a, b = KeyedStream(b"s" * 32), KeyedStream(b"s" * 32)
        >>> [a.uniform(1000) for _ in range(3)] == [b.uniform(1000) for _ in range(3)]
        True
    """

    def __init__(self, seed: bytes) -> None:
        self._seed = seed
        self._counter = 0
        self._buffer = b""

    def _bytes(self, n: int) -> bytes:
        while len(self._buffer) < n:
            block = hmac.digest(self._seed, self._counter.to_bytes(8, "big"), hashlib.sha256)
            self._buffer += block
            self._counter += 1
        out, self._buffer = self._buffer[:n], self._buffer[n:]
        return out

    def uniform(self, n: int) -> int:
        """A uniform integer in [0, n), by rejection (no modulo bias)."""
        if n <= 1:
            return 0
        bits = (n - 1).bit_length()
        mask = (1 << bits) - 1
        while True:
            value = int.from_bytes(self._bytes((bits + 7) // 8), "big") & mask
            if value < n:
                return value

    def bernoulli(self, p: Fraction) -> bool:
        """True with probability p (0 <= p <= 1), exactly."""
        return self.uniform(p.denominator) < p.numerator

    def bernoulli_exp(self, gamma: Fraction) -> bool:
        """True with probability exp(-gamma) for a rational gamma >= 0 (CKS, Algorithm 1)."""
        while gamma > 1:  # exp(-g) = exp(-1)^floor(g) * exp(-(g - floor(g)))
            if not self.bernoulli_exp(Fraction(1)):
                return False
            gamma -= 1
        k = 1
        while self.bernoulli(gamma / k):
            k += 1
        return k % 2 == 1

    def discrete_laplace(self, scale: Fraction) -> int:
        """An integer Z with P[Z = z] proportional to exp(-|z| / scale) (CKS, Algorithm 2)."""
        t, s = scale.numerator, scale.denominator
        while True:
            u = self.uniform(t)
            if not self.bernoulli_exp(Fraction(u, t)):
                continue
            v = 0
            while self.bernoulli_exp(Fraction(1)):
                v += 1
            y = (u + t * v) // s
            negative = self.bernoulli(Fraction(1, 2))
            if negative and y == 0:
                continue
            return -y if negative else y


def scale_at_least(scale: float) -> Fraction:
    """`scale` as a fraction of denominator 2^20, rounded up: never less noise than stated."""
    exact = Fraction(scale) * _SCALE_DENOMINATOR
    numerator = -(-exact.numerator // exact.denominator)  # ceiling
    return Fraction(max(numerator, 1), _SCALE_DENOMINATOR)


def cell_stream(seed: bytes, *parts: object) -> KeyedStream:
    """The stream of one cell (and measure) of a table: its own subkey of the table's seed,
    so a cell's noise does not depend on which other cells exist or their order."""
    label = json.dumps([str(p) if p is not None else None for p in parts], ensure_ascii=False)
    return KeyedStream(hmac.digest(seed, label.encode("utf-8"), hashlib.sha256))


__all__ = ["KeyedStream", "cell_stream", "scale_at_least"]
