"""Every public constructor, method and factory refuses a value of the wrong type with a
ValidationError naming the parameter, never a TypeError, AttributeError or jsii error.

The sweep is generated: it walks `secure_constructs.__all__`, reads each parameter's own
annotation and passes, one parameter at a time, values that annotation does not allow. A new
construct, method or parameter is swept without editing this file; one that forgets its
`check_args(...)` line fails here.
"""

from __future__ import annotations

import collections.abc
import enum
import functools
import inspect
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kinesisfirehose as firehose
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn

import secure_constructs
from secure_constructs import (
    ApiAuth,
    LambdaExecutionRole,
    LogDestination,
    SecretRotation,
    SecretsCache,
    SecureApi,
    SecureFunction,
    SecureSecret,
    SecureUserPool,
    SecureWebAcl,
    ValidationError,
    WafProfile,
    acknowledge,
    apply_checks,
    monitoring,
    prop_types,
    shared,
)

CODE = "def handler(event, context):\n    return None\n"
REASON = "Sampled by the input sweep: the function only returns a constant value"
# Public callables the sweep does not call, each with why.
EXEMPT = {
    # A result `add_resource_server_scopes` returns; users read it, never build it.
    "ResourceServerScopes.__init__",
    # An abstract base: users get a cache from SecretsCache.extension()/powertools() (checked).
    "SecretsCache.__init__",
}


@dataclass(frozen=True)
class EntryPoint:
    name: str  # "SecureFunction.__init__"
    function: Callable[..., Any]  # what check_args is called with
    owner: type | None
    attribute: str

    def call(self, world: World, arguments: dict[str, Any], rest: tuple[Any, ...] = ()) -> Any:
        if self.owner is None:
            return self.function(*rest, **arguments)
        if self.attribute == "__init__":
            return self.owner(*rest, **arguments)
        member = inspect.getattr_static(self.owner, self.attribute)
        target = self.owner if isinstance(member, staticmethod) else world.instance(self.owner)
        return getattr(target, self.attribute)(*rest, **arguments)


def _entry_points() -> list[EntryPoint]:
    found = []
    for export in secure_constructs.__all__:
        obj = getattr(secure_constructs, export)
        if inspect.isfunction(obj):
            found.append(EntryPoint(export, obj, None, export))
        if not isinstance(obj, type) or issubclass(obj, enum.Enum | Exception):
            continue
        # The class's own methods and those of the package's mixins (FunctionTriggers).
        members: dict[str, Any] = {}
        for klass in reversed(obj.__mro__):
            if klass is obj or klass.__module__.startswith("secure_constructs."):
                members.update(vars(klass))
        for attribute, member in members.items():
            if attribute.startswith("_") and attribute != "__init__":
                continue
            function = member.__func__ if isinstance(member, staticmethod) else member
            if not inspect.isfunction(function) or f"{export}.{attribute}" in EXEMPT:
                continue
            if any(n not in ("self", "cls") for n in inspect.signature(function).parameters):
                found.append(EntryPoint(f"{export}.{attribute}", function, obj, attribute))
    # Helpers the docs tell users to call, outside __all__.
    for helper in (monitoring.alarm, shared.security_key, shared.alarm_topic):
        found.append(EntryPoint(f"{helper.__module__}.{helper.__name__}", helper, None, ""))
    return found


ENTRY_POINTS = _entry_points()


