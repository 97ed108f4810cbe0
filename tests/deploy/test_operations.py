"""Operations over real processes: Prometheus metrics of exactly the calls made, and the gateway balancing over two
embedding replicas behind one target (gRPC round_robin) and carrying on when one of them stops.

The replicas sit behind one DNS name with two A records (127.0.0.1 and 127.0.0.2, the same port), served by a
loopback DNS server the gateway's resolver is pointed at: what compose `--scale` or a Kubernetes headless service
gives, without touching /etc/hosts.
"""

import pytest

from audiosearch.client import AudioSearchClient
from audiosearch.tools import synth

from deploy_support import rpc_counts, start
from dns_server import LoopbackDns

EMBEDDING = "audiosearch.embedding.v1.EmbeddingService"
GATEWAY = "audiosearch.gateway.v1.GatewayService"
SEARCH = "audiosearch.search.v1.SearchService"
METADATA = "audiosearch.metadata.v1.MetadataService"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    data = tmp_path_factory.mktemp("ops")
    processes = {}
    with LoopbackDns({"embedding.test": ["127.0.0.1", "127.0.0.2"]}) as dns:
        try:
            metadata_env = {
                "AUDIOSEARCH_METADATA_DATABASE_URL": f"sqlite:///{data / 'metadata.db'}",
                "AUDIOSEARCH_METADATA_AUDIO_URL": f"file://{data / 'audio'}",
            }
            processes["metadata"] = start("metadata", metadata_env, data / "metadata.log")
            search_env = {"AUDIOSEARCH_SEARCH_MILVUS_URI": str(data / "vectors.db")}
            processes["search"] = start("search", search_env, data / "search.log")
            processes["embedding-1"] = start("embedding", {}, data / "embedding-1.log")
            port = processes["embedding-1"].port
            second = {"AUDIOSEARCH_EMBEDDING_LISTEN": f"127.0.0.2:{port}"}
            processes["embedding-2"] = start("embedding", second, data / "embedding-2.log")
            env = {
                "AUDIOSEARCH_GATEWAY_EMBEDDING_ADDRESS": f"dns://127.0.0.1:{dns.port}/embedding.test:{port}",
                "AUDIOSEARCH_GATEWAY_SEARCH_ADDRESS": processes["search"].address,
                "AUDIOSEARCH_GATEWAY_METADATA_ADDRESS": processes["metadata"].address,
            }
            processes["gateway"] = start("gateway", env, data / "gateway.log")
            yield processes
        finally:
            for process in reversed(list(processes.values())):
                process.stop()


@pytest.fixture(scope="module")
def client(stack):
    with AudioSearchClient(stack["gateway"].address) as sdk:
        yield sdk


def _clip(index: int) -> bytes:
    return synth.encode(synth.generate(synth.CLASSES[index % len(synth.CLASSES)], index), 16000, ".wav")


def _embeds(stack, name: str) -> float:
    counts = rpc_counts(stack[name].scrape(), EMBEDDING)
    return sum(counts.get((method, "OK"), 0) for method in ("EmbedAudio", "StreamEmbedAudio"))


def _diff(after: dict, before: dict) -> dict:
    return {key: after[key] - before.get(key, 0) for key in after if after[key] != before.get(key, 0)}


def _latency_counts(samples: dict, service: str) -> dict:
    counts = {}
    for (name, labels), value in samples.items():
        labels = dict(labels)
        if name == "grpc_server_handling_seconds_count" and labels["grpc_service"] == service:
            counts[(labels["grpc_method"], labels["grpc_code"])] = value
    return counts


def _sample(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_show_exactly_the_calls_of_one_ingest_and_one_search(stack, client):
    client.create_collection("metered", model="logmel")
    before = {name: process.scrape() for name, process in stack.items()}

    clip = client.ingest(_clip(0), "metered", source="one.wav", sound_class="tone").clip
    hits = client.search("metered", audio=_clip(0), top_k=3).hits
    assert hits[0].clip.id == clip.id

    after = {name: process.scrape() for name, process in stack.items()}
    calls = {name: _diff(rpc_counts(after[name]), rpc_counts(before[name])) for name in stack}
    assert calls["gateway"] == {("IngestAudio", "OK"): 1, ("SearchAudio", "OK"): 1}
    replicas = (calls["embedding-1"], calls["embedding-2"])
    embeds = {key: sum(calls.get(key, 0) for calls in replicas) for key in set().union(*replicas)}
    assert embeds == {("EmbedAudio", "OK"): 2}  # the upload, then the query (each under 1 MiB: one message)
    assert calls["search"] == {("Upsert", "OK"): 1, ("Search", "OK"): 1}
    assert calls["metadata"] == {
        ("GetCollection", "OK"): 2,
        ("FindByContentHash", "NOT_FOUND"): 1,  # dedupe lookup: a new clip
        ("CreateClip", "OK"): 1,
        ("PutClipAudio", "OK"): 1,  # the collection keeps audio (docs/kept-audio.md)
        ("UpdateClipState", "OK"): 1,
        ("BatchGetClips", "OK"): 1,
    }

    # Latency histograms count the same calls, per method and code, and time them.
    gateway_latency = _diff(_latency_counts(after["gateway"], GATEWAY), _latency_counts(before["gateway"], GATEWAY))
    assert gateway_latency == calls["gateway"]
    ingest = {"grpc_service": GATEWAY, "grpc_method": "IngestAudio", "grpc_code": "OK"}
    ingest_seconds = _sample(after["gateway"], "grpc_server_handling_seconds_sum", **ingest)
    assert 0 < ingest_seconds < 60
    assert _diff(_latency_counts(after["search"], SEARCH), _latency_counts(before["search"], SEARCH)) == calls["search"]

    # Store latencies, model forwards and clips per collection.
    def store_calls(name, store, operation):
        key = {"store": store, "operation": operation, "outcome": "ok"}
        return _sample(after[name], "audiosearch_store_seconds_count", **key) - _sample(
            before[name], "audiosearch_store_seconds_count", **key
        )

    assert store_calls("search", "milvus", "upsert") == 1 and store_calls("search", "milvus", "search") == 1
    assert store_calls("metadata", "sqlite", "insert_clip") == 1
    forwards = sum(
        _sample(after[name], "audiosearch_embedding_forward_seconds_count", model="logmel")
        - _sample(before[name], "audiosearch_embedding_forward_seconds_count", model="logmel")
        for name in ("embedding-1", "embedding-2")
    )
    assert forwards == 2
    assert _sample(after["metadata"], "audiosearch_clips", collection="metered", state="READY") == 1


def test_gateway_spreads_embeddings_over_both_replicas_and_survives_one_stopping(stack, client):
    client.create_collection("spread", model="logmel")
    first, second = _embeds(stack, "embedding-1"), _embeds(stack, "embedding-2")
    for index in range(8):
        client.ingest(_clip(index), "spread", source=f"{index}.wav")
    spread = _embeds(stack, "embedding-1") - first, _embeds(stack, "embedding-2") - second
    assert sum(spread) == 8 and min(spread) >= 2, f"round_robin should use both replicas, got {spread}"

    stack["embedding-1"].stop()
    survivor = _embeds(stack, "embedding-2")
    for index in range(8, 14):
        client.ingest(_clip(index), "spread", source=f"{index}.wav")
        assert client.search("spread", audio=_clip(index), top_k=1).hits
    assert _embeds(stack, "embedding-2") - survivor == 12
