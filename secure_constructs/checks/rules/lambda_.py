"""Rules over AWS::Lambda resources (stub: filled in by the rules work)."""