class World:
    """One stack holding one of each construct, built once per test worker: a refused call
    fails before it builds anything, so the instances can be shared."""

    def __init__(self) -> None:
        self.app = cdk.App()
        self.stack = cdk.Stack(self.app, "Sweep")
        stack = self.stack
        self.function = SecureFunction(
            stack, "Fn", code=lambda_.Code.from_inline(CODE), handler="index.handler"
        )
        self.queue = sqs.Queue(stack, "Queue")
        self.role = LambdaExecutionRole(stack, "Role")
        self.pool = SecureUserPool(stack, "Pool")
        self.instances: dict[type, Any] = {
            SecureFunction: self.function,
            SecureApi: SecureApi(stack, "Api", auth=ApiAuth.iam()),
            SecureSecret: SecureSecret(
                stack, "Secret", rotation=SecretRotation.none(reason=REASON)
            ),
            SecureUserPool: self.pool,
            SecureWebAcl: SecureWebAcl(stack, "Acl"),
            LambdaExecutionRole: self.role,
            ApiAuth: ApiAuth.iam(),
            WafProfile: WafProfile.baseline(),
            SecretRotation: SecretRotation.none(reason=REASON),
            SecretsCache: SecretsCache.extension(),
        }
        # Type-correct values for required parameters, tried in order.
        self.samples: list[Any] = [
            stack,
            self.function,
            self.queue,
            self.role,
            self.pool,
            self.instances[SecureApi],
            iam.PolicyStatement(actions=["sqs:SendMessage"], resources=["*"]),
            lambda_.Code.from_inline(CODE),
            sfn.DefinitionBody.from_chainable(sfn.Pass(stack, "SweepPass")),
            cdk.Duration.seconds(1),
            secretsmanager.HostedRotation.mysql_single_user(),
            event_sources.SqsEventSource(self.queue),
            ApiAuth.iam(),
            self.function.metric_errors(),
            cloudwatch.TextWidget(markdown="sample"),
            shared.alarm_topic(stack),
            {},
            lambda_.Runtime.PYTHON_3_13,
            lambda_.Architecture.ARM_64,
            LogDestination.kinesis(),
            firehose.DeliveryStream.from_delivery_stream_arn(
                stack, "Firehose", "arn:aws:firehose:us-east-1:111122223333:deliverystream/siem"
            ),
            dynamodb.Table(
                stack,
                "Table",
                partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
                stream=dynamodb.StreamViewType.NEW_IMAGE,
            ),
            scheduler.ScheduleExpression.rate(cdk.Duration.hours(1)),
        ]

    def instance(self, owner: type) -> Any:
        return self.instances[owner]

    def sample(self, hint: Any) -> Any:
        origin = typing.get_origin(hint)
        arguments = typing.get_args(hint)
        if origin is typing.Union or origin is __import__("types").UnionType:
            for member in arguments:
                if member is not type(None):
                    return self.sample(member)
        if origin in (collections.abc.Mapping, dict):
            return {"Sample1": self.sample(arguments[1])} if arguments else {}
        if origin in (collections.abc.Sequence, collections.abc.Iterable, list, tuple):
            return [self.sample(arguments[0])] if arguments else []
        simple = {str: "Sample1", bool: True, int: 1, float: 1.0}
        if hint in simple:
            return simple[hint]
        if isinstance(hint, type) and issubclass(hint, enum.Enum):
            return next(iter(hint))
        for candidate in self.samples:
            if prop_types.problem("sample", candidate, hint) is None:
                return candidate
        raise AssertionError(f"no sample value of {hint}: add one to World.samples")


@functools.cache
def world() -> World:
    return World()


def _members(hint: Any) -> list[Any]:
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is __import__("types").UnionType:
        return [m for a in typing.get_args(hint) for m in _members(a)]
    return [hint]


def _wrong_values(hint: Any) -> Iterator[tuple[str, Any]]:
    """Values `hint` does not allow, made without asking prop_types: one of no type at all,
    and the mistake a user would make (a string for a construct, a number for a string...)."""
    members = _members(hint)
    if any(m is Any or m is object for m in members):
        return
    yield "object", object()
    kinds = {typing.get_origin(m) or m for m in members}
    if str in kinds:
        if not kinds & {int, float, bool}:
            yield "number", 5
    elif kinds & {int, float}:
        yield "string", "5"
    elif bool in kinds:
        yield "string", "yes"
    elif kinds & {collections.abc.Mapping, dict}:
        yield "list", ["x"]
    else:
        yield "string", "x"


def _cases() -> Iterator[Any]:
    for entry in ENTRY_POINTS:
        for name, parameter in inspect.signature(entry.function).parameters.items():
            if name in ("self", "cls") or parameter.kind is inspect.Parameter.VAR_KEYWORD:
                continue
            hint = prop_types._hint(entry.function, name)
            for label, value in _wrong_values(hint):
                yield pytest.param(entry, name, value, id=f"{entry.name}-{name}-{label}")


