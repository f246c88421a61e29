#!/usr/bin/env python3
"""Derive the polynomial coefficients used by core/ml_math_*.c.

Each kernel is written as  F(x) = head(x) + scale(x) * P(x)  where head/scale are the exact
leading terms (e.g. exp(r) = 1 + r + r^2 * P(r)) and P is a polynomial fitted to
(F - head) / scale so that the error relative to F is (nearly) minimax.  The fit is a
weighted least-squares solve iterated with Lawson's reweighting, which converges to the
minimax solution.  Coefficients are then rounded to the working precision one at a time,
lowest order first, refitting the remaining ones after each rounding so that the rounding
of one coefficient is compensated by the others.

Reference values come from Python's decimal module at 40 digits, so the fit is not limited
by double precision.  Prints each kernel's coefficients as exact C99 hex literals, lowest
order first, with the fit's error.  Needs numpy; takes ~10 s.

Usage: python3 tools/fit_math_coefficients.py
"""

import decimal
from decimal import Decimal as D

import numpy as np

decimal.getcontext().prec = 40

def d_exp(x):
    return D(x).exp()


def d_sin(x):
    x = D(x)
    term, total, n = x, x, 1
    while abs(term) > D(10) ** -45:
        term = -term * x * x / ((2 * n) * (2 * n + 1))
        total += term
        n += 1
    return total


def d_cos(x):
    x = D(x)
    term, total, n = D(1), D(1), 1
    while abs(term) > D(10) ** -45:
        term = -term * x * x / ((2 * n - 1) * (2 * n))
        total += term
        n += 1
    return total


# Each kernel: interval, fitted-argument map, reference F, head, scale, degree, precision.
# The polynomial variable is t = arg(x) (x itself, or x*x for the even/odd kernels).
KERNELS = {
    # exp(r) = 1 + r + r^2 * P(r),  |r| <= ln2/2 (slightly widened for the rounding of k)
    "expf": dict(lo=-0.3470, hi=0.3470, arg=lambda x: x, ref=d_exp,
                 head=lambda x: 1 + x, scale=lambda x: x * x, deg=4, prec="float"),
    # log(1+f) = f - f^2/2 + f^3 * P(f),  1+f in [sqrt(2)/2, sqrt(2)]
    "logf": dict(lo=-0.29290, hi=0.41422, arg=lambda x: x, ref=lambda x: (1 + D(x)).ln(),
                 head=lambda x: x - x * x / 2, scale=lambda x: x * x * x, deg=8, prec="float"),
    # sin(r) = r + r^3 * P(r^2),  |r| <= pi/4
    "sinf": dict(lo=0.0, hi=0.7854, arg=lambda x: x * x, ref=d_sin,
                 head=lambda x: x, scale=lambda x: x * x * x, deg=3, prec="float"),
    # cos(r) = 1 - r^2/2 + r^4 * P(r^2),  |r| <= pi/4
    "cosf": dict(lo=0.0, hi=0.7854, arg=lambda x: x * x, ref=d_cos,
                 head=lambda x: 1 - x * x / 2, scale=lambda x: x * x * x * x, deg=2, prec="float"),
    # tanh(x) = x + x^3 * P(x^2),  |x| <= atanh(1/2)
    "tanhf": dict(lo=0.0, hi=0.5494, arg=lambda x: x * x,
                  ref=lambda x: (d_exp(2 * D(x)) - 1) / (d_exp(2 * D(x)) + 1),
                  head=lambda x: x, scale=lambda x: x * x * x, deg=4, prec="float"),
    # exp(r) = 1 + r + r^2 * P(r) in double,  |r| <= ln2/2
    "exp": dict(lo=-0.3470, hi=0.3470, arg=lambda x: x, ref=d_exp,
                head=lambda x: 1 + x, scale=lambda x: x * x, deg=9, prec="double"),
}


def grid(lo, hi, n=3000):
    # Chebyshev-distributed points (dense near the ends, where the extrema crowd), avoiding 0.
    k = np.arange(n)
    pts = (lo + hi) / 2 + (hi - lo) / 2 * np.cos(np.pi * (k + 0.5) / n)
    pts = pts[np.abs(pts) > 1e-4 * max(abs(lo), abs(hi))]
    return np.sort(pts)


def prepare(spec):
    xs = grid(spec["lo"], spec["hi"])
    t, target, weight = [], [], []
    for x in xs:
        dx = D(float(x))
        f = spec["ref"](dx)
        s = spec["scale"](dx)
        t.append(spec["arg"](dx))
        target.append((f - spec["head"](dx)) / s)
        weight.append(float(abs(s / f)))  # error in P -> relative error in F
    return t, target, np.array(weight)


def residual(t, target, coef):
    # Evaluated in decimal: double precision is too coarse for the double-precision kernel.
    out = []
    for tk, yk in zip(t, target):
        acc = D(0)
        for c in reversed(coef):
            acc = acc * tk + D(c)
        out.append(float(yk - acc))
    return np.array(out)


def lawson(t, rhs, weight, deg, free, iters=300):
    """Near-minimax weighted fit of rhs by sum over j in free of d_j t^j."""
    a = np.stack([t ** j for j in free], axis=1) * weight[:, None]
    b = rhs * weight
    u = np.ones_like(t) / len(t)
    for _ in range(iters):
        sw = np.sqrt(u)
        sol, *_ = np.linalg.lstsq(a * sw[:, None], b * sw, rcond=None)
        err = np.abs(a @ sol - b) + 1e-300
        u = u * err
        u /= u.sum()
    return sol


def fit_free(t, target, weight, coef, free):
    # Fit, then refine twice on the decimal residual so that float64 rounding in the
    # solve does not limit the result.
    tf = np.array([float(x) for x in t])
    for _ in range(3):
        sol = lawson(tf, residual(t, target, coef), weight, len(coef) - 1, free)
        coef = list(coef)
        for j, d in zip(free, sol):
            coef[j] = float(D(coef[j]) + D(float(d)))
    return coef


def fit(spec):
    t, target, weight = prepare(spec)
    deg = spec["deg"]
    rnd = np.float32 if spec["prec"] == "float" else np.float64
    coef = [0.0] * (deg + 1)
    for j in range(deg + 1):
        coef = fit_free(t, target, weight, coef, list(range(j, deg + 1)))
        coef[j] = float(rnd(coef[j]))
    rel = np.max(np.abs(residual(t, target, coef) * weight))
    return coef, rel


def c_literal(c, prec):
    # Exact C99 hexadecimal literal: mantissa digits trimmed, 'f' suffix for float.
    mant, exp = float(c).hex().split("p")
    mant = mant.rstrip("0").rstrip(".")
    return "%sp%s%s" % (mant, exp, "f" if prec == "float" else "")


def main():
    for name, spec in KERNELS.items():
        coef, rel = fit(spec)
        bits = 24 if spec["prec"] == "float" else 53
        print("%s: degree %d, max relative error %.3g (%.3f ulp)" % (name, spec["deg"], rel, rel * 2 ** bits))
        for j, c in enumerate(coef):
            print("    c%d = %s, // %.17g" % (j, c_literal(c, spec["prec"]), c))


if __name__ == "__main__":
    main()
