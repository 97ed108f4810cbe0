"""`audiosearch`: start the services, ingest, search and inspect a library from the shell."""

import argparse
import dataclasses
import pathlib
import signal
import sys

from audiosearch.runtime import convert, rules
from audiosearch.runtime.paths import audio_files
from audiosearch.sdk import errors
from audiosearch.tools.cli import DEFAULT_ADDRESS


def _client(args):
    from audiosearch.client import AudioSearchClient
    from audiosearch.runtime.security import load_channel_security

    # Token and TLS from AUDIOSEARCH_CLIENT_TOKEN, _TLS_CA_FILE, _TLS_CERT_FILE, _TLS_KEY_FILE, _TLS_SERVER_NAME.
    return AudioSearchClient(args.address, security=load_channel_security("AUDIOSEARCH_CLIENT_"))


def _clip_row(clip) -> list:
    labels = clip.labels
    label = ", ".join(filter(None, [labels.sound_class, labels.speaker, *labels.tags]))
    return [clip.id, clip.source, label, f"{clip.audio.duration_seconds:.2f}s", clip.audio.sample_rate]


def cmd_up(args) -> int:
    from audiosearch.tools.launcher import DEFAULT_PORTS, RestartPolicy, Stack, Supervisor

    if args.max_restarts < 0 or args.restart_window <= 0:
        sys.exit("audiosearch up: --max-restarts must be 0 or more and --restart-window more than 0 seconds")
    ports = {name: 0 for name in DEFAULT_PORTS} if args.any_port else dict(DEFAULT_PORTS)
    roots = tuple(str(pathlib.Path(root).resolve()) for root in args.import_root)
    milvus_port = 0 if args.any_port else args.milvus_port
    stack = Stack(
        args.data_dir, ports=ports, import_roots=roots, milvus=args.milvus, milvus_port=milvus_port, console=True
    )
    supervisor = Supervisor(stack, RestartPolicy(max_restarts=args.max_restarts, window_seconds=args.restart_window))
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: supervisor.request_stop())
    with stack:
        if stack.milvus_server is not None:
            server = stack.milvus_server
            print(f"{'milvus':<10} {server.uri}   pid {server.process.pid}   (logs: {server.log_dir})")
        else:
            print(f"{'milvus':<10} Milvus Lite (slow or inexact beyond ~20k vectors; see docs/vector-stores.md)")
        for name, service in stack.services.items():
            print(f"{name:<10} {service.address}   pid {service.process.pid}   (log: {service.log_path})")
        print(f"ready: gateway at {stack.gateway_address}; console at {stack.console_url}; Ctrl-C stops all services",
              flush=True)  # fmt: skip
        failed = supervisor.run()
        print("stopping...", flush=True)
    print("stopped")
    return 1 if failed else 0


def cmd_milvus_server(args) -> int:
    from audiosearch.tools import milvus_server

    return milvus_server.run(args)


def cmd_models(args) -> int:
    """`models` lists what the running service offers; fetch/import/installed manage weights on this host."""
    from audiosearch.tools.output import print_json, print_table

    if args.action in ("fetch", "import", "installed"):
        from embedding_service import models_cli

        if args.action == "fetch":
            print(f"installed {args.name} in {models_cli.fetch(args.name, args.model_dir)}")
        elif args.action == "import":
            print(f"installed {args.name} in {models_cli.import_(args.name, args.path, args.model_dir)}")
        elif args.json:
            print_json([dataclasses.asdict(item) for item in models_cli.list_installed(args.model_dir)])
        else:
            rows = [
                [w.model, "yes" if w.installed else "no", w.folder, w.source]
                for w in models_cli.list_installed(args.model_dir)
            ]
            print_table(["model", "installed", "folder", "source"], rows)
        return 0
    models = _client(args).list_models()
    if args.json:
        print_json(models)
        return 0
    rows = [
        [
            m.name,
            m.dimension,
            m.sample_rate,
            convert.metric_from_proto(m.metric),
            "yes" if m.available else f"no: {m.unavailable_reason}",
        ]
        for m in models
    ]
    print_table(["model", "dim", "rate", "metric", "available"], rows)
    return 0


