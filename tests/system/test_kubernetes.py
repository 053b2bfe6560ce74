"""deploy/k8s: every manifest valid against Kubernetes' schemas, checkov clean, and the same contract as
the Dockerfile, the Compose file and nginx.conf (port, health path, settings, body limit, websockets)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from mnist_app.config import READY_PATH, ROOT

yaml = pytest.importorskip("yaml")

DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
KUBERNETES_VERSION = "1.33.0"  # the schemas checked against (kubernetes-validate ships them)


def manifests(folder: Path = K8S) -> dict[str, dict]:
    """Each resource of the base, by kind (one of each)."""
    names = yaml.safe_load((folder / "kustomization.yaml").read_text())["resources"]
    documents = [yaml.safe_load((folder / name).read_text()) for name in names]
    return {document["kind"]: document for document in documents}


def app_container() -> dict:
    return manifests()["Deployment"]["spec"]["template"]["spec"]["containers"][0]


def compose_app() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]["app"]


def nginx_setting(name: str, location: str | None = None) -> str:
    text = (DEPLOY / "nginx.conf").read_text()
    if location is not None:
        text = text[text.index(f"location {location} {{") :]
        text = text[: text.index("}")]
    return re.search(rf"^\s*{name}\s+([^;]+);", text, re.M).group(1)


def test_every_manifest_is_valid_for_kubernetes():
    validate = pytest.importorskip("kubernetes_validate")
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        for document in yaml.safe_load_all(path.read_text()):
            validate.validate(document, KUBERNETES_VERSION, strict=True)


def test_the_validation_can_fail():
    validate = pytest.importorskip("kubernetes_validate")
    broken = manifests()["Deployment"]
    broken["spec"]["replicas"] = "three"
    with pytest.raises(validate.ValidationError):
        validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_kustomization_lists_every_manifest_and_the_overlay_builds_on_it():
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    overlay = yaml.safe_load((K8S / "overlays" / "cloudnative-pg" / "kustomization.yaml").read_text())
    assert "../.." in overlay["resources"]
    cluster = yaml.safe_load((K8S / "overlays" / "cloudnative-pg" / "postgres.yaml").read_text())
    assert cluster["kind"] == "Cluster" and cluster["spec"]["bootstrap"]["initdb"]["database"] == "mnist"


def test_kubernetes_compose_nginx_and_the_dockerfile_agree():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    container, compose = app_container(), compose_app()
    port = int(re.search(r"^EXPOSE (\d+)$", dockerfile, re.M).group(1))
    assert f"PORT={port}" in dockerfile and compose["environment"]["PORT"] == str(port)
    assert nginx_setting("server", None).startswith(f"app:{port}")
    assert container["ports"][0]["containerPort"] == port
    assert {"name": "PORT", "value": str(port)} in container["env"]
    assert manifests()["Service"]["spec"]["ports"][0]["port"] == port
    assert re.search(rf"^HEALTHCHECK [^\n]*\n[^\n]*{READY_PATH}'", dockerfile, re.M), "Docker: healthy once ready"
    for probe in ("startupProbe", "readinessProbe"):
        assert container[probe]["httpGet"]["path"] == READY_PATH, f"{probe}: visitors only once the models are loaded"
    assert container["livenessProbe"]["httpGet"]["path"] == "/_stcore/health", "alive while it loads"
    settings = {entry["name"] for entry in container["env"]} - {"HOME"}
    assert settings == set(compose["environment"]), "the same settings in both deployments"
    secrets = [entry for entry in container["env"] if "valueFrom" in entry]
    assert {entry["name"] for entry in secrets} == {
        "MNIST_APP_DB",
        "STREAMLIT_SERVER_COOKIE_SECRET",
        "MNIST_APP_PRESENTER_KEY",
    }
    annotations = manifests()["Ingress"]["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == nginx_setting("client_max_body_size")
    websocket = nginx_setting("proxy_read_timeout", "/_stcore/stream")
    seconds = int(websocket[:-1]) * {"s": 1, "m": 60, "h": 3600}[websocket[-1]]
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) == seconds
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-send-timeout"]) == seconds
    assert annotations["nginx.ingress.kubernetes.io/session-cookie-name"] in (DEPLOY / "nginx.conf").read_text()
    uid = int(re.search(r"useradd .*--uid (\d+)", dockerfile).group(1))
    assert manifests()["Deployment"]["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == uid


def test_no_secret_is_written_in_the_manifests():
    for path in K8S.rglob("*.yaml"):
        assert "kind: Secret" not in path.read_text(), path
        assert not re.search(r"(?i)(password|secret|key)\s*:\s*\S+[A-Za-z0-9]{12,}", path.read_text()), path


@pytest.mark.slow
def test_checkov_finds_no_failed_check_in_deploy():
    if not CHECKOV.exists():
        if os.environ.get("CI"):
            pytest.fail("checkov is missing: `make test` installs it in .venv-checkov")
        pytest.skip("checkov is installed by `make test` in .venv-checkov")
    result = subprocess.run(
        [
            str(CHECKOV),
            "--directory",
            str(DEPLOY),
            "--framework",
            "kubernetes",
            "dockerfile",
            "--compact",
            "--quiet",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def test_the_init_container_copies_what_the_image_built_into_data():
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "WORKDIR /app" in dockerfile
    for cache in ("mnist_app.dataset.mnist", "mnist_app.serving.explain", "mnist_app.serving.forest"):
        assert re.search(rf"^RUN .*python -m {cache}", dockerfile, re.M), f"the image builds {cache}'s cache in data/"
    spec = manifests()["Deployment"]["spec"]["template"]["spec"]
    (init,) = spec["initContainers"]
    assert init["image"] == spec["containers"][0]["image"] and "/app/data/." in init["command"][-1]
    mounts = {mount["mountPath"] for mount in spec["containers"][0]["volumeMounts"]}
    assert mounts == {"/app/data", "/tmp"}, "writable: data/ and /tmp only (the root filesystem is read-only)"
