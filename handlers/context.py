"""What every handler gets besides the payload: the event, the delivery id and who we are."""

from __future__ import annotations

from dataclasses import dataclass

CHECK_RUN_NAME = "Scalability review"


@dataclass(frozen=True)
class Delivery:
    event: str
    delivery_id: str
    app_id: str  # the App's id (or client id) from settings, to recognise our own comments and runs

    def is_our_app(self, app_id: int) -> bool:
        return bool(app_id) and str(app_id) == self.app_id

    def owns(self, app_id: int, client_id: str | None = None) -> bool:
        """Whether GitHub's `app` object (its id and client id) names us (GITHUB_APP_ID may hold either)."""
        return self.is_our_app(app_id) or (bool(client_id) and client_id == self.app_id)
