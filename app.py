"""The root app: the cookiecutter sample app rendered with its defaults, with every check on.

`cdk synth` here synthesizes exactly what `cookiecutter sample_app --no-input` generates, not a
hand-copied twin that could drift: the template is rendered into .stamps/sample-app/ on every
synth (secure-constructs pointing at this checkout) and the rendered app.py runs in this
process, with AwsSolutions, Serverless and SecureServerless on. The construct examples that
used to live here are in examples/ (`cdk synth --app "python examples/constructs_app.py"`).
"""

from __future__ import annotations

import runpy
import shutil
import sys
from pathlib import Path

from cookiecutter.main import cookiecutter

ROOT = Path(__file__).resolve().parent
RENDER_DIR = ROOT / ".stamps" / "sample-app"


def render_sample_app() -> Path:
    """Render sample_app/ with its default answers; returns the generated project."""
    shutil.rmtree(RENDER_DIR, ignore_errors=True)
    project = cookiecutter(
        str(ROOT / "sample_app"),
        no_input=True,
        output_dir=str(RENDER_DIR),
        extra_context={"secure_constructs_requirement": f"-e {ROOT}"},
    )
    return Path(project)


if __name__ == "__main__":
    project = render_sample_app()
    sys.path.insert(0, str(project))
    runpy.run_path(str(project / "app.py"), run_name="__main__")
