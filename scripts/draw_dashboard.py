"""Draw the layout of a stack's dashboard from its synthesized template, as the on-call person
sees it: each widget at its grid position with its title and the metrics it plots.

    make synth   # writes cdk.out/ItemsService.template.json
    python scripts/draw_dashboard.py cdk.out/ItemsService.template.json \
        docs/img/sample-app-dashboard.png

The `DashboardBody` of the template's `AWS::CloudWatch::Dashboard` is a `Fn::Join`; it is
rendered with the project's intrinsic evaluator (`checks.intrinsics.Resolver`: a `Ref` reads as
the resource's logical id, `<region>` as the region) and parsed as CloudWatch's dashboard body
JSON (widgets with x, y, width, height in a 24-unit-wide grid). Needs matplotlib (the `dev`
extra).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from secure_constructs.checks.intrinsics import Resolver

GRID_WIDTH = 24
_COLOURS = {"text": "#e8eef7", "metric": "#ffffff", "alarm": "#fff4e5"}


def dashboard_body(template: dict[str, Any]) -> dict[str, Any]:
    """The first dashboard's body of `template`, rendered and parsed."""
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::CloudWatch::Dashboard":
            body = resource["Properties"]["DashboardBody"]
            return dict(json.loads(Resolver(template).text(body)))
    raise SystemExit("the template has no AWS::CloudWatch::Dashboard")


def metric_lines(widget: dict[str, Any]) -> list[str]:
    """One short line per metric or expression of a graph widget."""
    lines = []
    for entry in widget.get("properties", {}).get("metrics", []):
        options = entry[-1] if entry and isinstance(entry[-1], dict) else {}
        if options.get("visible") is False:
            continue  # an input of an expression, not plotted
        if "expression" in options:
            lines.append(options.get("label") or options["expression"])
            continue
        names = [e for e in entry if not isinstance(e, dict)]
        namespace, name = (names[0], names[1]) if len(names) > 1 else ("", str(names))
        short = name if namespace.startswith("SecureConstructs/") else f"{namespace} {name}"
        label = options.get("label")
        stat = options.get("stat", "")
        lines.append(f"{label}: {short}" if label else f"{short} {stat}".strip())
    return lines


def draw(body: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot
    from matplotlib.patches import Rectangle

    widgets = body["widgets"]
    height = max(w["y"] + w["height"] for w in widgets)
    scale = 0.55  # inches per grid unit
    figure, axes = pyplot.subplots(figsize=(GRID_WIDTH * scale, height * scale))
    axes.set_xlim(0, GRID_WIDTH)
    axes.set_ylim(height, 0)
    axes.axis("off")
    for widget in widgets:
        x, y, w, h = widget["x"], widget["y"], widget["width"], widget["height"]
        kind = widget["type"]
        axes.add_patch(
            Rectangle((x, y), w, h, facecolor=_COLOURS.get(kind, "#ffffff"), edgecolor="#5b6b7f")
        )
        properties = widget.get("properties", {})
        if kind == "text":
            text = properties.get("markdown", "").lstrip("# ")
            axes.text(x + 0.2, y + h / 2, text, va="center", fontsize=9, weight="bold")
            continue
        axes.text(x + 0.2, y + 0.6, properties.get("title", kind), fontsize=8, weight="bold")
        lines = metric_lines(widget)
        annotations = properties.get("annotations", {}).get("horizontal", [])
        lines += [f"-- {a.get('label', '')} at {a['value']:g}" for a in annotations]
        for n, line in enumerate(lines[:8]):
            axes.text(x + 0.3, y + 1.5 + n * 0.6, line[:48], fontsize=6, family="monospace")
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("template", type=Path, help="a synthesized *.template.json")
    parser.add_argument("output", type=Path, help="the PNG to write")
    args = parser.parse_args(argv)
    body = dashboard_body(json.loads(args.template.read_text()))
    draw(body, args.output)
    print(f"wrote {args.output} ({len(body['widgets'])} widgets)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
