"""A stack's monitoring beyond the per-construct alarms: traffic anomaly alarms, cold-start
metrics, denial and WAF-block rate alarms, and a dashboard per stack (docs/monitoring.md)."""

from secure_constructs.observability.settings import TrafficAnomaly
from secure_constructs.observability.stack import (
    StackMonitoring,
    add_dashboard_row,
    configure_monitoring,
    disable_dashboard,
)

__all__ = [
    "StackMonitoring",
    "TrafficAnomaly",
    "add_dashboard_row",
    "configure_monitoring",
    "disable_dashboard",
]
