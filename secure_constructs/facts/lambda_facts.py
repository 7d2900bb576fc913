"""AWS Lambda's documented limits (Lambda Developer Guide, "Lambda quotas" and
"Configuring error handling for asynchronous invocation")."""

from __future__ import annotations

MAX_TIMEOUT_SECONDS = 900
"""The longest timeout Lambda allows: 15 minutes."""
DEFAULT_TIMEOUT_SECONDS = 3
"""Lambda's own timeout when a function declares none (CloudFormation's `Timeout` default)."""
MEMORY_RANGE_MB = (128, 10240)
"""Memory a function may have, in MiB."""
ASYNC_RETRY_RANGE = (0, 2)
"""Retries of an asynchronous invocation (`MaximumRetryAttempts`)."""
EVENT_AGE_RANGE_SECONDS = (60, 21600)
"""How long an asynchronous event may wait (`MaximumEventAgeInSeconds`): 1 minute to 6 hours."""