def _required_arguments(entry: EntryPoint, skip: str) -> tuple[dict[str, Any], tuple[Any, ...]]:
    arguments: dict[str, Any] = {}
    for name, parameter in inspect.signature(entry.function).parameters.items():
        if name in ("self", "cls", skip) or parameter.default is not inspect.Parameter.empty:
            continue
        if parameter.kind in (inspect.Parameter.VAR_KEYWORD, inspect.Parameter.VAR_POSITIONAL):
            continue
        arguments[name] = world().sample(prop_types._hint(entry.function, name))
    if "construct_id" in arguments:
        arguments["construct_id"] = f"Id{len(world().stack.node.children)}"
    return arguments, ()


def test_the_sweep_reaches_every_construct_and_factory() -> None:
    """The walk finds what users call: if it found nothing, every sweep below would pass."""
    names = {entry.name for entry in ENTRY_POINTS}
    assert names >= {
        "SecureFunction.__init__",
        "SecureFunction.add_environment",
        "SecureFunction.add_queue_trigger",
        "SecureFunction.add_stream_trigger",
        "SecureFunction.add_topic_trigger",
        "SecureFunction.add_schedule",
        "SecureFunction.add_function_url",
        "SecureApi.__init__",
        "SecureApi.add_route",
        "SecureApi.add_usage_plan",
        "SecureSecret.__init__",
        "SecureSecret.grant_read",
        "SecureUserPool.__init__",
        "SecureUserPool.add_resource_server_scopes",
        "SecureWebAcl.__init__",
        "LambdaExecutionRole.__init__",
        "SecureStateMachine.__init__",
        "SecureStateMachine.lambda_task",
        "SecureLambdaInvoke.__init__",
        "ApiAuth.cognito",
        "ApiAuth.lambda_request",
        "ApiAuth.none",
        "SecretRotation.function",
        "SecretRotation.hosted",
        "SecretsCache.powertools",
        "WafProfile.baseline",
        "ApiCache.__init__",
        "PythonCode.bundle",
        "apply_checks",
        "acknowledge",
        "secure_constructs.monitoring.alarm",
        "secure_constructs.shared.security_key",
        "forward_logs",
        "LogDestination.cloudwatch_destination",
        "LogDestination.kinesis",
        "LogDestination.firehose",
    }


@pytest.mark.parametrize(("entry", "name", "value"), list(_cases()))
def test_fails_when_a_parameter_has_the_wrong_type(
    entry: EntryPoint, name: str, value: Any
) -> None:
    arguments, rest = _required_arguments(entry, name)
    parameter = inspect.signature(entry.function).parameters[name]
    if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
        rest = (value,)
    else:
        arguments[name] = value
    with pytest.raises(ValidationError) as refused:
        entry.call(world(), arguments, rest)
    assert refused.value.prop == name or refused.value.prop.startswith(f"{name}[")
    assert str(refused.value).startswith(f"{refused.value.prop}=")


def _option_cases() -> Iterator[Any]:
    for entry in ENTRY_POINTS:
        typed = prop_types._typed_dict(entry.function)
        for key in typed.__annotations__ if typed is not None else ():
            yield pytest.param(entry, key, id=f"{entry.name}-{key}")


@pytest.mark.parametrize(("entry", "key"), list(_option_cases()))
def test_fails_when_a_pass_through_option_has_the_wrong_type(entry: EntryPoint, key: str) -> None:
    arguments, _ = _required_arguments(entry, key)
    arguments[key] = object()
    with pytest.raises(ValidationError) as refused:
        entry.call(world(), arguments)
    assert refused.value.prop == key


def test_fails_when_a_pass_through_option_is_misspelt() -> None:
    with pytest.raises(ValidationError, match=r"^timout=.*Fix: did you mean timeout=\?"):
        SecureFunction(
            world().stack,
            "Typo",
            code=lambda_.Code.from_inline(CODE),
            handler="index.handler",
            timout=cdk.Duration.seconds(3),  # type: ignore[call-arg]
        )


# -- the cases users met, as explicit rows ----------------------------------------------------


