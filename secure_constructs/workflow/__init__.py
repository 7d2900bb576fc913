"""Step Functions workflows that stay hardened: SecureStateMachine and its Lambda tasks."""

from __future__ import annotations

from secure_constructs.workflow.lambda_task import SecureLambdaInvoke
from secure_constructs.workflow.state_machine import SecureStateMachine, StateMachineRole

__all__ = ["SecureLambdaInvoke", "SecureStateMachine", "StateMachineRole"]
