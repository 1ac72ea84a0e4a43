"""Shared test settings: hypothesis profiles ("ci" is bounded and has no deadline)."""

import os

from hypothesis import HealthCheck, settings

# CI draws the same examples every run (derandomize): a red build then means a change
# broke something, not that this run drew a rarer input.  "dev" keeps exploring.
settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
