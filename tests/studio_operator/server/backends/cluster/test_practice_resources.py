"""Practice resources as the cluster backend writes and reads them (pure functions, no cluster)."""

from __future__ import annotations

from instrument_agent.proto import personality_pb2, studio_pb2  # noqa: E402
from studio_operator.operator.validation import practice_errors  # noqa: E402
from studio_operator.server.backends.cluster.practice_resources import (  # noqa: E402
    namespace_for,
    practice_body,
    progress_of,
)

Phase = studio_pb2.PracticeProgress.Phase


def test_namespaces_are_dns_labels_and_distinct_per_ama():
    assert namespace_for("") == "amadeus" and namespace_for("alice") == "amadeus-alice"
    odd = [namespace_for(a) for a in ("a.b", "a_b", "a-b", "x" * 63)]
    assert len(set(odd)) == 4 and odd[2] == "amadeus-a-b"
    assert all(len(n) <= 63 and n.replace("-", "").isalnum() and n == n.lower() for n in odd)


def test_a_practice_without_status_is_pending_and_conditions_become_the_message():
    header = studio_pb2.PracticeHeader(deu="cello", type=personality_pb2.PracticeRecord.IMITATION)
    body = practice_body(header, name="pr-x", namespace="amadeus", ama="", audio=["s3://b/k.wav"])
    assert practice_errors(body) == [] and "amadeus.dev/ama" not in body["metadata"]["labels"]
    assert progress_of(body).phase == Phase.PENDING
    body["status"] = {
        "phase": "Failed",
        "conditions": [
            {
                "type": "Submitted",
                "status": "True",
                "reason": "RunSubmitted",
                "lastTransitionTime": "2030-01-01T00:00:00Z",
            },
            {
                "type": "Failed",
                "status": "True",
                "reason": "UnknownDeu",
                "message": "deu 'cello' has no personality yet",
                "lastTransitionTime": "2030-01-01T00:00:02Z",
            },
        ],
    }
    failed = progress_of(body)
    assert failed.phase == Phase.FAILED and failed.message == "UnknownDeu: deu 'cello' has no personality yet"
    assert failed.updated.ToJsonString() == "2030-01-01T00:00:02Z"
