"""The choices made when this project was generated, in one place (change them here)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from secure_constructs import Compliance

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = PROJECT_ROOT / "functions"
FUNCTION_REQUIREMENTS = FUNCTIONS_DIR / "requirements.txt"
# One schema, two enforcement points: the API's request model and the handler's validation.
NEW_ITEM_SCHEMA = FUNCTIONS_DIR / "schemas" / "new_item.json"

AUTH_CHOICES = ("cognito", "iam")
WAF_CHOICES = ("baseline", "strict")
COMPLIANCE_CHOICES = ("none", "nist-hipaa-pci")
LOG_DESTINATION_SERVICES = ("logs", "kinesis", "firehose")


@dataclass(frozen=True)
class Settings:
    """What the stack is built with.

    :param service_name: the Powertools service name and metrics namespace.
    :param alarm_email: who receives the alarms.
    :param auth: "cognito" (a SecureUserPool) or "iam" (SigV4).
    :param waf_profile: "baseline" or "strict".
    :param compliance: "none", or "nist-hipaa-pci" (functions in a VPC with endpoints, reserved
        concurrency, backups, and the NIST 800-53 R5, HIPAA and PCI DSS packs at synth).
    :param log_destination_arn: where to forward every log group of the stack (SIEM
        integration, `secure_constructs.forward_logs`): the ARN of a CloudWatch Logs
        destination (usually of a central logging account, `arn:aws:logs:<region>:<account>:
        destination:<name>`), of a Kinesis data stream or of a Firehose stream of this account.
        Default: "" (not forwarded). A stream encrypted with its own KMS key: import it with
        `encryption_key=` in stack.py (`_log_destination`) so the role may use the key.
    """

    service_name: str = {{ cookiecutter.project_slug | jsonify }}
    alarm_email: str = {{ cookiecutter.alarm_email | jsonify }}
    auth: str = {{ cookiecutter.auth | jsonify }}
    waf_profile: str = {{ cookiecutter.waf_profile | jsonify }}
    compliance: str = {{ cookiecutter.compliance | jsonify }}
    log_destination_arn: str = ""

    def __post_init__(self) -> None:
        for name, allowed in (
            ("auth", AUTH_CHOICES),
            ("waf_profile", WAF_CHOICES),
            ("compliance", COMPLIANCE_CHOICES),
        ):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name}={getattr(self, name)!r}: expected one of {allowed}")
        if self.log_destination_arn and self.log_destination_service not in (
            LOG_DESTINATION_SERVICES
        ):
            raise ValueError(
                f"log_destination_arn={self.log_destination_arn!r}: expected the ARN of a "
                "CloudWatch Logs destination, Kinesis stream or Firehose stream (or nothing)"
            )

    @property
    def log_destination_service(self) -> str:
        """The service of `log_destination_arn` (logs, kinesis, firehose), "" when off."""
        parts = self.log_destination_arn.split(":")
        return parts[2] if len(parts) > 2 and parts[0] == "arn" else ""

    @property
    def regulated(self) -> bool:
        """True when the NIST 800-53 R5, HIPAA and PCI DSS packs apply."""
        return self.compliance == "nist-hipaa-pci"

    @property
    def compliance_packs(self) -> list[Compliance]:
        """The cdk-nag packs to run on top of AwsSolutions, Serverless and SecureServerless."""
        return list(Compliance) if self.regulated else []


STACK_NAME = {{ cookiecutter.stack_name | jsonify }}
AWS_REGION = {{ cookiecutter.aws_region | jsonify }}
DESCRIPTION = {{ cookiecutter.description | jsonify }}
