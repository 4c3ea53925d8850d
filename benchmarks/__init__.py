"""Benchmarks of the architecture's targets: status lag, steady-state DescribeEndpoint rate, memory.

They are scripts, not tests: each prints its figures and exits non-zero only when it could not
measure (a process died, a resource never settled). Run them from the repository root, e.g.
``.venv/bin/python -m benchmarks.status_lag``; docs/benchmarks.md has the commands and figures.
"""
