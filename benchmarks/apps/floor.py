"""(a) The floor: a one-topic app. What any Python CDK synth costs before our constructs."""

from benchmarks.apps import probe

probe.start()

import aws_cdk as cdk  # noqa: E402
from aws_cdk import aws_sns as sns  # noqa: E402

from benchmarks.apps import common  # noqa: E402

probe.mark("imported")
app = cdk.App(outdir=common.OUTDIR, context=common.CONTEXT)
stack = cdk.Stack(app, "Bench")
sns.Topic(stack, "Topic", enforce_ssl=True)
common.register_checks(app)
probe.mark("constructed")
probe.finish(common.synth(app))
