"""Hypothesis budgets for the fuzz tests: small in the normal suite (``ci``, the default), long
with ``make fuzz`` (``HYPOTHESIS_PROFILE=fuzz``). ``RALLYBOT_FUZZ_ROUNDS`` sets how many
mutated requests and payloads the end-to-end fuzz tests send."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    derandomize=True,  # the same examples on every run: CI failures reproduce
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz",
    max_examples=3000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Applied per test (``@FUZZ``), not loaded globally: other tests keep their own settings.
FUZZ = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

FUZZ_ROUNDS = int(os.environ.get("RALLYBOT_FUZZ_ROUNDS", "60"))
"""Mutated requests/payloads per end-to-end fuzz test."""
