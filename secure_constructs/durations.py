"""`cdk.Duration`s the constructs use again and again, made once per process.

Each `cdk.Duration.minutes(1)` is a round trip to the jsii kernel; a SecureFunction needs
about five of them. A `Duration` is immutable, so one object serves every construct of every
app in the process. The amounts themselves are in `secure_constructs.defaults` (or next to the
call that needs them); this module only caches the objects.
"""

from __future__ import annotations

from functools import cache

import aws_cdk as cdk


@cache
def seconds(amount: int) -> cdk.Duration:
    """`cdk.Duration.seconds(amount)`, made once."""
    return cdk.Duration.seconds(amount)


@cache
def minutes(amount: int) -> cdk.Duration:
    """`cdk.Duration.minutes(amount)`, made once."""
    return cdk.Duration.minutes(amount)


__all__ = ["minutes", "seconds"]
