"""The server around the service: health checking, reflection, TLS, /metrics,
message-size limits, graceful shutdown."""

from __future__ import annotations

import datetime as dt
import time
import urllib.request

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from instrument_agent.client.studio_client import StudioClientError


def test_health_reports_serving_then_not_serving_on_shutdown(start_studio):
    server = start_studio()
    with grpc.insecure_channel(server.address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        for service in ("", "amadeus.v1.Studio"):
            assert (
                stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=5).status
                == health_pb2.HealthCheckResponse.SERVING
            )
        watch = stub.Watch(health_pb2.HealthCheckRequest(service="amadeus.v1.Studio"), timeout=10)
        assert next(watch).status == health_pb2.HealthCheckResponse.SERVING
        server.stop(grace=1.0)
        assert next(watch).status == health_pb2.HealthCheckResponse.NOT_SERVING


def test_reflection_lists_the_studio_without_a_token(studio):
    with grpc.insecure_channel(studio.address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        answer = next(
            stub.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
        )
    names = {s.name for s in answer.list_services_response.service}
    assert {"amadeus.v1.Studio", "grpc.health.v1.Health"} <= names


def test_metrics_are_served_over_http(studio, client_for):
    client_for("alice").list_personalities()
    with pytest.raises(StudioClientError):
        client_for("bob").get_personality("cello")
    # The interceptor counts a call once its status has gone out, so the client can get there first.
    deadline, wanted = time.monotonic() + 5.0, 'amadeus_studio_requests_total{code="NOT_FOUND",method="GetPersonality"}'
    while True:
        text = urllib.request.urlopen(f"http://127.0.0.1:{studio.metrics_port}/metrics", timeout=5).read().decode()
        if wanted in text or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert 'amadeus_studio_requests_total{code="OK",method="ListPersonalities"} 1.0' in text
    assert 'amadeus_studio_requests_total{code="NOT_FOUND",method="GetPersonality"} 1.0' in text
    assert 'amadeus_studio_request_seconds_count{method="ListPersonalities"} 1.0' in text
    assert "amadeus_studio_sent_bytes_total" in text and 'amadeus_studio_practices{state="queued"}' in text


def test_a_message_over_the_size_limit_is_refused(start_studio, client_for):
    server = start_studio(max_message_bytes=64 * 1024)
    with pytest.raises(StudioClientError) as err:
        client_for("alice", server=server).perform_file(b"MThd" + bytes(100_000), deu="cello")
    assert err.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED


def _self_signed(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "studio.crt", tmp_path / "studio.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def test_tls_with_a_self_signed_certificate(start_studio, client_for, tmp_path):
    cert, key = _self_signed(tmp_path)
    server = start_studio(tls_cert=cert, tls_key=key)
    secure = client_for("alice", server=server, root_certificates=cert)
    assert [p.deu for p in secure.list_personalities()] == ["cello"]
    plain = client_for("alice", server=server)
    with pytest.raises(StudioClientError) as err:
        plain.list_personalities()
    assert err.value.code == grpc.StatusCode.UNAVAILABLE


def test_tls_needs_both_files(start_studio, tmp_path):
    cert, _key = _self_signed(tmp_path)
    with pytest.raises(ValueError, match="both"):
        start_studio(tls_cert=cert)
