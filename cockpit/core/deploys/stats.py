"""Small, exact-enough statistics on counts, in pure Python (no NumPy: start-up matters).

Error counts per minute are binomial draws from the minute's requests. Real services are
noisier than that (retries, bursts of one bad client), so tests take an overdispersion factor
`phi` (a quasi-likelihood: variance `phi` times the binomial one), estimated from the service's
own calm history. Tails are exact Poisson tails (the regularised incomplete gamma function), so
"37 errors where 3 were expected" gets its real p-value even at 50 requests an hour.
"""

from __future__ import annotations

import math

TINY = 1e-300


def xlogy(x: float, y: float) -> float:
    """x * log(y), with 0 * log(0) = 0."""
    if x == 0:
        return 0.0
    return x * math.log(max(y, TINY))


def binomial_loglik(errors: float, requests: float, p: float) -> float:
    """Log-likelihood of `errors` among `requests` at error ratio `p` (constant terms dropped)."""
    p = min(max(p, 1e-12), 1 - 1e-12)
    return xlogy(errors, p) + xlogy(max(requests - errors, 0.0), 1 - p)


def segment_loglik(errors: float, requests: float) -> float:
    """The binomial log-likelihood of a stretch at its own best ratio (errors / requests)."""
    if requests <= 0:
        return 0.0
    p = errors / requests
    return xlogy(errors, p) + xlogy(requests - errors, 1 - p)


def smoothed_ratio(errors: float, requests: float) -> float:
    """The error ratio with half an error added (Jeffreys): a calm stretch with no error at all
    still has a small, finite ratio, so one stray error is not "infinitely" surprising."""
    return (errors + 0.5) / (requests + 1.0)


def _gamma_series(a: float, x: float) -> float:
    total = term = 1.0 / a
    n = a
    for _ in range(10_000):
        n += 1
        term *= x / n
        total += term
        if abs(term) < abs(total) * 1e-15:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _gamma_fraction(a: float, x: float) -> float:
    b = x + 1 - a
    c = 1 / TINY
    d = 1 / b
    h = d
    for i in range(1, 10_000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        if abs(d) < TINY:
            d = TINY
        c = b + an / c
        if abs(c) < TINY:
            c = TINY
        d = 1 / d
        step = d * c
        h *= step
        if abs(step - 1) < 1e-15:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def poisson_sf(k: float, mean: float) -> float:
    """P(X >= k) for X ~ Poisson(mean); `k` may be fractional (an overdispersed count)."""
    if k <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    # P(X >= k) = P(k, mean), the regularised lower incomplete gamma function.
    if mean < k + 1:
        return min(1.0, max(0.0, _gamma_series(k, mean)))
    return min(1.0, max(0.0, 1.0 - _gamma_fraction(k, mean)))


def poisson_cdf(k: float, mean: float) -> float:
    """P(X <= k) for X ~ Poisson(mean)."""
    if k < 0:
        return 0.0
    return 1.0 - poisson_sf(math.floor(k) + 1, mean)


def excess_p_value(errors: float, expected: float, phi: float = 1.0) -> float:
    """One-sided p-value of seeing `errors` or more where `expected` were expected, with
    overdispersion `phi` (both counts scaled down by it, as a quasi-Poisson test does)."""
    if errors <= expected:
        return 1.0
    phi = max(phi, 1.0)
    return poisson_sf(errors / phi, max(expected, 1e-9) / phi)


def normal_sf(z: float) -> float:
    """P(Z >= z) for a standard normal Z."""
    return 0.5 * math.erfc(z / math.sqrt(2))


def format_p(p: float) -> str:
    """`p < 0.001`, `p = 0.004`, `p = 0.2`: what an SRE reads at a glance."""
    if p < 0.001:
        return "p < 0.001"
    if p < 0.01:
        return f"p = {p:.3f}"
    return f"p = {p:.2g}"


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if not ordered:
        return 0.0
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
