"""`secure-constructs`: audit, permissions and cost reports over any CloudFormation template.

Pure Python over template JSON/YAML and cloud-assembly files: nothing here imports aws_cdk,
cdk_nag or jsii, so the commands start fast and run on templates that CDK never saw.
"""
