"""Prometheus metrics of the reserves app (process-local, exported on /metrics)."""

from prometheus_client import Counter, Histogram

engine_run_seconds = Histogram(
    "reserves_engine_run_seconds",
    "Duration of one reserve engine run (all merchants of one day).",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
)
fund_lock_conflicts = Counter(
    "reserves_fund_lock_conflicts",
    "Times a reserve change found the merchant's fund lock held by another transaction (it then waited).",
    ["operation"],
)
approvals_rate_limited = Counter(
    "reserves_approvals_rate_limited",
    "Approval requests refused by the creation rate limit.",
    ["limit"],
)
