"""`audiosearch eval --task speakers` (audiosearch/tools/evaluation/speakers.py).

With no --address it starts its own services (as the other tasks do); the model must also load here (test clips are
embedded in this process, once)."""

import json
import sys

DEFAULT_DET = "audiosearch-speakers-det.png"


def add_arguments(parser) -> None:
    group = parser.add_argument_group("--task speakers")
    group.add_argument("--held-out", type=int, default=50, help="speakers never enrolled: unknown impostors (50)")
    group.add_argument("--far", type=float, default=0.01, help="false-accept rate to calibrate for (0.01)")
    group.add_argument("--impostor-claims", type=int, default=40, help="impostor VerifySpeaker claims per test clip")


def cmd(args, gateway_for) -> int:
    """gateway_for(args): the eval's context manager that yields a gateway address (given, or a stack it starts)."""
    from audiosearch.client import AudioSearchClient
    from audiosearch.tools.evaluation import dataset, speakers
    from audiosearch.tools.evaluation.progress import ProgressLines

    try:
        items = dataset.load(args.folder, args.label_pattern, args.labels_csv, args.split_halves, args.limit, args.seed)
    except (ValueError, OSError) as error:
        sys.exit(f"audiosearch eval: {error}")
    with gateway_for(args) as gateway, AudioSearchClient(gateway, timeout_seconds=600) as client:
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