def _fn(**props: Any) -> SecureFunction:
    props.setdefault("code", lambda_.Code.from_inline(CODE))
    props.setdefault("handler", "index.handler")
    return SecureFunction(cdk.Stack(), "Fn", **props)


def _route(**props: Any) -> Any:
    stack = cdk.Stack()
    api = SecureApi(stack, "Api", auth=ApiAuth.iam())
    handler = SecureFunction(
        stack, "Fn", code=lambda_.Code.from_inline(CODE), handler="index.handler"
    )
    return api.add_route("GET", "/items", handler, **props)


KNOWN: list[tuple[str, Callable[[], Any], str, str]] = [
    ("handler=None", lambda: _fn(handler=None), "handler", "a string"),
    ("handler=''", lambda: _fn(handler=""), "handler", "non-empty"),
    ("handler with a space", lambda: _fn(handler="index handler"), "handler", "without spaces"),
    ("code=None", lambda: _fn(code=None), "code", r"aws_lambda\.Code"),
    ("code='index.py'", lambda: _fn(code="index.py"), "code", r"aws_lambda\.Code"),
    ("runtime=str", lambda: _fn(runtime="python3.12"), "runtime", r"Runtime\.PYTHON_3_"),
    (
        "environment value 5",
        lambda: _fn(environment={"STAGE": 5}),
        "environment['STAGE']",
        "a string",
    ),
    ("environment one letter", lambda: _fn(environment={"A": "x"}), "environment", "at least"),
    ("environment str", lambda: _fn(environment="A=B"), "environment", "a dict"),
    (
        "environment bad name",
        lambda: _fn(environment={"1BAD-NAME": "x"}),
        "environment",
        "valid environment variable names",
    ),
    (
        "environment reserved name",
        lambda: _fn(environment={"AWS_REGION": "eu-west-1"}),
        "environment",
        "does not reserve",
    ),
    (
        "environment over 4 KB",
        lambda: _fn(environment={f"K{i}": "v" * 100 for i in range(50)}),
        "environment",
        "4096 bytes",
    ),
    ("secrets arn", lambda: _fn(secrets={"DB": "arn:aws:..."}), "secrets['DB']", "ISecret"),
    (
        "reserved 10**9",
        lambda: _fn(reserved_concurrent_executions=10**9),
        "reserved_concurrent_executions",
        "0 to 100,000",
    ),
    ("log_retention=365", lambda: _fn(log_retention=365), "log_retention", "RetentionDays"),
    ("architecture str", lambda: _fn(architecture="arm64"), "architecture", "Architecture"),
    (
        "system_log_level",
        lambda: _fn(system_log_level="DEBUG"),
        "system_log_level",
        "INFO",
    ),
    ("signing_profiles str", lambda: _fn(signing_profiles="prof"), "signing_profiles", "a list"),
    ("timeout=10", lambda: _fn(timeout=10), "timeout", r"Duration\.seconds"),
    ("memory nan", lambda: _fn(memory_size=float("nan")), "memory_size", "a whole number"),
    ("operation_id=''", lambda: _route(operation_id=""), "operation_id", "1-256 letters"),
    ("operation_id with a space", lambda: _route(operation_id="get item"), "operation_id", "1-256"),
    (
        "throttle_rate_limit=-1",
        lambda: SecureApi(cdk.Stack(), "Api", auth=ApiAuth.iam(), throttle_rate_limit=-1),
        "throttle_rate_limit",
        "requests per second above 0",
    ),
    ("route throttle=0", lambda: _route(throttle_rate_limit=0), "throttle_rate_limit", "above 0"),
    (
        "powertools version",
        lambda: SecretsCache.powertools(version="not-a-version"),
        "version",
        "'latest' or a Powertools release",
    ),
    (
        "removal_policy str",
        lambda: SecureSecret(
            cdk.Stack(),
            "S",
            rotation=SecretRotation.none(reason=REASON),
            removal_policy="DESTROY",
        ),
        "removal_policy",
        "RemovalPolicy",
    ),
    (
        "secret_string_value str",
        lambda: SecureSecret(
            cdk.Stack(),
            "S",
            rotation=SecretRotation.none(reason=REASON),
            secret_string_value="plain",
        ),
        "secret_string_value",
        "SecretValue",
    ),
    ("apply_checks(None)", lambda: apply_checks(None), "scope", "IConstruct"),
    ("max_timeout=60", lambda: apply_checks(cdk.App(), max_timeout=60), "max_timeout", "Duration"),
    (
        "acknowledge(None)",
        lambda: acknowledge(None, "SecureServerless::X", REASON),
        "construct",
        "",
    ),
    (
        "alarm_emails=5",
        lambda: _fn(alarm_emails=5),
        "alarm_emails",
        "a string or a list of strings",
    ),
    ("vpc str", lambda: _fn(vpc="vpc-0123"), "vpc", r"aws_ec2\.IVpc"),
    ("layers str", lambda: _fn(layers="arn:aws:lambda:..."), "layers", "a list"),
    ("id as a keyword", lambda: _fn(id="Other"), "id", "a prop of SecureFunction"),
    (
        "add_environment bad name",
        lambda: _fn().add_environment("1BAD", "x"),
        "key",
        "valid environment variable names",
    ),
    (
        "add_environment reserved name",
        lambda: _fn().add_environment("AWS_REGION", "x"),
        "key",
        "does not reserve",
    ),
    ("add_environment value 5", lambda: _fn().add_environment("STAGE", 5), "value", "a string"),
]


