"""Docker-free bundling of Python Lambda code with pinned, hash-checked requirements.

`PythonCode.bundle(path, requirements=...)` installs the requirements with the local pip for
the Lambda platform, architecture and Python version (`--require-hashes --only-binary=:all:`),
copies the sources next to them and caches the result by the hash of the sources, the
requirements and the target, so a second synth (or a second function with the same code)
installs nothing.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_

from secure_constructs.checks.requirements import pinned_names, requirement_problems
from secure_constructs.errors import ValidationError
from secure_constructs.prop_types import check_args
from secure_constructs.runtimes import latest_python_runtime

__all__ = ["PythonCode"]

# Bumped whenever the bundle layout changes, so old cache entries are not reused.
_BUNDLE_FORMAT = "1"
DEFAULT_EXCLUDE = ("__pycache__", "*.pyc", ".*", "tests", "*.egg-info")
CACHE_ENV = "SECURE_CONSTRUCTS_BUNDLE_CACHE"
# Lambda's Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34).
_MANYLINUX = ("manylinux2014", "manylinux_2_28", "manylinux_2_34")
_PIP_TIMEOUT_SECONDS = 600


class PythonCode:
    """Factories for the code of a Python Lambda function."""

    @staticmethod
    def bundle(
        path: str | os.PathLike[str],
        *,
        requirements: str | os.PathLike[str] | None = None,
        architecture: lambda_.Architecture | None = None,
        runtime: lambda_.Runtime | None = None,
        exclude: Sequence[str] = DEFAULT_EXCLUDE,
    ) -> lambda_.Code:
        """The sources under `path` plus their requirements, installed for Lambda without Docker.

        :param path: the directory of the handler sources (copied to the root of the bundle).
        :param requirements: a pip requirements file in which every requirement is pinned
            (`name==version`) with at least one `--hash=sha256:...` (e.g. the output of
            `pip-compile --generate-hashes`); it is installed with `--require-hashes
            --only-binary=:all:` and copied into the bundle as `requirements.txt`.
            Default: no third-party packages (only the sources).
        :param architecture: the function's architecture, which picks the wheels.
            Default: `ARM_64`.
        :param runtime: the function's Python runtime, which picks the wheels.
            Default: the latest Python runtime, as SecureFunction's (`PYTHON_3_14`).
        :param exclude: glob patterns of source files and directories left out.
            Default: caches, dot-files, `tests` and `*.egg-info`.
        """
        check_args(PythonCode.bundle, locals())
        source = _existing_dir(path)
        requirements_file = _checked_requirements(requirements)
        architecture = architecture or lambda_.Architecture.ARM_64
        runtime = runtime or latest_python_runtime()
        python_version = _python_version(runtime)
        platforms = _platforms(architecture)
        bundler = _PipBundler(
            source=source,
            requirements=requirements_file,
            python_version=python_version,
            platforms=platforms,
            exclude=tuple(exclude),
        )
        return lambda_.Code.from_asset(
            str(source),
            asset_hash_type=cdk.AssetHashType.CUSTOM,
            asset_hash=bundler.fingerprint,
            bundling=cdk.BundlingOptions(
                # Never pulled or run: the local bundler always succeeds or raises.
                image=cdk.DockerImage.from_registry("scratch"),
                local=bundler,
            ),
        )


@jsii.implements(cdk.ILocalBundling)
class _PipBundler:
    """Installs pinned requirements with the local pip and copies the sources."""

    def __init__(
        self,
        *,
        source: Path,
        requirements: Path | None,
        python_version: str,
        platforms: tuple[str, ...],
        exclude: tuple[str, ...],
    ) -> None:
        self.source = source
        self.requirements = requirements
        self.python_version = python_version
        self.platforms = platforms
        self.exclude = exclude
        self.fingerprint = self._fingerprint()

    def try_bundle(self, output_dir: str, *, image: Any = None, **_: Any) -> bool:
        """Fill `output_dir` from the cache, building the cache entry first when missing."""
        cached = _cache_root() / self.fingerprint
        if not cached.is_dir():
            self._build_into_cache(cached)
        shutil.copytree(cached, output_dir, dirs_exist_ok=True)
        return True

    def _build_into_cache(self, cached: Path) -> None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{self.fingerprint[:12]}-", dir=cached.parent))
        try:
            if self.requirements is not None and _has_requirements(self.requirements):
                self._pip_install(work)
            if self.requirements is not None:
                shutil.copyfile(self.requirements, work / "requirements.txt")
            for relative in self._source_files():
                target = work / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(self.source / relative, target)
            try:
                work.rename(cached)
            except OSError:
                # Another process (an xdist worker) built the same entry first: keep theirs.
                if not cached.is_dir():
                    raise
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def _pip_install(self, target: Path) -> None:
        assert self.requirements is not None
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-input",
            "--no-compile",
            "--require-hashes",
            "--only-binary=:all:",
            *(arg for platform in self.platforms for arg in ("--platform", platform)),
            "--python-version",
            self.python_version,
            "--implementation",
            "cp",
            "--target",
            str(target),
            "-r",
            str(self.requirements),
        ]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=_PIP_TIMEOUT_SECONDS, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"pip could not install {self.requirements} for Lambda "
                f"(Python {self.python_version}, {self.platforms[0]}):\n"
                f"{result.stderr.strip() or result.stdout.strip()}"
            )

    def _source_files(self) -> list[Path]:
        files: list[Path] = []
        for root, dirs, names in os.walk(self.source):
            dirs[:] = sorted(d for d in dirs if not self._excluded(d))
            for name in sorted(names):
                if not self._excluded(name):
                    files.append((Path(root) / name).relative_to(self.source))
        return files

    def _excluded(self, name: str) -> bool:
        return any(fnmatch(name, pattern) for pattern in self.exclude)

    def _fingerprint(self) -> str:
        digest = hashlib.sha256()
        for part in (_BUNDLE_FORMAT, self.python_version, *self.platforms, *self.exclude):
            digest.update(part.encode() + b"\0")
        if self.requirements is not None:
            digest.update(b"requirements\0" + self.requirements.read_bytes() + b"\0")
        for relative in self._source_files():
            digest.update(relative.as_posix().encode() + b"\0")
            digest.update((self.source / relative).read_bytes() + b"\0")
        return digest.hexdigest()


def _cache_root() -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "secure-constructs" / "bundles"


def _existing_dir(path: str | os.PathLike[str]) -> Path:
    source = Path(path)
    if not source.is_dir():
        raise ValidationError(
            "path",
            str(path),
            "an existing directory with the handler sources",
            "pass the directory that holds your handler module, e.g. "
            "PythonCode.bundle(Path(__file__).parent / 'functions')",
        )
    return source.resolve()


def _checked_requirements(requirements: str | os.PathLike[str] | None) -> Path | None:
    if requirements is None:
        return None
    path = Path(requirements)
    if not path.is_file():
        raise ValidationError(
            "requirements",
            str(requirements),
            "an existing pip requirements file",
            "pass the path of a requirements.txt, or leave requirements out",
        )
    problems = requirement_problems(path.read_text(encoding="utf-8"))
    if problems:
        shown = "; ".join(f"line {p.line} {p.name}: {p.reason}" for p in problems[:5])
        raise ValidationError(
            "requirements",
            str(requirements),
            "a file in which every requirement is pinned with a hash "
            f"(name==version --hash=sha256:...); found {shown}",
            "generate it with `pip-compile --generate-hashes requirements.in` "
            "(or `pip hash` each pinned wheel)",
        )
    return path.resolve()


def _has_requirements(path: Path) -> bool:
    return bool(pinned_names(path.read_text(encoding="utf-8")))


def _python_version(runtime: lambda_.Runtime) -> str:
    name = runtime.name
    if not name.startswith("python"):
        raise ValidationError(
            "runtime",
            name,
            "a Python runtime (e.g. Runtime.PYTHON_3_14)",
            "pass runtime=Runtime.PYTHON_3_14 or leave it out",
        )
    return name.removeprefix("python")


def _platforms(architecture: lambda_.Architecture) -> tuple[str, ...]:
    machine = {"arm64": "aarch64", "x86_64": "x86_64"}.get(architecture.name)
    if machine is None:
        raise ValidationError(
            "architecture",
            architecture.name,
            "Architecture.ARM_64 or Architecture.X86_64",
            "pass architecture=Architecture.ARM_64 or leave it out",
        )
    return tuple(f"{tag}_{machine}" for tag in _MANYLINUX)
