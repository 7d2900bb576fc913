"""Rules for practice 8, stay current: runtimes past AWS's end of standard support.

cdk-nag's AwsSolutions-L1 / Serverless-LambdaLatestVersion check "latest of its family" at synth,
but only for CDK apps; this rule gives `secure-constructs audit` the same signal on any template
and says how long the runtime has been unsupported.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator

from secure_constructs.checks.model import Practice, Template, Violation, rule

# Deprecation (end of standard support) dates from AWS Lambda's "Runtime deprecation" tables,
# docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html, as of 2026-11. Only dates AWS has
# reached or published are listed; add new ones as AWS announces them.
DEPRECATED_RUNTIMES: dict[str, datetime.date] = {
    "python2.7": datetime.date(2021, 7, 15),
    "python3.6": datetime.date(2022, 7, 18),
    "python3.7": datetime.date(2023, 12, 4),
    "python3.8": datetime.date(2024, 10, 14),
    "python3.9": datetime.date(2025, 12, 15),
    "nodejs": datetime.date(2016, 10, 31),
    "nodejs4.3": datetime.date(2020, 3, 5),
    "nodejs6.10": datetime.date(2019, 8, 12),
    "nodejs8.10": datetime.date(2020, 3, 6),
    "nodejs10.x": datetime.date(2021, 7, 30),
    "nodejs12.x": datetime.date(2023, 3, 31),
    "nodejs14.x": datetime.date(2023, 12, 4),
    "nodejs16.x": datetime.date(2024, 6, 12),
    "nodejs18.x": datetime.date(2025, 9, 1),
    "nodejs20.x": datetime.date(2026, 4, 30),
    "java8": datetime.date(2024, 1, 8),
    "go1.x": datetime.date(2024, 1, 8),
    "provided": datetime.date(2024, 1, 8),
    "ruby2.5": datetime.date(2021, 7, 30),
    "ruby2.7": datetime.date(2023, 12, 7),
    "ruby3.2": datetime.date(2026, 3, 31),
    "dotnetcore1.0": datetime.date(2019, 7, 30),
    "dotnetcore2.0": datetime.date(2019, 5, 30),
    "dotnetcore2.1": datetime.date(2021, 1, 5),
    "dotnetcore3.1": datetime.date(2023, 4, 3),
    "dotnet5.0": datetime.date(2022, 5, 10),
    "dotnet6": datetime.date(2024, 12, 20),
    "dotnet7": datetime.date(2024, 5, 14),
}


@rule(
    "LambdaRuntimeDeprecated",
    practice=Practice.CURRENCY,
    applies_to=("AWS::Lambda::Function",),
    summary="A Lambda function uses a runtime past AWS's end of standard support",
    explanation=(
        "A deprecated runtime gets no security patches; AWS later blocks creating and then "
        "updating functions on it, so a fix cannot even be deployed."
    ),
)
def lambda_runtime_deprecated(t: Template) -> Iterator[Violation]:
    """Functions whose runtime reached its deprecation date."""
    today = datetime.date.today()
    for logical_id, props in t.of_type("AWS::Lambda::Function"):
        runtime = props.get("Runtime")
        if not isinstance(runtime, str):
            continue
        deprecated = DEPRECATED_RUNTIMES.get(runtime)
        if deprecated is not None and deprecated <= today:
            yield Violation(
                logical_id,
                "Properties/Runtime",
                f"runtime {runtime} has been deprecated since {deprecated.isoformat()}",
                "use the latest runtime of its family (SecureFunction defaults to the latest "
                "Python runtime: drop runtime=)",
            )


RULES = (lambda_runtime_deprecated,)
