"""(c) The service written with secure-constructs: N SecureFunctions behind one SecureApi."""

from benchmarks.apps import probe

probe.start()

import aws_cdk as cdk  # noqa: E402
from aws_cdk import aws_lambda as lambda_  # noqa: E402

from benchmarks.apps import common  # noqa: E402
from secure_constructs import SecureFunction  # noqa: E402

if common.TRIGGER:
    from aws_cdk import aws_sqs as sqs

    from secure_constructs.shared import security_key

if common.API:
    from secure_constructs.api import SecureApi
    from secure_constructs.auth import ApiAuth

probe.mark("imported")
app = cdk.App(outdir=common.OUTDIR, context=common.CONTEXT)
stack = cdk.Stack(app, "Bench")
code = lambda_.Code.from_inline("def handler(event, context):\n    return {'ok': True}\n")
api = SecureApi(stack, "Api", auth=ApiAuth.iam()) if common.API else None
functions = []
for i in range(common.N):
    fn = SecureFunction(stack, f"Fn{i}", code=code, handler="index.handler")
    functions.append(fn)
    if api is not None:
        api.add_route("GET", f"/fn{i}", fn)
    if common.TRIGGER == "queue":
        jobs = sqs.Queue(
            stack,
            f"Jobs{i}",
            encryption_master_key=security_key(stack),
            enforce_ssl=True,
            visibility_timeout=cdk.Duration.seconds(60),
            dead_letter_queue=sqs.DeadLetterQueue(queue=fn.dead_letter_queue, max_receive_count=3),
        )
        fn.add_queue_trigger(jobs)
if common.WORKFLOW:
    from aws_cdk import aws_stepfunctions as sfn

    from secure_constructs import SecureStateMachine

    tasks = [SecureStateMachine.lambda_task(stack, f"Task{i}", f) for i, f in enumerate(functions)]
    chain = sfn.Chain.start(tasks[0])
    for task in tasks[1:]:
        chain = chain.next(task)
    SecureStateMachine(stack, "Flow", definition_body=sfn.DefinitionBody.from_chainable(chain))

if common.FORWARD:
    from secure_constructs import LogDestination, forward_logs

    forward_logs(stack, destination=LogDestination.kinesis())
common.register_checks(app)
probe.mark("constructed")
probe.finish({**common.synth(app), "api": api is not None})
