"""docker-compose.yaml, the Dockerfile and deploy/k8s are valid and set only variables the services read.

Docker and a cluster are not available to the tests: the files are checked against the Compose specification's
JSON schema (vendored by the check-jsonschema package) and the Kubernetes OpenAPI schemas (kubernetes-validate).
"""

import importlib.resources
import json
import re

import jsonschema
import kubernetes_validate
import pytest
import yaml

from deploy_support import ROOT, SERVICES, known_env

K8S_VERSION = "1.31"
OUR_SERVICES = tuple(SERVICES)
GRPC_PORTS = {"gateway": 50051, "embedding": 50052, "search": 50053, "metadata": 50054}


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yaml").read_text())


@pytest.fixture(scope="module")
def manifests():
    documents = []
    for path in sorted((ROOT / "deploy" / "k8s").glob("*.yaml")):
        documents += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return documents


def _compose_schema() -> dict:
    vendored = importlib.resources.files("check_jsonschema") / "builtin_schemas" / "vendor" / "compose-spec.json"
    return json.loads(vendored.read_text())


def test_compose_file_matches_the_compose_specification(compose):
    schema = _compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    problems = [f"{error.json_path}: {error.message}" for error in validator.iter_errors(compose)]
    assert not problems, "\n".join(problems)


def test_the_schema_check_catches_a_mistake(compose):
    broken = {**compose, "services": {**compose["services"], "gateway": {**compose["services"]["gateway"]}}}
    broken["services"]["gateway"]["restart_policy"] = "always"  # not a service key (it is under deploy:)
    schema = _compose_schema()
    assert list(jsonschema.validators.validator_for(schema)(schema).iter_errors(broken))


def test_compose_runs_milvus_standalone_mysql_and_the_four_services(compose):
    services = compose["services"]
    assert {"etcd", "minio", "milvus", "mysql", *OUR_SERVICES} <= set(services)
    assert re.fullmatch(r"milvusdb/milvus:v2\.[56]\.\d+", services["milvus"]["image"])
    assert re.fullmatch(r"mysql:8(\.\d+)*", services["mysql"]["image"])
    assert services["milvus"]["command"][-1] == "standalone"


@pytest.mark.parametrize("service", OUR_SERVICES)
def test_compose_service_sets_only_settings_it_reads(compose, service):
    environment = compose["services"][service]["environment"]
    assert isinstance(environment, dict)
    unknown = set(environment) - known_env(service)
    assert not unknown, f"{service} sets variables no setting reads: {sorted(unknown)}"
    assert f"AUDIOSEARCH_{service.upper()}_LISTEN" in environment


@pytest.mark.parametrize("service", OUR_SERVICES)
def test_compose_service_is_built_from_the_one_dockerfile_with_health_and_restart(compose, service):
    spec = compose["services"][service]
    assert spec["build"]["args"]["SERVICE"] == service and spec["build"]["context"] == "."
    assert spec["restart"] in ("unless-stopped", "always", "on-failure")
    test = spec["healthcheck"]["test"]
    assert test[:4] == ["CMD", "python", "-m", "audiosearch.tools.healthcheck"]
    assert test[4].endswith(f":{GRPC_PORTS[service]}")


def test_every_compose_service_has_a_health_check(compose):
    missing = [name for name, spec in compose["services"].items() if "healthcheck" not in spec]
    assert not missing


def test_compose_start_order_waits_for_health(compose):
    services = compose["services"]

    def waits_for(name):
        depends = services[name].get("depends_on", {})
        assert all(item["condition"] == "service_healthy" for item in depends.values()), name
        return set(depends)

    assert waits_for("gateway") == {"embedding", "search", "metadata"}
    assert waits_for("search") == {"milvus"}
    assert waits_for("metadata") == {"mysql", "minio"}  # kept audio in MinIO
    assert waits_for("milvus") == {"etcd", "minio"}


def test_compose_wires_the_services_together(compose):
    services = compose["services"]
    gateway = services["gateway"]["environment"]
    assert gateway["AUDIOSEARCH_GATEWAY_EMBEDDING_ADDRESS"] == "dns:///embedding:50052"  # replicas: round_robin
    assert gateway["AUDIOSEARCH_GATEWAY_SEARCH_ADDRESS"].endswith("search:50053")
    assert gateway["AUDIOSEARCH_GATEWAY_METADATA_ADDRESS"].endswith("metadata:50054")
    assert services["search"]["environment"]["AUDIOSEARCH_SEARCH_MILVUS_URI"] == "http://milvus:19530"
    metadata = services["metadata"]["environment"]
    assert metadata["AUDIOSEARCH_METADATA_AUDIO_URL"].startswith("s3://")
    assert metadata["AUDIOSEARCH_METADATA_S3_ENDPOINT_URL"] == "http://minio:9000"
    assert services["metadata"]["environment"]["AUDIOSEARCH_METADATA_DATABASE_URL"].startswith("mysql://")
    assert "@mysql:3306/" in services["metadata"]["environment"]["AUDIOSEARCH_METADATA_DATABASE_URL"]


