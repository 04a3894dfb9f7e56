"""Pages of the cross-app use cases, one module per area; flows/urls.py routes them under the same
addresses and names as the rest of their app's pages."""
