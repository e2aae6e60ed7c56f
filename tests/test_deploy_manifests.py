"""The scale-out files: the Kubernetes manifests validate against the API schemas (strict: no
unknown fields), and the replicas compose file wires N blur replicas, workers, Redis and a
proxy over one shared task volume."""

from __future__ import annotations

import re
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from blur_sdk import PROJECT_ROOT

DEPLOY = PROJECT_ROOT / "deploy"
MANIFEST = DEPLOY / "kubernetes" / "blur-sdk.yaml"
REPLICAS = DEPLOY / "compose" / "docker-compose.replicas.yml"
VERSIONS = ("1.29.0", "1.33.0")  # an older supported release and a recent one


def _documents(path: Path) -> list[dict[str, object]]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


@pytest.mark.parametrize("version", VERSIONS)
def test_every_kubernetes_object_validates_strictly(version: str) -> None:
    docs = _documents(MANIFEST)
    assert {d["kind"] for d in docs} >= {"Deployment", "Service", "HorizontalPodAutoscaler",
                                         "ConfigMap", "PersistentVolumeClaim"}  # fmt: skip
    for doc in docs:
        kubernetes_validate.validate(doc, version, strict=True)


def test_the_manifest_shares_the_task_store_and_runs_non_root() -> None:
    docs = {(d["kind"], d["metadata"]["name"]): d for d in _documents(MANIFEST)}  # type: ignore[index]
    config = docs[("ConfigMap", "blur-sdk")]["data"]
    assert config["TASK_QUEUE"] == "redis" and config["REDIS_URL"].startswith("redis://")  # type: ignore[index]
    claim = docs[("PersistentVolumeClaim", "blur-sdk-data")]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]  # type: ignore[index]
    for name in ("blur-sdk", "blur-sdk-worker"):
        pod = docs[("Deployment", name)]["spec"]["template"]["spec"]  # type: ignore[index]
        assert pod["securityContext"]["runAsUser"] == 10001
        assert pod["terminationGracePeriodSeconds"] > 30  # GRACEFUL_TIMEOUT
        mounts = {m["mountPath"] for m in pod["containers"][0]["volumeMounts"]}
        assert "/data" in mounts
    hpa = docs[("HorizontalPodAutoscaler", "blur-sdk")]["spec"]
    assert hpa["scaleTargetRef"]["name"] == "blur-sdk"  # type: ignore[index]


def test_the_replicas_compose_file_balances_replicas_over_one_task_store() -> None:
    compose = yaml.safe_load(REPLICAS.read_text())
    services = compose["services"]
    assert services["blur"]["deploy"]["replicas"] > 1
    assert services["worker"]["command"] == ["worker"]
    assert services["blur"]["environment"]["TASK_WORKERS"] == "0"
    for name in ("blur", "worker"):
        assert "data:/data" in services[name]["volumes"]
        assert services[name]["environment"]["TASK_QUEUE"] == "redis"
    assert "8001:8001" in services["proxy"]["ports"]
    nginx = (DEPLOY / "compose" / "nginx.conf").read_text()
    assert re.search(r"upstream blur_sdk \{\s*server blur:8001;", nginx)
    assert "proxy_set_header Host $http_host;" in nginx  # result URLs name the proxy's host