@pytest.mark.parametrize(
    ("call", "prop", "allowed"), [pytest.param(*row[1:], id=row[0]) for row in KNOWN]
)
def test_fails_with_a_validation_error_for_a_known_bad_input(
    call: Callable[[], Any], prop: str, allowed: str
) -> None:
    with pytest.raises(ValidationError, match=rf"is not allowed: .*{allowed}") as refused:
        call()
    assert refused.value.prop == prop


@pytest.mark.parametrize("key", ["_DB", "1DB", "DB-MAIN", ""])
def test_fails_when_a_secrets_key_cannot_start_a_variable_name(key: str) -> None:
    stack = cdk.Stack()
    secret = secretsmanager.Secret.from_secret_name_v2(stack, "Db", "db")
    with pytest.raises(ValidationError, match=r"^secrets=.*the function gets <key>_SECRET_ARN"):
        SecureFunction(
            stack,
            "Fn",
            code=lambda_.Code.from_inline(CODE),
            handler="index.handler",
            secrets={key: secret},
        )


def test_fails_when_a_struct_given_as_a_dict_has_a_misspelt_field() -> None:
    """`vpc_subnets={...}` is a SubnetSelection: a field it does not have would be a jsii
    deserialization error; a dict of its own fields is accepted."""
    with pytest.raises(ValidationError, match=r"^vpc_subnets='subnet_typ' .*'subnet_type'\?$"):
        _fn(vpc_subnets={"subnet_typ": "PRIVATE_ISOLATED"})
    _fn(current_version_options={"description": "the current version"})


def test_a_number_token_is_a_whole_number() -> None:
    """CDK's number tokens are floats: an `int` prop takes one (it resolves at deploy time)."""
    token = cdk.Token.as_number({"Ref": "Concurrency"})
    fn = _fn(reserved_concurrent_executions=token)
    assert cdk.Token.is_unresolved(fn.node.default_child.reserved_concurrent_executions)  # type: ignore[union-attr]


def test_one_alarm_email_as_a_string_is_still_accepted() -> None:
    _fn(alarm_emails="ops@example.com")


def test_an_imported_function_and_key_are_accepted_where_interfaces_are_asked() -> None:
    """jsii returns proxies (and combined proxies) for imported resources: they provide the
    interface although Python's isinstance cannot say so."""
    from aws_cdk import aws_kms as kms

    stack = cdk.Stack()
    imported = lambda_.Function.from_function_arn(
        stack, "Imported", "arn:aws:lambda:eu-west-1:123456789012:function:authorizer"
    )
    key = kms.Key.from_key_arn(
        stack, "Key", "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    assert ApiAuth.lambda_token(imported).function is imported
    assert prop_types.problem("encryption_key", key, kms.IKey) is None
    assert prop_types.problem("encryption_key", imported, kms.IKey) is not None
