"""The StateMachineExecutionData rule: a state machine's log does not carry execution data.

With `LoggingConfiguration.IncludeExecutionData` true, Step Functions writes every state's input
and output, and the execution's, to the log group ("IncludeExecutionData: determines whether
execution data is included in your log", https://docs.aws.amazon.com/step-functions/latest/
apireference/API_LoggingConfiguration.html). SecureStateMachine defaults it to false; an
override (`add_property_override("LoggingConfiguration.IncludeExecutionData", True)`) or a
hand-written template can turn it on. ApiDataTrace is the same risk for API Gateway.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from secure_constructs.checks.model import Practice, Template, Violation, rule
from secure_constructs.checks.rules.overrides import can_be_true

STATE_MACHINE = "AWS::StepFunctions::StateMachine"


@rule(
    "StateMachineExecutionData",
    practice=Practice.SECRETS,
    applies_to=(STATE_MACHINE,),
    summary="A state machine logs its execution data (IncludeExecutionData)",
    explanation=(
        "IncludeExecutionData writes the input and output of every state and of the execution "
        "to the state machine's log group: tokens, credentials passed between states and "
        "personal data end up in CloudWatch Logs for anyone who can read them, and in the SIEM "
        "the logs are forwarded to. SecureStateMachine defaults it to false; the execution "
        "history (kept by Step Functions, read with states:GetExecutionHistory) shows the data "
        "to those allowed to see it when debugging needs it."
    ),
)
def state_machine_execution_data(t: Template) -> Iterator[Violation]:
    """State machines whose IncludeExecutionData is, or can be (`Fn::If`), true."""
    for logical_id, props in t.of_type(STATE_MACHINE):
        logging = props.get("LoggingConfiguration")
        if not isinstance(logging, Mapping):
            continue
        if can_be_true(logging.get("IncludeExecutionData")):
            yield Violation(
                logical_id,
                "Properties/LoggingConfiguration/IncludeExecutionData",
                "the state machine logs every state's input and output (IncludeExecutionData)",
                "remove the override or set include_execution_data=False (SecureStateMachine's "
                "default); read a failed execution's data in its execution history instead",
            )


RULES = (state_machine_execution_data,)