def cmd_collections(args) -> int:
    from audiosearch.tools.output import print_json, print_table

    client = _client(args)
    if args.action == "create":
        model = args.model or ("" if args.purpose else "logmel")
        collection = client.create_collection(
            args.name, model, args.window, args.hop, args.index, args.purpose, args.keep_audio
        )
        print_json(collection) if args.json else print(f"created collection {collection.name} ({collection.model})")
    elif args.action == "rebuild":
        from audiosearch.tools.cli.jobs import cmd_rebuild

        return cmd_rebuild(client, args)
    elif args.action == "drop":
        deleted = client.drop_collection(args.name)
        print_json({"deleted_clips": deleted}) if args.json else print(f"dropped {args.name} ({deleted} clips)")
    else:
        collections = list(client.list_collections())
        if args.json:
            print_json(collections)
        else:
            rows = [[c.name, c.model, c.dimension, convert.metric_from_proto(c.metric)] for c in collections]
            print_table(["collection", "model", "dim", "metric"], rows)
    return 0


def _expand(paths: list[str]) -> list[pathlib.Path]:
    files = []
    for path in map(pathlib.Path, paths):
        files.extend(audio_files(path) if path.is_dir() else [path])
    return files


def cmd_ingest(args) -> int:
    from audiosearch.tools.output import Progress, print_json

    client = _client(args)
    if args.model and args.collection not in {c.name for c in client.list_collections()}:
        client.create_collection(args.collection, args.model)
    files = _expand(args.paths)
    progress = Progress(len(files), "ingest")
    results, counts = [], {"added": 0, "duplicate": 0, "failed": 0}
    for done, file in enumerate(files, start=1):
        sound_class = file.parent.name if args.label_from_parent else args.sound_class
        try:
            response = client.ingest(file, args.collection, speaker=args.speaker, sound_class=sound_class)
        except (errors.AudioSearchError, OSError) as error:
            counts["failed"] += 1
            results.append({"path": str(file), "outcome": "failed", "error": str(error)})
            if not args.json:
                print(f"\nfailed: {file}: {error}", file=sys.stderr)
        else:
            outcome = "duplicate" if response.duplicate else "added"
            counts[outcome] += 1
            results.append({"path": str(file), "outcome": outcome, "clip_id": response.clip.id})
        progress.update(done, file.name)
    progress.close()
    if args.json:
        print_json({"summary": counts, "files": results})
    else:
        print(f"{counts['added']} added, {counts['duplicate']} duplicate, {counts['failed']} failed")
    return 1 if counts["failed"] else 0


def cmd_search(args) -> int:
    from audiosearch.tools.output import print_json, print_table

    query = {"clip_id": int(args.query)} if args.query.isdigit() else {"audio": args.query}
    response = _client(args).search(
        args.collection,
        top_k=args.top_k,
        min_score=args.min_score,
        search_breadth=args.breadth,
        sound_classes=tuple(args.sound_class),
        speakers=tuple(args.speaker),
        **query,
    )
    if args.json:
        print_json(response)
        return 0
    rows = [
        [rank, f"{hit.score:.4f}", *_clip_row(hit.clip), f"{hit.start_seconds:.1f}-{hit.end_seconds:.1f}s"]
        for rank, hit in enumerate(response.hits, start=1)
    ]
    print_table(["#", "score", "id", "source", "labels", "duration", "rate", "match"], rows)
    return 0


def cmd_list(args) -> int:
    from audiosearch.tools.output import print_json, print_table

    clips = list(_client(args).list_clips(args.collection, sound_classes=tuple(args.sound_class)))
    if args.json:
        print_json(clips)
    else:
        print_table(["id", "source", "labels", "duration", "rate"], [_clip_row(clip) for clip in clips])
    return 0


def cmd_audio(args) -> int:
    blob, chunks = _client(args).get_clip_audio(args.collection, args.id, args.start, args.end)
    with open(args.output, "wb") as file:
        for chunk in chunks:
            file.write(chunk)
    print(f"wrote {args.output}: {blob.size_bytes} bytes, {blob.content_type}, sha256 {blob.sha256}")
    return 0


def cmd_delete(args) -> int:
    client = _client(args)
    for clip_id in args.ids:
        print(f"{clip_id}: {'deleted' if client.delete_clip(clip_id) else 'not found'}")
    return 0


