"""Use cases that span apps at one level of the stack, or reach above the app that starts
them (docs/development.md)."""
