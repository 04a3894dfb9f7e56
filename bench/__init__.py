"""Benchmarks: `python -m bench` writes bench/REPORT.md (see bench/registry.py to add a section)."""