def test_only_the_gateway_and_console_ports_are_published(compose):
    published = {name for name, spec in compose["services"].items() if spec.get("ports")}
    assert published == {"gateway", "console"}
    assert compose["services"]["gateway"]["ports"][0].endswith(":50051")
    assert compose["services"]["console"]["ports"][0].endswith(":8080")
    console = compose["services"]["console"]
    assert console["environment"]["AUDIOSEARCH_CONSOLE_GATEWAY_ADDRESS"] == "gateway:50051"
    assert console["depends_on"] == {"gateway": {"condition": "service_healthy"}}


def test_compose_keeps_data_and_models_in_volumes(compose):
    volumes = set(compose["volumes"])
    assert {"mysql-data", "milvus-data", "etcd-data", "minio-data", "models"} <= volumes
    assert "models:/models" in compose["services"]["embedding"]["volumes"]


def test_dockerfile_is_multi_stage_non_root_and_sets_only_known_settings():
    text = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) >= 2
    assert re.search(r"^USER (?!root|0\b)\S+", text, re.MULTILINE)
    assert 'pip install ".[${SERVICE}]"' in text and "ARG BAKE_MODELS" in text
    every_known = set().union(*(known_env(service) for service in OUR_SERVICES))
    settings = set(re.findall(r"\b(AUDIOSEARCH_[A-Z]+_[A-Z_]+)=", text))
    assert settings and not settings - every_known


def test_k8s_manifests_match_the_kubernetes_schemas(manifests):
    kinds = []
    for _, doc in manifests:
        if doc["kind"] == "Kustomization":
            continue
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        kinds.append(doc["kind"])
    assert kinds.count("Deployment") == 5 and kinds.count("Service") == 5  # the four services and the console


def test_the_k8s_check_catches_a_mistake(manifests):
    deployment = next(doc for _, doc in manifests if doc["kind"] == "Deployment")
    broken = json.loads(json.dumps(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpcc"] = {"port": 1}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, K8S_VERSION, strict=True)


def test_k8s_console_probes_its_http_health_and_dials_the_gateway(manifests):
    (container,) = _deployment(manifests, "console")["spec"]["template"]["spec"]["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/healthz", "port": "http"}, probe
    env = {item["name"]: item["value"] for item in container["env"]}
    assert env == {
        "AUDIOSEARCH_CONSOLE_LISTEN": "[::]:8080",
        "AUDIOSEARCH_CONSOLE_GATEWAY_ADDRESS": "audiosearch-gateway:50051",
    }


def _deployment(manifests, service):
    name = f"audiosearch-{service}"
    return next(doc for _, doc in manifests if doc["kind"] == "Deployment" and doc["metadata"]["name"] == name)


@pytest.mark.parametrize("service", OUR_SERVICES)
def test_k8s_deployment_has_grpc_probes_and_known_settings(manifests, service):
    pod = _deployment(manifests, service)["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    (container,) = pod["containers"]
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == GRPC_PORTS[service], probe
    names = {item["name"] for item in container["env"]}
    unknown = names - known_env(service)
    assert not unknown, f"{service} sets variables no setting reads: {sorted(unknown)}"
    assert f"AUDIOSEARCH_{service.upper()}_METRICS_PORT" in names


def test_kustomization_lists_every_manifest(manifests):
    (kustomization,) = [doc for _, doc in manifests if doc["kind"] == "Kustomization"]
    assert set(kustomization["resources"]) == {f"{service}.yaml" for service in (*OUR_SERVICES, "console")}


def test_embedding_and_search_services_are_headless_and_the_gateway_dials_them_by_dns(manifests):
    services = {doc["metadata"]["name"]: doc for _, doc in manifests if doc["kind"] == "Service"}
    for name in ("embedding", "search"):
        assert services[f"audiosearch-{name}"]["spec"]["clusterIP"] == "None"
    (container,) = _deployment(manifests, "gateway")["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert env["AUDIOSEARCH_GATEWAY_EMBEDDING_ADDRESS"] == "dns:///audiosearch-embedding:50052"
    assert env["AUDIOSEARCH_GATEWAY_SEARCH_ADDRESS"] == "dns:///audiosearch-search:50053"
