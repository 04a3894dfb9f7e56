from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "peermentor.engagement"
    label = "engagement"
    verbose_name = "Engagement"

    def ready(self) -> None:
        # Connections cannot import engagement (engagement imports connections), so it calls
        # engagement through hooks registered here; see connections/services/hooks.py.
        from peermentor.connections.services.hooks import (
            on_connections_ended,
            on_connections_started,
            on_member_left,
        )
        from peermentor.engagement.services.circles import circle_member_left
        from peermentor.engagement.services.meetings import meetings_cancel_for_ended
        from peermentor.engagement.services.plans import plans_instantiate_many

        on_connections_started(plans_instantiate_many)
        on_connections_ended(meetings_cancel_for_ended)
        on_member_left(circle_member_left)
