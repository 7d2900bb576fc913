"""Rules over AWS::IAM resources (stub: filled in by the rules work)."""
