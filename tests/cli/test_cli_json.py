"""`audiosearch --json`: every field of a message is printed, zero and false included, under its proto name, and
int64 values are JSON numbers (issue #11)."""

import json

from google.protobuf import timestamp_pb2

from audiosearch.gateway.v1 import gateway_service_pb2 as gateway_pb2
from audiosearch.metadata.v1 import metadata_service_pb2 as metadata_pb2
from audiosearch.tools.output import print_json, to_jsonable
from audiosearch.type.v1 import types_pb2

BIG_ID = 2**52 + 1  # above 2^32: a string under plain ProtoJSON


def test_int64_fields_are_numbers_and_zero_fields_are_printed():
    stats = gateway_pb2.CollectionStats(name="e2e", model="logmel", ready_clips=BIG_ID)
    expected = {"name": "e2e", "ready_clips": BIG_ID, "pending_clips": 0, "failed_clips": 0, "vectors": 0}
    assert to_jsonable(stats).items() >= expected.items()


def test_false_and_empty_repeated_fields_are_printed():
    report = gateway_pb2.CollectionReconcile(name="c")
    assert to_jsonable(report)["ready_without_vectors"] == []
    assert to_jsonable(gateway_pb2.DeleteClipResponse()) == {"deleted": False}


def test_nested_repeated_and_map_int64_are_numbers():
    created = timestamp_pb2.Timestamp(seconds=1_700_000_000)
    clip = types_pb2.Clip(id=BIG_ID, collection="c", create_time=created)
    response = gateway_pb2.SearchAudioResponse(hits=[gateway_pb2.SearchHit(clip=clip, score=0.5)])
    hit = to_jsonable(response)["hits"][0]
    assert hit["clip"]["id"] == BIG_ID and hit["clip"]["segment_count"] == 0
    assert hit["clip"]["create_time"] == "2023-11-14T22:13:20Z"  # well-known types keep their JSON form
    assert hit["start_seconds"] == 0.0

    reconcile = gateway_pb2.CollectionReconcile(ready_without_vectors=[7, BIG_ID])
    assert to_jsonable(reconcile)["ready_without_vectors"] == [7, BIG_ID]
    counts = metadata_pb2.CountClipsResponse(by_state={"READY": BIG_ID, "FAILED": 0})
    assert to_jsonable(counts) == {"by_state": {"READY": BIG_ID, "FAILED": 0}}


def test_print_json_writes_numbers_for_a_list_of_messages(capsys):
    print_json([gateway_pb2.CollectionStats(name="a", vectors=3), gateway_pb2.CollectionStats(name="b")])
    printed = json.loads(capsys.readouterr().out)
    assert [row["vectors"] for row in printed] == [3, 0]
    assert all(isinstance(row["ready_clips"], int) for row in printed)
