"""The OpenAPI document against the service itself: schemathesis generates requests for
every operation, valid ones and invalid ones, and checks each answer with its default
checks: no 5xx, a status code, content type, headers and body that the document declares."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.helpers import ADMIN, create_event, register

# Examples per operation and mode; CI keeps it bounded, a probe can raise it.
EXAMPLES = int(os.environ.get("EVENTSVC_SCHEMATHESIS_EXAMPLES", "12"))
# Rules that OpenAPI 3.0 cannot state, so that a body the document allows may still be a
# 422: an event's times (ends_at after starts_at, the registration window inside them, years
# 1970 to 2200) and questions (unique keys, options where a type needs them), what an
# uploaded file is (judged by its content, not its name), answers, which must fit the
# questions of the event at hand, a message's documents, which must be the event's own, and
# an organizations import, whose CSV header and rows are checked as a whole, and a session's
# check-in, which needs a seat in that session; feedback answers, which must fit the event's
# feedback questions, a choice of sessions, which must exist and not overlap, and the
# registrations listed for one session, which must be one of the event's.
# Every other check still runs on these operations.
CROSS_FIELD_RULES = {
    "POST /api/v1/admin/events",
    "PATCH /api/v1/admin/events/{event_id}",
    "POST /api/v1/admin/events/{event_id}/documents",
    "POST /api/v1/events/{event_id}/registrations",
    "POST /api/v1/events/{event_id}/registrations/batch",
    "POST /api/v1/registrations/{token}/transfer",
    "POST /api/v1/admin/events/{event_id}/messages",
    "POST /api/v1/admin/events/{event_id}/messages/preview",
    "PUT /api/v1/admin/organizations",
    "POST /api/v1/admin/registrations/{registration_id}/checkin",
    "POST /api/v1/feedback/{token}",
    "PUT /api/v1/registrations/{token}/sessions",
    "GET /api/v1/admin/events/{event_id}/registrations",
}


def credentials(case) -> dict[str, str]:
    """The admin token, unless the case left the Authorization header out on purpose (a
    negative case): put back, it would turn that case into a valid request."""
    removed = case.meta is not None and case.meta.is_negative_at(ParameterLocation.HEADER)
    return {} if removed and "Authorization" not in (case.headers or {}) else ADMIN


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_answers_as_documented(app, client, mode):
    # Something to find, so that generated ids sometimes hit real rows.
    event = create_event(client, capacity=1)
    register(client, event["id"], "a@example.org")
    register(client, event["id"], "b@example.org")
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures: dict[str, str] = {}
    cases = [0]
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        # No shrinking: a failure is reported as found, and a run's time stays bounded.
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],
        )
        def answers_as_documented(case):
            cases[0] += 1
            excluded = [positive_data_acceptance] if case.operation.label in CROSS_FIELD_RULES else []
            case.call_and_validate(headers=credentials(case), excluded_checks=excluded)

        try:
            answers_as_documented()
        except OSError as error:
            # Werkzeug's test client opens a multipart part given as (text, …) as a file of
            # that name; a generated name can be too long for the filesystem. That request
            # never reached the service.
            assert error.errno == 36, error
        except Unsatisfiable:  # nothing this operation takes can be invalid (no parameters, any string)
            assert mode == GenerationMode.NEGATIVE, operation.label
        except (Exception, BaseExceptionGroup) as failure:  # every operation's failure, not just the first
            failures[operation.label] = str(failure)[:2000]
    print(f"{mode.value}: {cases[0]} cases over {len(operations)} operations, {len(failures)} failing")
    assert failures == {}, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
