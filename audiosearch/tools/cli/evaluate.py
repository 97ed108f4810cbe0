"""`audiosearch eval`: retrieval quality of a model (or an existing collection) on a labelled folder.

By default it starts its own services on free ports in a temporary folder (as the demo does) and stops them at
the end; `--address` uses a running gateway instead. A model gets a temporary collection, dropped at the end;
`--collection` evaluates an existing one (clips the evaluation added to it are deleted at the end).
"""

import argparse
import contextlib
import json
import sys
import tempfile

from audiosearch.tools.cli import DEFAULT_ADDRESS, evaluate_speakers
from audiosearch.tools.evaluation.progress import ProgressLines
from audiosearch.tools.output import Progress

DEFAULT_CHART = "audiosearch-eval.png"


def add_parser(sub) -> None:
    parser = sub.add_parser(
        "eval",
        help="measure label and near-duplicate retrieval on a labelled folder",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("folder", help="folder of audio files; by default each file's label is its parent folder")
    parser.add_argument(
        "--task",
        choices=("retrieval", "recordings", "speakers"),
        default="retrieval",
        help="retrieval (default): label and near-duplicate retrieval; recordings: snippets of stored recordings "
        "and of recordings not stored, placed in time and decided MATCH/NO_MATCH (docs/quality.md, Recordings); "
        "speakers: enroll, calibrate, identify and verify (docs/speakers.md)",
    )
    evaluate_speakers.add_arguments(parser)
    recordings = parser.add_argument_group("--task recordings")
    recordings.add_argument(
        "--negatives", help="folder of recordings not to store (default: every other file of FOLDER, sorted)"
    )
    recordings.add_argument("--snippet-seconds", type=float, default=5.0, help="query length (default 5)")
    recordings.add_argument("--queries", type=int, default=100, help="positive and negative queries each (default 100)")
    labels = parser.add_mutually_exclusive_group()
    labels.add_argument(
        "--label-pattern",
        help=r"regex with a (?P<label>...) group, searched in file names, "
        r"e.g. '(?P<label>\d+)-' for LibriSpeech speakers",
    )
    labels.add_argument("--labels-csv", help="CSV of path,label rows (paths relative to the CSV or the folder)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--model", help="evaluate this model in a temporary collection (default: logmel)")
    target.add_argument("--collection", help="evaluate this existing collection")
    parser.add_argument("--window", type=float, default=0.0, help="segment window in seconds (temporary collection)")
    parser.add_argument("--hop", type=float, default=0.0, help="segment hop in seconds (temporary collection)")
    parser.add_argument(
        "--cut-words",
        action="store_true",
        help="cut each file at its pauses into word-like sounds of 0.3-1 s, each its own clip (a library of short "
        "sounds for near-duplicate retrieval)",
    )
    parser.add_argument(
        "--split-halves",
        action="store_true",
        help="cut each file into two halves with the file's label (each half's match is the other)",
    )
    parser.add_argument(
        "--perturb",
        action="append",
        metavar="KIND:VALUE",
        help="near-duplicate perturbation, repeatable (default: noise:20 gain:-6 crop:0.1 "
        "resample:8000 mp3:64 offset:0.5); kinds: noise, gain, crop, resample, mp3, ogg, offset",
    )
    parser.add_argument("--no-near-duplicates", action="store_true", help="skip the near-duplicate part")
    parser.add_argument("--limit", type=int, help="use a random sample of N files (the same for the same --seed)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the --limit sample and the random perturbations")
    parser.add_argument("--chart", default=DEFAULT_CHART, help=f"PNG chart path (default {DEFAULT_CHART})")
    parser.add_argument("--no-chart", action="store_true")
    parser.add_argument(
        "--address", dest="eval_address", help="use the gateway at this address instead of starting services"
    )
    parser.set_defaults(func=cmd_eval)


def cmd_eval(args) -> int:
    from audiosearch.client import AudioSearchClient
    from audiosearch.tools.evaluation import dataset, report, runner

    if args.task == "recordings":
        return _eval_recordings(args)
    if args.task == "speakers":
        return evaluate_speakers.cmd(args, _gateway)
    try:
        perturbations = (
            []
            if args.no_near_duplicates
            else [runner.Perturbation.parse(spec) for spec in (args.perturb or runner.DEFAULT_PERTURBATIONS)]
        )
        items = dataset.load(args.folder, args.label_pattern, args.labels_csv, args.split_halves, args.limit, args.seed)
        if args.cut_words:
            items = dataset.cut_words(items)
    except (ValueError, OSError) as error:
        sys.exit(f"audiosearch eval: {error}")
    target = runner.Target(args.collection or "", args.model or "logmel", args.window, args.hop)
    bar: dict[str, Progress] = {}

    def progress_bar(stage: str, done: int, total: int) -> None:
        if stage not in bar:
            for previous in bar.values():
                previous.close()
            bar.clear()
            bar[stage] = Progress(total, stage)
        bar[stage].update(done)

    progress = progress_bar if sys.stderr.isatty() else ProgressLines(sys.stderr)
    with _gateway(args) as address, AudioSearchClient(address, timeout_seconds=300) as client:
        result = runner.evaluate(client, items, target, perturbations, args.seed, progress)
    for stage in bar.values():
        stage.close()
    if not args.no_chart:
        result["chart"] = str(report.write_chart(result, args.chart))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        report.print_report(result)
        if "chart" in result:
            print(f"\nchart: {result['chart']}")
    return 0


def _eval_recordings(args) -> int:
    from audiosearch.client import AudioSearchClient
    from audiosearch.tools.evaluation import dataset, recordings, report, runner

    try:
        specs = args.perturb or recordings.DEFAULT_PERTURBATIONS
        perturbations = [runner.Perturbation.parse(spec) for spec in specs]
        references = dataset.load(args.folder, limit=args.limit, seed=args.seed)
        if args.negatives:
            negatives = dataset.load(args.negatives, limit=args.limit, seed=args.seed)
        else:
            references, negatives = references[0::2], references[1::2]
    except (ValueError, OSError) as error:
        sys.exit(f"audiosearch eval: {error}")
    target = runner.Target("", args.model or "fingerprint", args.window or 3.0, args.hop or 0.25)
    progress = ProgressLines(sys.stderr)
    with _gateway(args) as address, AudioSearchClient(address, timeout_seconds=300) as client:
        result = recordings.evaluate(
            client,
            references,
            negatives,
            target,
            perturbations,
            args.queries,
            args.snippet_seconds,
            args.seed,
            progress,
        )
    if not args.no_chart:
        result["charts"] = [str(path) for path in report.write_recordings_charts(result, args.chart)]
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        report.print_recordings_report(result)
        if "charts" in result:
            print(f"\ncharts: {len(result['charts'])} PNGs named {args.chart} with the perturbation's name")
    return 0


@contextlib.contextmanager
def _gateway(args):
    address = args.eval_address or (args.address if args.address != DEFAULT_ADDRESS else None)
    if address:
        yield address
        return
    from audiosearch.tools.launcher import Stack

    with tempfile.TemporaryDirectory(prefix="audiosearch-eval-") as scratch, Stack(scratch, ports={}) as stack:
        if not args.json:
            print(
                f"started services on free ports (gateway {stack.gateway_address}); they stop at the end",
                file=sys.stderr,
            )
        yield stack.gateway_address
