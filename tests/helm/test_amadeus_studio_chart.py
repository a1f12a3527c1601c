"""The Helm chart: lint, render with several value sets, validate every object against Kubernetes' schemas."""

from __future__ import annotations

import json

import helm_python
import jsonschema
import kubernetes_validate
import pytest
import yaml

from studio_operator.operator.manifests import chart_path, render_chart

CHART = chart_path()
KUBE_VERSION = "1.30.0"
CUSTOM_KINDS = {"ServiceMonitor"}  # not in kubernetes' own schemas


def _objects(rendered: dict[str, str]) -> list[dict]:
    return [doc for text in rendered.values() for doc in yaml.safe_load_all(text) if doc]


def _by_kind(objects, kind):
    return [o for o in objects if o["kind"] == kind]


def test_the_chart_lints_clean_in_strict_mode():
    report = helm_python.lint(str(CHART), strict=True, kube_version=f"v{KUBE_VERSION}")
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []


@pytest.mark.parametrize(
    "values",
    [
        {},
        {"operator": {"clusterWide": True, "backend": "job"}, "serviceMonitor": {"enabled": True}},
        {
            "operator": {"watchNamespaces": ["studio-a", "studio-b"]},
            "server": {"enabled": False},
            "kfp": {"existingSecret": "kfp-token"},
        },
    ],
    ids=["defaults", "cluster-wide-job-backend-monitored", "two-namespaces-no-server"],
)
def test_every_rendered_object_is_valid_kubernetes(values):
    objects = _objects(render_chart(values, name="studio", namespace="amadeus"))
    assert objects
    for obj in objects:
        if obj["kind"] in CUSTOM_KINDS:
            assert obj["apiVersion"] == "monitoring.coreos.com/v1"
            continue
        kubernetes_validate.validate(obj, KUBE_VERSION, strict=True)


def test_pods_run_as_non_root_with_a_read_only_root_and_resource_requests():
    objects = _objects(render_chart({}, name="studio", namespace="amadeus"))
    deployments = _by_kind(objects, "Deployment")
    assert {d["metadata"]["name"] for d in deployments} == {
        "studio-amadeus-studio-operator",
        "studio-amadeus-studio-server",
    }
    for deployment in deployments:
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            assert container["securityContext"]["readOnlyRootFilesystem"] is True
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]


def test_operator_rbac_is_least_privilege_and_namespaced_by_default():
    objects = _objects(render_chart({}, name="studio", namespace="amadeus"))
    assert _by_kind(objects, "ClusterRole") == []
    operator_role = next(r for r in _by_kind(objects, "Role") if r["metadata"]["name"].endswith("-operator"))
    granted = {
        (g, res): set(rule["verbs"])
        for rule in operator_role["rules"]
        for g in rule["apiGroups"]
        for res in rule["resources"]
    }
    assert granted == {
        ("amadeus.dev", "practices"): {"get", "list", "watch", "patch", "update"},
        ("amadeus.dev", "practices/status"): {"get", "patch", "update"},
        ("", "events"): {"create", "patch"},
        ("batch", "jobs"): {"get", "list", "watch", "create", "delete"},
    }
    for role in _by_kind(objects, "Role"):
        for rule in role["rules"]:
            assert "*" not in rule["verbs"] and "*" not in rule["resources"]
            assert "secrets" not in rule["resources"]
    # The server has its own account: it can create Practices but not patch them or touch Jobs.
    server_role = next(r for r in _by_kind(objects, "Role") if r["metadata"]["name"].endswith("-server"))
    assert all(rule["apiGroups"] == ["amadeus.dev"] for rule in server_role["rules"])
    bindings = {b["metadata"]["name"]: b["subjects"][0]["name"] for b in _by_kind(objects, "RoleBinding")}
    assert bindings["studio-amadeus-studio-operator"] != bindings["studio-amadeus-studio-server"]


