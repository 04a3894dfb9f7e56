"""Engagement pages: thin views that parse a form, call one service or selector, and render."""
