import json

import pytest
from pydantic import ValidationError

from bot.core.jobs import Ignored, Job
from handlers import HANDLERS, dispatch, is_subscribed
from handlers.context import Delivery
from handlers.payloads import Envelope
from tests.support import webhooks as wh


def decide(event, payload):
    return dispatch(Delivery(event, "d-1", "1"), Envelope.parse(json.dumps(payload).encode()))


def test_every_documented_event_has_a_handler():
    for event in ["pull_request", "issue_comment", "check_run", "check_suite", "installation",
                  "installation_repositories", "ping"]:
        assert is_subscribed(event)
    assert not is_subscribed("star")


def test_unknown_event_is_ignored_with_a_reason():
    d = decide("star", {"action": "created"})
    assert isinstance(d, Ignored) and "star" in d.reason


def test_installation_events_are_logged_not_run():
    d = decide("installation", wh.installation())
    assert isinstance(d, Ignored) and d.status == "logged"
    assert d.fields["repositories_added"] == [wh.REPO]
    assert decide("installation_repositories", {"action": "added"}).status == "logged"


def test_ping_is_answered():
    d = decide("ping", wh.ping())
    assert d.status == "pong" and d.fields["hook_id"] == 12


def test_envelope_rejects_non_objects_and_bad_types():
    for body in [b"[]", b"not json", b'{"installation": {"id": "many"}}', b'"x"']:
        with pytest.raises(ValidationError):
            Envelope.parse(body)


def test_job_round_trips_through_the_queue_as_a_dict_of_ids():
    d = decide("issue_comment", wh.issue_comment("/scale-review focus db"))
    assert isinstance(d, Job)
    data = d.to_dict()
    json.dumps(data)  # plain data only
    assert Job.from_dict(data) == d
    assert not any("token" in k for k in data)


def test_handlers_are_small():
    import inspect
    for handler in set(HANDLERS.values()):
        assert len(inspect.getsource(handler).splitlines()) < 40
