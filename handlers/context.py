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
