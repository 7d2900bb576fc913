"""Every test runs jsii on Node 22 from node_modules (the system Node 20 is end-of-life)."""

from __future__ import annotations

import os
from pathlib import Path

_NODE = Path(__file__).resolve().parent.parent / "node_modules" / ".bin" / "node"
if _NODE.exists():
    os.environ.setdefault("JSII_NODE", str(_NODE))
os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
