"""`audiosearch eval --task speakers` (audiosearch/tools/evaluation/speakers.py).

With no --address it starts its own services (as the other tasks do); the model must also load here (test clips are
embedded in this process, once)."""

import contextlib
import json
import sys
import tempfile

DEFAULT_DET = "audiosearch-speakers-det.png"


def add_arguments(parser) -> None:
    group = parser.add_argument_group("--task speakers")
    group.add_argument("--held-out", type=int, default=50, help="speakers never enrolled: unknown impostors (50)")
    group.add_argument("--far", type=float, default=0.01, help="false-accept rate to calibrate for (0.01)")
    group.add_argument("--impostor-claims", type=int, default=40, help="impostor VerifySpeaker claims per test clip")


def cmd(args) -> int:
    from audiosearch.client import AudioSearchClient
    from audiosearch.tools.evaluation import dataset, speakers
    from audiosearch.tools.evaluation.progress import ProgressLines

    try:
        items = dataset.load(args.folder, args.label_pattern, args.labels_csv, args.split_halves, args.limit, args.seed)
    except (ValueError, OSError) as error:
        sys.exit(f"audiosearch eval: {error}")
    with _services(args) as gateway, AudioSearchClient(gateway, timeout_seconds=600) as client:
        try:
            result = speakers.evaluate(
                client, items, args.model or "ge2e", args.held_out, args.seed, args.far,
                args.impostor_claims, ProgressLines(sys.stderr),
            )  # fmt: skip
        except ValueError as error:
            sys.exit(f"audiosearch eval: {error}")
    if not args.no_chart:
        chart = args.chart if args.chart != "audiosearch-eval.png" else DEFAULT_DET
        result["chart"] = speakers.write_det(result, chart)
    if args.json:
        print(json.dumps(speakers.without_curves(result), indent=2))
    else:
        speakers.print_report(result)
        if "chart" in result:
            print(f"\nDET curve: {result['chart']}")
    return 0


@contextlib.contextmanager
def _services(args):
    if args.eval_address:
        yield args.eval_address
        return
    from audiosearch.tools.launcher import Stack

    with tempfile.TemporaryDirectory(prefix="audiosearch-eval-") as scratch, Stack(scratch, ports={}) as stack:
        print(
            f"started services on free ports (gateway {stack.gateway_address}); they stop at the end", file=sys.stderr
        )
        yield stack.gateway_address
