"""An evaluation report as tables for the terminal and as a PNG chart."""

import pathlib

from audiosearch.tools.output import print_table

# Refused clips listed in the terminal; --json lists them all (thousands, on a set of short words).
SHOWN_REFUSALS = 20


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _map_header(labels: dict) -> str:
    return f"mAP@{labels['mAP_cutoff']}" if labels.get("mAP_cutoff") else "mAP"


def _print_refused(refused: list[dict]) -> None:
    print(f"\n{len(refused)} clips refused by the service, left out of every measure")
    rows = [[clip["name"], clip["reason"], clip["message"]] for clip in refused[:SHOWN_REFUSALS]]
    print_table(["clip", "reason", "message"], rows)
    if len(refused) > SHOWN_REFUSALS:
        print(f"... and {len(refused) - SHOWN_REFUSALS} more (--json lists them all)")


def _print_refused_queries(name: str, refused: list[dict]) -> None:
    by_reason: dict[str, list[dict]] = {}
    for clip in refused:
        by_reason.setdefault(clip["reason"], []).append(clip)
    for reason, clips in by_reason.items():
        print(f"{name}: {len(clips)} not measured ({reason}), e.g. {clips[0]['message']}")


def print_report(report: dict) -> None:
    collection, dataset = report["collection"], report["dataset"]
    segments = (
        f"window {collection['window_seconds']:g} s, hop {collection['hop_seconds']:g} s"
        if collection["window_seconds"]
        else "one vector per clip"
    )
    kind = "temporary collection" if collection["temporary"] else "collection"
    refused = f" ({dataset['refused']} refused)" if dataset["refused"] else ""
    print(
        f"{kind} {collection['name']}: model {collection['model']}, {segments}; "
        f"{dataset['clips']} clips{refused}, {dataset['labels']} labels"
    )
    if report["refused_clips"]:
        _print_refused(report["refused_clips"])
    labels = report["label_retrieval"]
    print("\nlabel retrieval (leave-one-out, each clip queried by its id)")
    print_table(
        ["queries", "precision@1", "precision@5", "precision@10", _map_header(labels)],
        [[labels["queries"], *(_fmt(labels[key]) for key in ("precision@1", "precision@5", "precision@10", "mAP"))]],
    )
    if labels["alone_in_label"]:
        print(f"{labels['alone_in_label']} clips are the only one of their label: nothing to find, not queried")
    if labels["mAP_cutoff"]:
        print(
            f"mAP counts the first {labels['mAP_cutoff']} results of each query (the service's top_k cap); "
            "relevant clips ranked lower add 0, so it is a lower bound"
        )
    if report["near_duplicate"]:
        print("\nnear-duplicate retrieval (each clip perturbed, must find its original)")
        rows = [
            [name, _fmt(row["hit@1"]), _fmt(row["hit@5"]), row["queries"], row["refused"]]
            for name, row in report["near_duplicate"].items()
        ]
        print_table(["perturbation", "hit@1", "hit@5", "queries", "refused"], rows)
        for name, row in report["near_duplicate"].items():
            _print_refused_queries(name, row["refused_clips"])
    timing = report["timing_ms"]
    print("\ntime per clip (ms, client-side, through the gateway)")
    print_table(
        ["ingest (embed + write)", "search by id", "search by audio (embed + search)"],
        [
            [
                _fmt(timing["ingest_per_clip"]),
                _fmt(timing["search_by_id_per_query"]),
                _fmt(timing["search_by_audio_per_query"]),
            ]
        ],
    )


