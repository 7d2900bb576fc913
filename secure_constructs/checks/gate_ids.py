"""The acknowledgement gate's finding ids and metadata key (pure: the audit reads them too)."""

INTENT_METADATA = "secure-constructs:acknowledge"
CDK_ACK_METADATA = "aws:cdk:acknowledged-rules"
UNMATCHED = "AcknowledgementUnmatched"
BYPASS = "AcknowledgementOutsideGate"
FORGED = "AcknowledgementForged"
REASON_REFUSED = "AcknowledgementReason"
SCOPE = "AcknowledgementScope"
GATE_RULES = (UNMATCHED, BYPASS, FORGED, REASON_REFUSED, SCOPE)
