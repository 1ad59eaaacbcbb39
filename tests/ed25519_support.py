"""Ed25519 arithmetic in pure Python (RFC 8032 section 5.1), to build the edge-case signatures
the acceptance rules are proved with: points of small and mixed order, encodings that are not
canonical, S past the group order. Slow and not constant-time: for tests only.

``permissive_verify`` is the equation alone, [S]B = R + [k]A without the cofactor, over the
points the encodings decode to (y taken mod p, any sign bit for x = 0, S reduced), with none
of libsodium's refusals: a vector it accepts and libsodium refuses is refused by a rule, not
by the arithmetic.
"""

from __future__ import annotations

import hashlib

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, -1, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)

Point = tuple[int, int, int, int]  # extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z

IDENTITY: Point = (0, 1, 1, 0)


def add(p: Point, q: Point) -> Point:
    a = (p[1] - p[0]) * (q[1] - q[0]) % P
    b = (p[1] + p[0]) * (q[1] + q[0]) % P
    c = 2 * p[3] * q[3] * D % P
    d = 2 * p[2] * q[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def mul(n: int, p: Point) -> Point:
    q = IDENTITY
    while n > 0:
        if n & 1:
            q = add(q, p)
        p = add(p, p)
        n >>= 1
    return q


def neg(p: Point) -> Point:
    return (-p[0] % P, p[1], p[2], -p[3] % P)


def equal(p: Point, q: Point) -> bool:
    return (p[0] * q[2] - q[0] * p[2]) % P == 0 and (p[1] * q[2] - q[1] * p[2]) % P == 0


def x_of(y: int, sign: int) -> int | None:
    """The x with x's low bit ``sign`` on the curve at ``y`` (taken mod p), or None. For x = 0
    either sign is taken (a permissive decoder)."""
    y %= P
    u, v = (y * y - 1) % P, (D * y * y + 1) % P
    x = u * pow(v, 3, P) * pow(u * pow(v, 7, P), (P - 5) // 8, P) % P
    if (v * x * x - u) % P != 0:
        x = x * SQRT_M1 % P
    if (v * x * x - u) % P != 0:
        return None
    if x & 1 != sign:
        x = -x % P
    return x


def point(y: int, sign: int = 0) -> Point | None:
    x = x_of(y, sign)
    return None if x is None else (x, y % P, 1, x * y % P)


def decode(raw: bytes) -> Point | None:
    """The point a 32-byte encoding names, permissively (see the module)."""
    n = int.from_bytes(raw, "little")
    return point(n & ((1 << 255) - 1), n >> 255)


def encode(p: Point) -> bytes:
    """The canonical encoding of ``p``."""
    z = pow(p[2], -1, P)
    x, y = p[0] * z % P, p[1] * z % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def encoding(y: int, sign: int) -> bytes:
    """The 32 bytes for ``y`` (any value below 2**255, canonical or not) and ``sign``."""
    return (y | (sign << 255)).to_bytes(32, "little")


B: Point = point(4 * pow(5, -1, P) % P, 0)  # type: ignore[assignment]


def order_divides(p: Point, n: int) -> bool:
    return equal(mul(n, p), IDENTITY)


def torsion_points() -> list[Point]:
    """The 8 points of order dividing 8, by multiples of one point of order 8."""
    t8 = next(
        t
        for t in (mul(L, q) for q in (point(y) for y in range(2, 50)) if q is not None)
        if not order_divides(t, 4)
    )
    return [mul(i, t8) for i in range(8)]


def challenge(r_enc: bytes, a_enc: bytes, message: bytes) -> int:
    """k = SHA-512(R || A || M) mod L, over the bytes as they travel."""
    return int.from_bytes(hashlib.sha512(r_enc + a_enc + message).digest(), "little") % L


def secret_scalar(seed: bytes) -> int:
    h = hashlib.sha512(seed).digest()
    a = int.from_bytes(h[:32], "little")
    a &= (1 << 254) - 8
    a |= 1 << 254
    return a


def permissive_verify(a_enc: bytes, signature: bytes, message: bytes) -> bool:
    """The cofactorless equation alone (see the module)."""
    if len(a_enc) != 32 or len(signature) != 64:
        return False
    a, r = decode(a_enc), decode(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    k = challenge(signature[:32], a_enc, message)
    return equal(mul(s, B), add(r, mul(k, a)))


def cofactored_verify(a_enc: bytes, signature: bytes, message: bytes) -> bool:
    """The equation with the cofactor, [8][S]B = [8]R + [8][k]A, as permissive otherwise."""
    a, r = decode(a_enc), decode(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    k = challenge(signature[:32], a_enc, message)
    return equal(mul(8, mul(s, B)), mul(8, add(r, mul(k, a))))