def write_chart(report: dict, path: str | pathlib.Path) -> pathlib.Path:
    """A PNG with label retrieval metrics (left) and near-duplicate hit rates per perturbation (right)."""
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError("the chart needs matplotlib: pip install 'audiosearch[eval]' (or pass --no-chart)") from None
    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, (left, right) = pyplot.subplots(1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [1, 2]})
    labels = report["label_retrieval"]
    keys = ["precision@1", "precision@5", "precision@10", "mAP"]
    left.bar(["P@1", "P@5", "P@10", _map_header(labels)], [labels[key] or 0.0 for key in keys], color="#4C72B0")
    left.set_ylim(0, 1.15)
    left.set_title(f"label retrieval ({labels['queries']} queries)")
    names = list(report["near_duplicate"])
    positions = range(len(names))
    for shift, key, colour in ((-0.2, "hit@1", "#55A868"), (0.2, "hit@5", "#C44E52")):
        values = [report["near_duplicate"][name][key] or 0.0 for name in names]
        right.bar([p + shift for p in positions], values, width=0.4, label=key, color=colour)
    right.set_xticks(list(positions), names, rotation=20)
    right.set_ylim(0, 1.15)
    right.legend(loc="upper right", ncol=2)
    right.set_title("near-duplicate retrieval")
    collection = report["collection"]
    segments = (
        f", window {collection['window_seconds']:g}/{collection['hop_seconds']:g} s"
        if collection["window_seconds"]
        else ""
    )
    figure.suptitle(f"model {collection['model']}{segments}: {report['dataset']['clips']} clips")
    figure.tight_layout()
    path = pathlib.Path(path)
    figure.savefig(path, dpi=100)
    pyplot.close(figure)
    return path


def print_recordings_report(report: dict) -> None:
    collection, dataset = report["collection"], report["dataset"]
    print(
        f"model {collection['model']}, window {collection['window_seconds']:g} s, hop {collection['hop_seconds']:g} s; "
        f"{dataset['references']} reference recordings ({dataset['reference_hours']:g} h), "
        f"{dataset['positive_queries']} + {dataset['negative_queries']} negative {dataset['snippet_seconds']:g}-s "
        f"snippets from {dataset['negative_recordings']} recordings not stored"
    )
    rows = [
        [
            name,
            _fmt(row["hit@1"]),
            _fmt(row["tpr_at_fpr"]),
            _fmt(row["threshold_at_fpr"]),
            f"{_fmt(row['tpr_decision'])} / {_fmt(row['fpr_decision'])}",
            _fmt(row["offset_error_s"]["median"]),
            _fmt(row["offset_error_s"]["p95"]),
        ]
        for name, row in report["perturbations"].items()
    ]
    headers = ["perturbation", "hit@1", "TPR@FPR1%", "its threshold", "decision TPR / FPR", "offset err p50 s", "p95 s"]
    print_table(headers, rows)
    search, pooled = report["search_ms"], report["pooled_negative_threshold"]
    print(f"\nsearch by audio (client-side, through the gateway): p50 {search['p50']} ms, p95 {search['p95']} ms")
    print(f"ingest: {report['ingest_real_time_factor']:g} x real time")
    print(f"threshold at FPR 1% over the negatives of every perturbation together: {pooled:.4f}")


def write_recordings_charts(report: dict, path: str | pathlib.Path) -> list[pathlib.Path]:
    """One PNG per perturbation, named after `path`: the top hit's score of the positives that found their recording
    and of the negatives, with the threshold at FPR 1%."""
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError("the chart needs matplotlib: pip install 'audiosearch[eval]' (or pass --no-chart)") from None
    matplotlib.use("Agg")
    from matplotlib import pyplot

    base = pathlib.Path(path)
    written = []
    for name, row in report["perturbations"].items():
        figure, axes = pyplot.subplots(figsize=(7, 4))
        bins = [index / 50 for index in range(51)]
        axes.hist(row["negative_scores"], bins=bins, alpha=0.6, label="negatives (not stored)", color="#C44E52")
        axes.hist(row["positive_scores"], bins=bins, alpha=0.6, label="copies found at rank 1", color="#55A868")
        axes.axvline(row["threshold_at_fpr"], color="black", linestyle="--", label="threshold at FPR 1%")
        axes.set_xlabel("score of the top hit")
        axes.set_title(f"{name}: hit@1 {_fmt(row['hit@1'])}, TPR at FPR 1% {_fmt(row['tpr_at_fpr'])}")
        axes.legend(loc="upper left")
        figure.tight_layout()
        out = base.with_name(f"{base.stem}-{name.replace(':', '_').replace('+', '_')}{base.suffix or '.png'}")
        figure.savefig(out, dpi=80)
        pyplot.close(figure)
        written.append(out)
    return written
