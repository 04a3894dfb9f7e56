"""Data protection: what the organisation holds about one person, erasing it, keeping it no
longer than the retention rules say, and the organisation-wide audit log (docs/privacy.md).

- export: everything stored about a person, from every app's `privacy` module
- erasure: anonymise a person and their content, aggregates and partners' records intact
- retention: the rules (RetentionPolicy) and the periodic job that applies them
"""
