"""{{ cookiecutter.project_name }}: the CDK app (infrastructure) of the service."""