def test_watch_namespaces_get_one_role_each_and_the_operator_watches_them():
    objects = _objects(render_chart({"operator": {"watchNamespaces": ["a", "b"]}}, name="studio", namespace="amadeus"))
    roles = [r for r in _by_kind(objects, "Role") if r["metadata"]["name"].endswith("-operator")]
    assert sorted(r["metadata"]["namespace"] for r in roles) == ["a", "b"]
    operator = next(d for d in _by_kind(objects, "Deployment") if d["metadata"]["name"].endswith("-operator"))
    args = operator["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--namespace=a" in args and "--namespace=b" in args


def test_endpoints_come_from_the_configmap_and_credentials_only_from_existing_secrets():
    values = {
        "kfp": {"host": "http://kfp.example:8888", "existingSecret": "kfp-token"},
        "mlflow": {"existingSecret": "mlflow-auth"},
    }
    objects = _objects(render_chart(values, name="studio", namespace="amadeus"))
    assert _by_kind(objects, "Secret") == []  # the chart never carries credentials
    config = _by_kind(objects, "ConfigMap")[0]["data"]
    assert config["AMADEUS_KFP_HOST"] == "http://kfp.example:8888"
    assert config["AMADEUS_REGISTRY_URI"].startswith("s3://") and config["AMADEUS_MLFLOW_TRACKING_URI"]
    operator = next(d for d in _by_kind(objects, "Deployment") if d["metadata"]["name"].endswith("-operator"))
    env = {
        e["name"]: e["valueFrom"]["secretKeyRef"]["name"]
        for e in operator["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    assert env == {
        "AWS_ACCESS_KEY_ID": "amadeus-s3",
        "AWS_SECRET_ACCESS_KEY": "amadeus-s3",
        "MLFLOW_TRACKING_USERNAME": "mlflow-auth",
        "MLFLOW_TRACKING_PASSWORD": "mlflow-auth",
        "AMADEUS_KFP_TOKEN": "kfp-token",
    }


def test_server_service_exposes_grpc_and_metrics_and_service_monitors_are_optional():
    objects = _objects(render_chart({}, name="studio", namespace="amadeus"))
    assert _by_kind(objects, "ServiceMonitor") == []
    service = next(s for s in _by_kind(objects, "Service") if s["metadata"]["name"].endswith("-server"))
    assert {p["name"]: p["port"] for p in service["spec"]["ports"]} == {"grpc": 50051, "metrics": 9091}
    monitored = _objects(render_chart({"serviceMonitor": {"enabled": True}}, name="studio", namespace="amadeus"))
    assert len(_by_kind(monitored, "ServiceMonitor")) == 2


@pytest.mark.parametrize(
    "values",
    [
        {"operator": {"backend": "argo"}},
        {"podSecurityContext": {"runAsNonRoot": False}},
        {"kfp": {"host": "ml-pipeline:8888"}},
        {"operator": {"replicas": 3}},
    ],
    ids=["unknown-backend", "root-pods", "host-without-scheme", "unknown-key"],
)
def test_values_schema_rejects_bad_values(values):
    schema = json.loads((CHART / "values.schema.json").read_text())
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    jsonschema.validate(defaults, schema)  # the defaults are valid
    with pytest.raises(helm_python.HelmError):
        render_chart(values)


def test_chart_crd_is_the_python_source_of_truth():
    from studio_operator.crd import practice_crd

    crd_file = CHART / "crds" / "practices.amadeus.dev.yaml"
    assert yaml.safe_load(crd_file.read_text()) == practice_crd()
    kubernetes_validate.validate(practice_crd(), KUBE_VERSION, strict=True)


def test_the_server_reads_its_tenancy_database_url_from_a_secret():
    values = {"server": {"database": {"existingSecret": "studio-db", "key": "dsn"}}}
    objects = _objects(render_chart(values, name="studio", namespace="amadeus"))
    assert _by_kind(objects, "Secret") == []
    server = next(d for d in _by_kind(objects, "Deployment") if d["metadata"]["name"].endswith("-server"))
    env = {e["name"]: e for e in server["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["AMADEUS_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "studio-db", "key": "dsn"}
    kubernetes_validate.validate(server, KUBE_VERSION, strict=True)
    plain = _objects(render_chart({}, name="studio", namespace="amadeus"))
    server = next(d for d in _by_kind(plain, "Deployment") if d["metadata"]["name"].endswith("-server"))
    assert "AMADEUS_DATABASE_URL" not in {e["name"] for e in server["spec"]["template"]["spec"]["containers"][0]["env"]}
