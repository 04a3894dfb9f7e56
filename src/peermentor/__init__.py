"""Peermentor: peer mentoring programs end to end."""