def cmd_stats(args) -> int:
    from audiosearch.tools.output import print_json, print_table

    stats = _client(args).stats()
    if args.json:
        print_json(stats)
    else:
        rows = [[s.name, s.model, s.ready_clips, s.pending_clips, s.failed_clips, s.vectors] for s in stats]
        print_table(["collection", "model", "ready", "pending", "failed", "vectors"], rows)
    return 0


def cmd_reconcile(args) -> int:
    from audiosearch.tools.output import print_json, print_table

    reports = _client(args).reconcile(args.collection, args.min_age, args.dry_run)
    if args.json:
        print_json(reports)
        return 0
    rows = [
        [r.name, r.pending_rolled_back, r.deleting_finished, r.failed_removed, r.orphan_vectors_removed,
         r.vectors_restored, ",".join(map(str, r.ready_without_vectors)) or "-"]
        for r in reports
    ]  # fmt: skip
    print_table(["collection", "pending rolled back", "deletes finished", "failed removed", "orphan vectors",
                 "vectors restored", "ready without vectors"], rows)  # fmt: skip
    return 0


def cmd_demo(args) -> int:
    from audiosearch.tools.cli.demo import run_demo

    return run_demo(args.data_dir, args.clips_per_class)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="audiosearch", description=__doc__)
    parser.add_argument("--address", default=DEFAULT_ADDRESS, help="gateway address (env AUDIOSEARCH_ADDRESS)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start the four services locally (local Milvus server or Milvus Lite + SQLite)")
    up.add_argument("--data-dir", default="data", help="where the SQLite and Milvus Lite files and logs live")
    up.add_argument("--import-root", action="append", default=[], help="folder ImportDirectory may read")
    up.add_argument("--any-port", action="store_true", help="bind free ports instead of 50051-50054")
    up.add_argument(
        "--milvus",
        choices=["auto", "lite", "server"],
        default="auto",
        help="auto (default): a local Milvus server when its package is installed (pip install milvus==2.3.5), else "
        "Milvus Lite; lite: a Milvus Lite file (demos, up to ~20k vectors); server: the local Milvus server",
    )
    up.add_argument("--milvus-port", type=int, default=19530, help="port of the local Milvus server (--milvus server)")
    up.add_argument(
        "--max-restarts",
        type=int,
        default=5,
        help="restart a service that exits at most this often per --restart-window, then stop all (default 5)",
    )
    up.add_argument("--restart-window", type=float, default=60.0, help="seconds (default 60)")
    up.set_defaults(func=cmd_up)

    milvus = sub.add_parser("milvus-server", help="run a local Milvus server (no Docker) until Ctrl-C")
    from audiosearch.tools.milvus_server import add_arguments as add_milvus_arguments

    add_milvus_arguments(milvus)
    milvus.set_defaults(func=cmd_milvus_server)

    models = sub.add_parser("models", help="list the models; fetch or import PaddleSpeech weights on this host")
    models.add_argument("action", nargs="?", choices=["list", "fetch", "import", "installed"], default="list")
    models.add_argument("name", nargs="?", help="ecapa_tdnn, panns_cnn14, panns_cnn10 or panns_cnn6")
    models.add_argument("path", nargs="?", help="with import: the published .tar.gz or its unpacked folder")
    models.add_argument("--model-dir", help="weights folder (default: AUDIOSEARCH_EMBEDDING_MODEL_DIR)")
    models.set_defaults(func=cmd_models)

    collections = sub.add_parser(
        "collections", help="list, create or drop collections, or rebuild one with another model (a job)"
    )
    collections.add_argument("action", nargs="?", choices=["list", "create", "drop", "rebuild"], default="list")
    collections.add_argument("name", nargs="?")
    collections.add_argument("--model", default="", help="a model from `audiosearch models` (default: logmel)")
    collections.add_argument(
        "--for",
        dest="purpose",
        choices=["speakers", "sound_events", "recordings"],
        default="",
        help="pick the best available model for this job instead of naming one",
    )
    collections.add_argument("--window", type=float, default=0.0, help="segment window in seconds")
    collections.add_argument("--hop", type=float, default=0.0, help="segment hop in seconds")
    collections.add_argument(
        "--index", default="", type=str.upper, choices=rules.INDEX_TYPES, help="vector index (default HNSW)"
    )
    collections.add_argument("--detach", action="store_true", help="rebuild: print the job's id and return at once")
    collections.add_argument(
        "--keep-audio",
        action=argparse.BooleanOptionalAction,
        help="keep the clips' audio (default: kept, except for speakers; docs/kept-audio.md)",
    )
    collections.set_defaults(func=cmd_collections)

    ingest = sub.add_parser("ingest", help="add audio files or folders to a collection")
    ingest.add_argument("paths", nargs="+")
    ingest.add_argument("--collection", "-c", required=True)
    ingest.add_argument("--model", help="create the collection with this model if it does not exist")
    ingest.add_argument("--speaker", default="")
    ingest.add_argument("--class", dest="sound_class", default="")
    ingest.add_argument("--label-from-parent", action="store_true", help="sound class = parent folder name")
    ingest.set_defaults(func=cmd_ingest)

    search = sub.add_parser("search", help="find the clips most similar to an audio file or a clip id")
    search.add_argument("query", help="an audio file, or the id of a stored clip")
    search.add_argument("--collection", "-c", required=True)
    search.add_argument("--top-k", "-k", type=int, default=5)
    search.add_argument("--min-score", type=float)
    search.add_argument(
        "--breadth",
        type=int,
        default=0,
        help="HNSW ef / IVF nprobe, 1-4096 (default: chosen from --top-k); wider is more exact and slower",
    )
    search.add_argument("--class", dest="sound_class", action="append", default=[])
    search.add_argument("--speaker", action="append", default=[])
    search.set_defaults(func=cmd_search)

    listing = sub.add_parser("list", help="list the clips of a collection")
    listing.add_argument("--collection", "-c", required=True)
    listing.add_argument("--class", dest="sound_class", action="append", default=[])
    listing.set_defaults(func=cmd_list)

    audio = sub.add_parser("audio", help="save a clip's kept audio (or a time range of it, as WAV) to a file")
    audio.add_argument("id", type=int)
    audio.add_argument("--collection", "-c", required=True)
    audio.add_argument("--output", "-o", required=True, help="the file to write")
    audio.add_argument("--start", type=float, help="seconds from the clip's start")
    audio.add_argument("--end", type=float, help="seconds from the clip's start (default: its end)")
    audio.set_defaults(func=cmd_audio)

    delete = sub.add_parser("delete", help="delete clips by id")
    delete.add_argument("ids", nargs="+", type=int)
    delete.set_defaults(func=cmd_delete)

    sub.add_parser("stats", help="clip and vector counts per collection").set_defaults(func=cmd_stats)
    reconcile = sub.add_parser("reconcile", help="heal crash leftovers: stale PENDING/DELETING clips, orphan vectors")
    reconcile.add_argument("--collection", default="", help="one collection (default: all)")
    reconcile.add_argument("--min-age", type=float, default=0.0, help="seconds; 0 uses the gateway's setting")
    reconcile.add_argument("--dry-run", action="store_true", help="report only, change nothing")
    reconcile.set_defaults(func=cmd_reconcile)

    demo = sub.add_parser("demo", help="generate a sample library, start everything, ingest, search, stop")
    demo.add_argument("--data-dir", help="keep the demo's files here (default: a temporary folder)")
    demo.add_argument("--clips-per-class", type=int, default=16)
    demo.set_defaults(func=cmd_demo)

    from audiosearch.tools.cli import evaluate, jobs, speakers

    evaluate.add_parser(sub)
    speakers.add_parser(sub, _client)
    jobs.add_parser(sub, _client)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    # SIGTERM unwinds like Ctrl-C, so commands that started services (demo, eval) stop them on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    if (
        args.command in ("collections", "models")
        and args.action in ("create", "drop", "rebuild", "fetch", "import")
        and not args.name
    ):
        sys.exit(f"audiosearch {args.command} {args.action} needs a name")
    if args.command == "models" and args.action == "import" and not args.path:
        sys.exit("audiosearch models import needs the archive or folder path: models import NAME PATH")
    try:
        sys.exit(args.func(args))
    except errors.AudioSearchError as error:
        sys.exit(f"error: {error.code_name} ({error.reason}): {error.message}")
