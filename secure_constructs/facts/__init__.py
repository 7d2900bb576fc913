"""Facts about AWS that constructs, the synth-time rules and the CLI share: documented service
limits (`lambda_facts`, `apigateway_facts`) and list prices (`prices`).

Pure data on the standard library only, so a rule or `secure-constructs audit` can import them
without starting aws_cdk, and a construct and the rule that judges it read the same number.
"""
