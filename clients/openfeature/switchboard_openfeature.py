"""OpenFeature's OFREP provider for Switchboard, with tracking.

OFREP defines flag evaluation but not yet tracking, so the OFREP provider from PyPI
(`openfeature-provider-ofrep`) drops `client.track(...)` calls. This provider is that one
plus `track`, which posts the event to Switchboard's `POST /v1/track`: an event named like
an experiment's metric becomes a reward for the unit's latest decision in it.

    from openfeature import api
    from switchboard_openfeature import SwitchboardProvider

    api.set_provider(SwitchboardProvider("http://localhost:8080", headers_factory=lambda: {"Authorization": "Bearer KEY"}))
    client = api.get_client()
    color = client.get_string_value("checkout-color", "blue", EvaluationContext(targeting_key="user-42"))
    client.track("purchase", EvaluationContext(targeting_key="user-42"), TrackingEventDetails(value=1))
"""
from urllib.parse import urljoin

from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.exception import GeneralError
from openfeature.provider import Metadata
from openfeature.track import TrackingEventDetails

import requests

__all__ = ["SwitchboardProvider"]


class SwitchboardProvider(OFREPProvider):
    def get_metadata(self) -> Metadata:
        return Metadata(name="Switchboard (OFREP with tracking)")

    def track(
        self,
        tracking_event_name: str,
        evaluation_context: EvaluationContext | None = None,
        tracking_event_details: TrackingEventDetails | None = None,
    ) -> None:
        context = dict(evaluation_context.attributes) if evaluation_context else {}
        if evaluation_context and evaluation_context.targeting_key:
            context["targetingKey"] = evaluation_context.targeting_key
        body = {"event": tracking_event_name, "context": context}
        if tracking_event_details is not None and tracking_event_details.value is not None:
            body["value"] = tracking_event_details.value
        base = self.base_url if self.base_url.endswith("/") else self.base_url + "/"
        try:
            response = self.session.post(
                urljoin(base, "v1/track"),
                json=body,
                timeout=self.timeout,
                headers=self.headers_factory() if self.headers_factory else None,
            )
            response.raise_for_status()
        except requests.RequestException as e:
            raise GeneralError(f"tracking '{tracking_event_name}' failed: {e}") from e
