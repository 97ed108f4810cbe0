"""`audiosearch import` and `audiosearch jobs`: folder imports run by the gateways as jobs, which go on when this
command stops (Ctrl-C), survive gateway restarts, and are watched, listed and cancelled by id."""

import os
import pathlib
import sys

from audiosearch.type.v1 import import_job_pb2

_STATE_PREFIX = "IMPORT_JOB_STATE_"


def add_parser(sub, connect) -> None:
    """`connect(args)`: the CLI's client of the gateway (main.py's, with its token and TLS settings)."""
    folder_import = sub.add_parser(
        "import", help="import a folder the gateway can read, as a job (live progress; Ctrl-C leaves it running)"
    )
    folder_import.add_argument("folder", help="below the gateway's import roots (relative: below the first root)")
    folder_import.add_argument("--collection", "-c", required=True)
    folder_import.add_argument("--no-recursive", dest="recursive", action="store_false", help="this folder only")
    folder_import.add_argument("--speaker", default="")
    folder_import.add_argument("--class", dest="sound_class", default="")
    folder_import.add_argument("--label-from-parent", action="store_true", help="sound class = parent folder name")
    folder_import.add_argument("--detach", action="store_true", help="print the job's id and return at once")
    folder_import.set_defaults(func=cmd_import, connect=connect)

    jobs = sub.add_parser("jobs", help="list, watch or cancel import jobs, or list a job's failed files")
    jobs.add_argument("action", choices=["list", "watch", "cancel", "failures"])
    jobs.add_argument("id", nargs="?", type=int, help="the job (watch, cancel, failures)")
    jobs.set_defaults(func=cmd_jobs, connect=connect)


def state_name(job: import_job_pb2.ImportJob) -> str:
    return import_job_pb2.ImportJobState.Name(job.state).removeprefix(_STATE_PREFIX)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02}m" if hours else f"{minutes}m{secs:02}s"


def progress_line(job: import_job_pb2.ImportJob) -> str:
    found = f"{job.files_found}" if job.listing_done else f"{job.files_found}+"
    eta = f"ETA {_duration(job.eta_seconds)}" if job.eta_seconds else ""
    return (
        f"job {job.id} {state_name(job):<10} {job.files_done}/{found} files  {job.files_per_second:.1f} files/s  "
        f"{eta:<12} added {job.files_added}, duplicate {job.files_duplicate}, failed {job.files_failed}"
    )


def _watch(client, job_id: int, header: str = "") -> import_job_pb2.ImportJob:
    """Follow the job on one live line until it ends; Ctrl-C leaves it running and says how to come back."""
    job = None
    live = sys.stderr.isatty()
    try:
        if header:  # inside the try: a Ctrl-C right after it is handled too
            print(header, file=sys.stderr, flush=True)
        for job in client.watch_import_job(job_id):
            if live:
                sys.stderr.write("\r" + progress_line(job)[:160].ljust(160))
                sys.stderr.flush()
    except KeyboardInterrupt:
        print(
            f"\nimport job {job_id} goes on in the gateway: watch it with `audiosearch jobs watch {job_id}`, "
            f"cancel it with `audiosearch jobs cancel {job_id}`",
            file=sys.stderr,
            flush=True,
        )
        sys.stdout.flush()
        # Not SystemExit: closing the gRPC channel (explicitly or at exit) can wait forever on the stream read this
        # interrupt cut short; the job lives in the gateway, so there is nothing here to clean up.
        os._exit(130)
    if live:
        sys.stderr.write("\n")
    assert job is not None
    return job


def _report(job: import_job_pb2.ImportJob, as_json: bool) -> int:
    from audiosearch.tools.output import print_json

    if as_json:
        print_json(job)
    else:
        print(progress_line(job))
        if job.error:
            print(f"error: {job.error}")
        if job.files_failed:
            print(f"see the failed files with `audiosearch jobs failures {job.id}`")
    return 0 if job.state == import_job_pb2.IMPORT_JOB_STATE_SUCCEEDED and not job.files_failed else 1


def cmd_import(args) -> int:
    client = args.connect(args)
    local = pathlib.Path(args.folder)
    # The gateway reads the folder; on this machine's own stack an existing local path is the same folder.
    folder = str(local.resolve()) if local.is_dir() else args.folder
    job = client.create_import_job(
        args.collection,
        folder,
        recursive=args.recursive,
        label_from_parent=args.label_from_parent,
        speaker=args.speaker,
        sound_class=args.sound_class,
    )
    if args.detach:
        print(job.id)
        return 0
    header = f"import job {job.id}: {job.path} -> {job.collection} (Ctrl-C leaves it running)"
    return _report(_watch(client, job.id, header), args.json)


def cmd_rebuild(client, args) -> int:
    """`audiosearch collections rebuild NAME --model M`: the rebuild job, followed like an import."""
    window = args.window if args.window or args.hop else None
    job = client.rebuild_collection(args.name, args.model, window, args.hop)
    if args.detach:
        print(job.id)
        return 0
    header = f"rebuild job {job.id}: {job.collection} -> {job.rebuild.model} (Ctrl-C leaves it running)"
    return _report(_watch(client, job.id, header), args.json)


def cmd_jobs(args) -> int:
    from audiosearch.tools.output import print_json, print_table

    if args.action != "list" and args.id is None:
        sys.exit(f"audiosearch jobs {args.action} needs the job's id (see `audiosearch jobs list`)")
    client = args.connect(args)
    if args.action == "list":
        jobs = list(client.list_import_jobs())
        if args.json:
            print_json(jobs)
            return 0
        rows = [
            [j.id, state_name(j), j.collection, f"{j.files_done}/{j.files_found}", j.files_added, j.files_duplicate,
             j.files_failed, f"{j.files_per_second:.1f}", j.holder or "-", j.path or f"rebuild: {j.rebuild.model}"]
            for j in jobs
        ]  # fmt: skip
        headers = ["id", "state", "collection", "done", "added", "dup", "failed", "files/s", "holder", "source"]
        print_table(headers, rows)
        return 0
    if args.action == "watch":
        return _report(_watch(client, args.id), args.json)
    if args.action == "cancel":
        job = client.cancel_import_job(args.id)
        print_json(job) if args.json else print(f"import job {job.id}: {state_name(job)}")
        return 0
    failures = list(client.import_job_failures(args.id))
    if args.json:
        print_json(failures)
    else:
        print_table(["#", "file", "why"], [[item.ordinal, item.path, item.error] for item in failures])
    return 0
