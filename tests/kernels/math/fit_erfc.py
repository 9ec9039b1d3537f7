#!/usr/bin/env python3
"""Fits the polynomials of the vector erfc in include/maas/local/kernels/
math_constants.h (used by GELU, erf form) and prints them as C++ arrays.

erfc(t) = exp(-t^2) * g(t) for t >= 0, g(t) = erfc(t) exp(t^2), smooth and
slowly varying. Two regions, each a polynomial in a variable scaled to [-1, 1]:

  A: 0 <= t <= 2:        g(t)     ~ PA(w), w = t - 1
  B: 2 <= t <= T:        g(t) * t ~ PB(w), w = (1/t - c) / h,
                         c, h the centre and half-width of [1/T, 1/2]

fitted by least squares on Chebyshev nodes with weights 1/|target| (relative
error), degree per precision. T is where exp(-t^2) leaves the range (float
9.4, double 26.6). Needs numpy (the project venv has it):

  .venv/bin/python tests/kernels/math/fit_erfc.py

The maximum relative error of each fit on a dense grid is printed with it;
math_constants.h quotes them.
"""

import math

import numpy as np

SPLIT = 2.0


def cheb(a, b, n=6000):
    k = np.arange(n)
    return (a + b) / 2 + (b - a) / 2 * np.cos(np.pi * (k + 0.5) / n)


def g(t):
    return math.erfc(t) * math.exp(t * t)


def lsq(w, y, deg):
    v = np.vander(w, deg + 1, increasing=True)
    wt = 1 / np.abs(y)
    c, *_ = np.linalg.lstsq(v * wt[:, None], y * wt, rcond=None)
    return c


def fit(t_max, deg_a, deg_b):
    t = cheb(0, SPLIT)
    a = lsq(t - 1, np.array([g(x) for x in t]), deg_a)
    c, h = (1 / SPLIT + 1 / t_max) / 2, (1 / SPLIT - 1 / t_max) / 2
    t = cheb(SPLIT, t_max)
    b = lsq((1 / t - c) / h, np.array([g(x) * x for x in t]), deg_b)
    grid = np.concatenate([np.linspace(0, SPLIT, 40001),
                           np.linspace(SPLIT, t_max, 80001)])
    worst = 0.0
    for x in grid:
        approx = (np.polyval(a[::-1], x - 1) if x <= SPLIT
                  else np.polyval(b[::-1], (1 / x - c) / h) / x)
        worst = max(worst, abs(approx - g(x)) / g(x))
    return a, b, c, h, worst


def emit(name, t_max, deg_a, deg_b):
    a, b, c, h, worst = fit(t_max, deg_a, deg_b)
    n = max(len(a), len(b))
    a = list(a) + [0.0] * (n - len(a))
    b = list(b) + [0.0] * (n - len(b))
    print(f"// {name}: t_max {t_max}, degrees {deg_a} / {deg_b}, "
          f"max relative error of g {worst:.2e}")
    print(f"kErfcCenter = {c:.17g}; kErfcInvHalfWidth = {1 / h:.17g};")
    for label, coef in (("A", a), ("B", b)):
        print(f"kErfc{label}[{n}] = {{")
        print(",\n".join(f"    {float(v):.17g}" for v in coef) + "};")


if __name__ == "__main__":
    emit("float", 9.4, 10, 8)
    emit("double", 26.6, 18, 16)
