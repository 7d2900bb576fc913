"""The secret forms of issue 12's "Why" and a benign corpus, shared by the scan's tests."""

from __future__ import annotations

import base64
import json

from secure_constructs.checks.secret_patterns import name_words


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def pascal(name: str) -> str:
    """`DB_PASSWORD_V2` as `DbPasswordV2`: a construct id CDK keeps as a logical id."""
    return "".join(w.capitalize() for w in name_words(name))


PEM = "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"
AZURE_KEY = b64("k" * 40 + "3f9Zq" * 8)

# (name, value): each a form that synthesized with zero findings before the scan.
FORMS: list[tuple[str, str]] = [
    ("DB_PASSWORD_V2", "hunter22"),
    ("PASSWORD_PROD", "hunter22"),
    ("ADMIN_PASS_PLAIN", "hunter22"),
    ("LDAP_BIND_PW", "hunter22"),
    ("dbPasswordProd", "hunter22"),
    ("DATABASE", "jdbc:postgresql://h/db?user=admin&password=Sup3rS3cret"),
    ("DATABASE", "Server=db.example.com;Database=orders;User Id=sa;Password=Sup3rS3cret;"),
    ("DATABASE", "Server=db.example.com;Uid=sa;Pwd=Sup3rS3cret;"),
    (
        "STORAGE",
        f"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={AZURE_KEY};"
        "EndpointSuffix=core.windows.net",
    ),
    ("UPSTREAM", "https://api.example.com/v1/items?api_key=a8Fk29dLq0Zx"),
    ("UPSTREAM", "https://api.example.com/v1/items?page=1&token=a8Fk29dLq0Zx"),
    ("SETTINGS", json.dumps({"user": "admin", "password": "hunter22"})),
    ("SETTINGS", "oauth:\n  client_id: orders\n  client_secret: Zx8kP2qL9mN4vB7wR1tY6uE3\n"),
    ("SETTINGS", "API_USER=orders\nBEARER_TOKEN=Zx8kP2qL9mN4vB7wR1tY6uE3\n"),
    ("BLOB", b64("admin:hunter22")),
    ("BLOB", b64(json.dumps({"client_secret": "Zx8kP2qL9mN4vB7wR1tY6uE3"}))),
    ("BLOB", b64(PEM)),
    ("VALUE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
    ("HOOK", "https://hooks.slack.com/services/T01ABCDEF/B01ABCDEF/abcdefghijklmnopqrstuvwx"),
    ("AI", "sk-proj-" + "a1B2c3D4e5" * 4 + "T3BlbkFJ" + "f6G7h8I9j0" * 2),
    ("MAIL", "SG." + "aB3dE5gH7jK9mN1pQ3sT5v" + "." + "xY7z" * 10 + "aB3"),
    ("SMS", "SK" + "0123456789abcdef" * 2),
    ("PAYMENTS", "whsec_" + "a1B2c3D4" * 4),
    ("REGISTRY", "npm_" + "a1B2c3D4e5" * 3 + "f6G7h8"),
    ("GH", "ghp_" + "a1B2" * 9),
    ("CACHE", "redis://:S3cretPw@cache.internal:6379"),
]

# (name, value) that must never be a finding, whatever place they sit in.
BENIGN: list[tuple[str, str]] = [
    ("TABLE_NAME", "orders-table"),
    ("BUCKET", "orders-uploads-123456789012-eu-west-1"),
    ("QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/123456789012/orders"),
    ("TOPIC_ARN", "arn:aws:sns:eu-west-1:123456789012:alarms"),
    ("DB_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbC123"),
    ("ApiEndpoint", "https://abc123.execute-api.eu-west-1.amazonaws.com/prod/"),
    ("CALLBACK", "https://example.com/callback?page=2&sort=asc"),
    ("REQUEST_ID", "5f0c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b"),
    ("GIT_SHA", "3f786850e387550fdab836ed7e6dc881de23001b"),
    ("IMAGE_DIGEST", "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
    ("CodeSha256", "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="),
    ("S3Key", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855.zip"),
    ("CONFIG", b64(json.dumps({"feature": True, "version": "1.2.3", "region": "eu-west-1"}))),
    ("POWERTOOLS_SERVICE_NAME", "orders"),
    ("POWERTOOLS_LOG_LEVEL", "INFO"),
    ("POWERTOOLS_METRICS_NAMESPACE", "Orders"),
    ("POWERTOOLS_PARAMETERS_MAX_AGE", "300"),
    ("FEATURE_FLAGS", json.dumps({"new_checkout": True, "beta": False, "rollout": 25})),
    ("VERSION", "1.2.3"),
    ("APP_VERSION", "2024.11.0-rc.1"),
    (
        "POWERTOOLS_LAYER",
        "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-x86_64:7",
    ),
    (
        "INSIGHTS_LAYER",
        "arn:aws:lambda:eu-west-1:580247275435:layer:LambdaInsightsExtension:53",
    ),
    ("DB_PASSWORD_SECRET", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db"),
    ("SMTP_PASSWORD_PARAM", "/prod/smtp/password"),
    ("CONNECTION", "Server=db.example.com;Database=orders;User Id=app;Password={password};"),
    ("AUTH_TYPE", "AWS_IAM"),
    ("ALLOWED_ORIGINS", "https://app.example.com,https://admin.example.com"),
]
