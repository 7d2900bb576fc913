"""API Gateway REST APIs' documented limits and method facts (API Gateway Developer Guide,
"Amazon API Gateway quotas and important notes")."""

from __future__ import annotations

MAX_INTEGRATION_TIMEOUT_SECONDS = 29
"""API Gateway's default integration timeout: a longer-running function is cut off at 29 s."""
MAX_CACHE_TTL_SECONDS = 3600
"""The longest a REST API caches: a stage's method responses and a Lambda or Cognito
authorizer's decision (`resultsCacheTtl`) both at most 3600 seconds."""
BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "ANY"})
"""Methods whose requests carry a body that a request model can validate."""
