"""Insights (issue 20 §3, cpaas.txt §2.2.3): every call, message and flow step becomes an event
counted in real-time (per minute), hourly and daily aggregates by tenant, metric, site and party;
dashboards over them, alert rules, and the copy of the dashboards kept for the post-termination
export. docs/insights.md."""
