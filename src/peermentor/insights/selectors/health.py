"""Connection health counted in the database: the SQL form of the rule lives with the rule in
engagement (engagement/selectors/health_sql.py), so the dashboard's counts and the connections
list's filter are one definition."""

from peermentor.engagement.selectors.health_sql import health_counts, with_health

__all__ = ["health_counts", "with_health"]
