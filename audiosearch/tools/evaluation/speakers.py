"""`audiosearch eval --task speakers`: enroll, calibrate, identify and verify through the public API, and measure.

Each speaker's clips are split into enrollment and test clips (with --split-halves: each file's first half enrolls,
its second half tests); a share of speakers is held out (never enrolled) as unknown impostors. Enrollments go through
EnrollSpeaker as audio. Every clip is also embedded once here, in batches, with the model's own code (the embedding
service's, embedding_service/models), and test clips go to IdentifySpeaker / VerifySpeaker as those vectors, so
thousands of trials cost no more embeddings. The same vectors score every scoring method offline with the gateway's
own scoring code (gateway/speaker_scoring.py), beside plain cosine of single vectors over all pairs of clips.
"""

import dataclasses
import math
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from audiosearch.runtime.error_rates import Trials
from audiosearch.sdk import errors
from audiosearch.tools.evaluation.dataset import Item
from gateway import speaker_scoring

METHODS = ("CENTROID", "MAX", "TOP_K_MEAN", "AS_NORM")
P_TARGET = 0.01
WORKERS = 4
BATCH = 16


@dataclasses.dataclass(frozen=True)
class Plan:
    enrollments: dict[str, list[Item]]  # enrolled speaker -> enrollment clips
    tests: list[Item]  # of enrolled and held-out speakers
    held_out: frozenset[str]


def plan(items: list[Item], held_out: int, seed: int) -> Plan:
    """Split the clips: per speaker, names ending #1 (split halves) or the first half of its clips enroll."""
    by_label: dict[str, list[Item]] = {}
    for item in sorted(items, key=lambda item: item.name):
        by_label.setdefault(item.label, []).append(item)
    usable = {label: clips for label, clips in by_label.items() if len(clips) >= 2}
    if len(usable) < held_out + 2:
        raise ValueError(f"{len(usable)} speakers have 2 or more clips; {held_out} held out needs {held_out + 2}")
    rng = np.random.default_rng(seed)
    held = frozenset(rng.choice(sorted(usable), size=held_out, replace=False).tolist())
    enrollments, tests = {}, []
    for label, clips in sorted(usable.items()):
        halves = [clip for clip in clips if clip.name.endswith("#1")]
        enroll = halves or clips[: math.ceil(len(clips) / 2)]
        tests += [clip for clip in clips if clip not in enroll]
        if label not in held:
            enrollments[label] = enroll
    return Plan(enrollments, tests, held)


def embed_all(model_name: str, items: list[Item], progress=None) -> np.ndarray:
    """One unit vector per clip, from the model's own code in this process (as the embedding service computes it,
    batched): the clips at the model's rate, whole (no windows)."""
    from embedding_service import audio, config, server

    settings = dataclasses.replace(config.load(), models=(model_name,))
    model = server.build_registry(settings).get(model_name)
    if not model.available:
        raise ValueError(f"model {model_name} is not available here: {model.unavailable_reason}")
    vectors = []
    for first in range(0, len(items), BATCH):
        batch = items[first : first + BATCH]
        waves = [audio.resample(item.samples, item.rate, model.sample_rate) for item in batch]
        vectors.append(np.asarray(model.embed_batch(waves), dtype=np.float64))
        if progress:
            progress("embed", first + len(batch), len(items))
    stacked = np.concatenate(vectors)
    return stacked / np.linalg.norm(stacked, axis=1, keepdims=True)


def evaluate(
    client,
    items: list[Item],
    model: str,
    held_out: int = 50,
    seed: int = 0,
    far: float = 0.01,
    impostor_claims: int = 40,
    progress=None,
) -> dict:
    """The report (a JSON-ready dict); the temporary collection is dropped at the end."""
    split = plan(items, held_out, seed)
    name = f"eval_speakers_{uuid.uuid4().hex[:10]}"
    client.create_collection(name, model=model, purpose="speakers")
    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            refused, enroll_ms = _enroll(client, name, split, pool, progress)
            enrolled = sorted(label for label in split.enrollments if label not in refused)
            tests = [item for item in split.tests if item.label in enrolled or item.label in split.held_out]
            clips = [item for item in items if item.label in enrolled or item.label in split.held_out]
            by_name = dict(zip([item.name for item in clips], embed_all(model, clips, progress), strict=True))
            test_vectors = np.stack([by_name[item.name] for item in tests])
            enroll_items = [item for label in enrolled for item in split.enrollments[label]]
            enroll_vectors = np.stack([by_name[item.name] for item in enroll_items])
            started = time.perf_counter()
            calibration = client.calibrate_speakers(name, far).calibration
            calibrate_s = time.perf_counter() - started
            identified = _identify(client, name, tests, test_vectors, pool, progress)
            trials = _verify(client, name, tests, test_vectors, enrolled, impostor_claims, seed, pool, progress)
        report = {
            "collection": {"name": name, "model": model, "temporary": True},
            "dataset": {
                "clips": len(items),
                "enrolled_speakers": len(enrolled),
                "held_out_speakers": len(split.held_out),
                "enrollment_clips": len(enroll_items),
                "test_clips": len(tests),
                "refused_enrollments": refused,
            },
            "calibration": _calibration(calibration, calibrate_s),
            "verification": _verification(trials, calibration.threshold),
            "identification": _identification(identified, tests, split.held_out, calibration.open_set_threshold),
            "scoring_comparison": _compare(tests, test_vectors, enroll_items, enroll_vectors, clips, by_name),
            "timing_ms": {"enroll_per_clip": round(statistics.fmean(enroll_ms), 1) if enroll_ms else None},
        }
        return report
    finally:
        client.drop_collection(name)


def _enroll(client, collection, split, pool, progress):
    refused: dict[str, str] = {}
    times: list[float] = []
    jobs = [(label, item) for label, clips in split.enrollments.items() for item in clips]

    def one(job):
        label, item = job
        started = time.perf_counter()
        try:
            client.enroll_speaker(collection, label, item.content, source=item.name)
        except errors.InvalidArgument as error:  # too little speech: that speaker is left out
            return label, f"{item.name}: {error.reason}", 0.0
        return label, "", (time.perf_counter() - started) * 1000

    for done, (label, problem, elapsed) in enumerate(pool.map(one, jobs), start=1):
        if problem:
            refused[label] = problem
        else:
            times.append(elapsed)
        if progress:
            progress("enroll", done, len(jobs))
    return refused, times


def _identify(client, collection, tests, vectors, pool, progress):
    def one(vector):
        return client.identify_speaker(collection, vector=vector.tolist(), top_k=5)

    results = []
    for done, response in enumerate(pool.map(one, vectors), start=1):
        results.append(response)
        if progress:
            progress("identify", done, len(tests))
    return results


def _verify(client, collection, tests, vectors, enrolled, claims, seed, pool, progress):
    """(is_target, score, accepted) per trial: each test clip claims its own speaker (when enrolled) and `claims`
    other enrolled speakers drawn at random."""
    rng = np.random.default_rng([seed, 1])
    jobs = []
    for item, vector in zip(tests, vectors, strict=True):
        others = [label for label in enrolled if label != item.label]
        chosen = rng.choice(others, size=min(claims, len(others)), replace=False).tolist()
        jobs += [
            (label == item.label, label, vector) for label in ([item.label] if item.label in enrolled else []) + chosen
        ]

    def one(job):
        target, label, vector = job
        response = client.verify_speaker(collection, label, vector=vector.tolist())
        return target, response.score, response.decision == response.DECISION_ACCEPT

    trials = []
    for done, trial in enumerate(pool.map(one, jobs), start=1):
        trials.append(trial)
        if progress and done % 100 == 0:
            progress("verify", done, len(jobs))
    return trials


def _calibration(calibration, seconds: float) -> dict:
    return {
        "scoring": calibration.scoring,
        "threshold": round(calibration.threshold, 4),
        "target_far": calibration.target_false_positive_rate,
        "far": round(calibration.false_positive_rate, 4),
        "frr": round(calibration.false_negative_rate, 4),
        "eer": round(calibration.equal_error_rate, 4),
        "target_trials": calibration.positive_trials,
        "nontarget_trials": calibration.negative_trials,
        "seconds": round(seconds, 1),
    }


def _verification(trials, threshold: float) -> dict:
    positives = [score for target, score, _ in trials if target]
    negatives = [score for target, score, _ in trials if not target]
    measured = Trials(positives, negatives)
    accepted_impostors = sum(1 for target, _, accepted in trials if not target and accepted)
    rejected_genuine = sum(1 for target, _, accepted in trials if target and not accepted)
    return {
        "genuine_trials": len(positives),
        "impostor_trials": len(negatives),
        "eer": round(measured.equal_error().false_positive_rate, 4),
        "min_dcf": round(measured.min_dcf(P_TARGET), 4),
        "far_at_stored_threshold": round(accepted_impostors / max(1, len(negatives)), 4),
        "frr_at_stored_threshold": round(rejected_genuine / max(1, len(positives)), 4),
        "stored_threshold": round(threshold, 4),
        "curve": [(r.false_positive_rate, r.false_negative_rate) for r in measured.curve()],
    }


def _identification(responses, tests, held_out, threshold: float) -> dict:
    known = [(item, r) for item, r in zip(tests, responses, strict=True) if item.label not in held_out]
    unknown = [r for item, r in zip(tests, responses, strict=True) if item.label in held_out]
    correct = [bool(r.candidates) and r.candidates[0].speaker_id == item.label for item, r in known]
    impostor_top = sorted((r.candidates[0].score for r in unknown if r.candidates), reverse=True)
    # The open-set threshold at FAR 1%: at most 1% of the unknown speakers' probes reach it.
    allowed = math.floor(0.01 * len(impostor_top))
    open_threshold = math.nextafter(impostor_top[allowed], math.inf) if len(impostor_top) > allowed else -math.inf
    detected = [ok and r.candidates[0].score >= open_threshold for ok, (_, r) in zip(correct, known, strict=True)]
    return {
        "known_probes": len(known),
        "unknown_probes": len(unknown),
        "closed_set_accuracy": round(statistics.fmean(correct), 4) if correct else None,
        "open_set_dir_at_far_1pct": round(statistics.fmean(detected), 4) if detected else None,
        "open_set_threshold": round(open_threshold, 4),
        "identified_correctly_at_stored_threshold": round(
            statistics.fmean(r.speaker_id == item.label for item, r in known), 4
        )
        if known
        else None,
        "unknown_answered_unknown": round(statistics.fmean(not r.speaker_id for r in unknown), 4) if unknown else None,
        "stored_open_set_threshold": round(threshold, 4),
    }


def _compare(tests, test_vectors, enroll_items, enroll_vectors, clips, by_name) -> dict:
    """EER and minDCF of every scoring method over all (test clip, enrolled speaker) pairs, offline with the
    gateway's scoring code, and of plain cosine between single vectors over all pairs of clips."""
    owners = [item.label for item in enroll_items]
    labels = np.array([item.label for item in tests])
    rows = {}
    for method in METHODS:
        names, scores = speaker_scoring.score_matrix(
            test_vectors, enroll_vectors, owners, speaker_scoring.ScoringOptions(method=method)
        )
        target = labels[:, None] == np.array(names)[None, :]
        rows[method] = _rates(scores[target], scores[~target])
        # Open set: each test clip as a speaker outside the collection, its best match among the others.
        best_other = np.where(target, -np.inf, scores).max(axis=1)
        open_at_far = Trials([], best_other.tolist()).at_false_positive_rate(0.01)
        rows[method]["open_set_threshold_at_far_1pct"] = round(open_at_far.threshold, 4)
    every = np.stack([by_name[item.name] for item in clips])
    every_labels = np.array([item.label for item in clips])
    upper = np.triu_indices(len(every), k=1)
    cosines = (every @ every.T)[upper]
    same = (every_labels[:, None] == every_labels[None, :])[upper]
    rows["COSINE_ALL_PAIRS"] = _rates(cosines[same], cosines[~same])
    return rows


def _rates(positives: np.ndarray, negatives: np.ndarray) -> dict:
    trials = Trials(positives.tolist(), negatives.tolist())
    at_far = trials.at_false_positive_rate(0.01)
    return {
        "eer": round(trials.equal_error().false_positive_rate, 4),
        # What a model's default threshold is (gateway/speaker_scoring.py DEFAULT_THRESHOLDS).
        "threshold_at_far_1pct": round(at_far.threshold, 4),
        "frr_at_far_1pct": round(at_far.false_negative_rate, 4),
        "min_dcf": round(trials.min_dcf(P_TARGET), 4),
        "target_trials": int(positives.size),
        "nontarget_trials": int(negatives.size),
        "curve": [(r.false_positive_rate, r.false_negative_rate) for r in trials.curve()],
    }


def print_report(report: dict) -> None:
    data, cal, ver, ident = report["dataset"], report["calibration"], report["verification"], report["identification"]
    print(
        f"speakers: {data['enrolled_speakers']} enrolled ({data['enrollment_clips']} clips), "
        f"{data['held_out_speakers']} held out as unknown; {data['test_clips']} test clips; "
        f"model {report['collection']['model']}"
    )
    if data["refused_enrollments"]:
        print(f"refused enrollments: {data['refused_enrollments']}")
    print("\nscoring comparison (offline, every test clip against every enrolled speaker; gateway scoring code):")
    print(
        f"  {'scoring':18s} {'EER':>7s} {'minDCF':>7s} {'1:1 FAR 1%':>10s} {'1:N FAR 1%':>10s} {'targets':>8s} "
        f"{'non-targets':>12s}"
    )
    for method, row in report["scoring_comparison"].items():
        print(
            f"  {method:18s} {row['eer']:7.2%} {row['min_dcf']:7.3f} {row['threshold_at_far_1pct']:10.4f} "
            f"{row.get('open_set_threshold_at_far_1pct', float('nan')):10.4f} "
            f"{row['target_trials']:8d} "
            f"{row['nontarget_trials']:12d}"
        )
    measured = (
        f"FRR {cal['frr']:.2%}, EER {cal['eer']:.2%}"
        if cal["target_trials"]
        else "no FRR or EER: that needs speakers with 2+ enrollments"
    )
    print(
        f"\ncalibration ({cal['scoring']}, leave-one-out on the enrollments): threshold {cal['threshold']} at target "
        f"FAR {cal['target_far']:g} (measured FAR {cal['far']:.2%}, {measured}; {cal['target_trials']} target, "
        f"{cal['nontarget_trials']} non-target trials; {cal['seconds']} s)"
    )
    print(
        f"\nVerifySpeaker ({ver['genuine_trials']} genuine, {ver['impostor_trials']} impostor claims): EER "
        f"{ver['eer']:.2%}, minDCF {ver['min_dcf']:.3f}; at the stored threshold {ver['stored_threshold']}: "
        f"FAR {ver['far_at_stored_threshold']:.2%}, FRR {ver['frr_at_stored_threshold']:.2%}"
    )
    print(
        f"IdentifySpeaker ({ident['known_probes']} known, {ident['unknown_probes']} unknown probes): closed-set "
        f"accuracy {ident['closed_set_accuracy']:.2%}, open-set DIR at FAR 1% {ident['open_set_dir_at_far_1pct']:.2%}; "
        f"at the stored open-set threshold {ident['stored_open_set_threshold']}: "
        f"{ident['identified_correctly_at_stored_threshold']:.2%} of known identified "
        f"correctly, {ident['unknown_answered_unknown']:.2%} of unknown answered UNKNOWN"
    )


def without_curves(report: dict) -> dict:
    """The report without the DET curves' points (they go to the chart)."""
    trimmed = dict(report)
    trimmed["verification"] = {k: v for k, v in report["verification"].items() if k != "curve"}
    trimmed["scoring_comparison"] = {
        method: {k: v for k, v in row.items() if k != "curve"} for method, row in report["scoring_comparison"].items()
    }
    return trimmed


def write_det(report: dict, path: str) -> str:
    """A DET curve PNG (miss vs false-alarm rate, normal-deviate axes) of every scoring and of the service's trials."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    def axis(rates):
        return norm.ppf(np.clip(np.asarray(rates), 1e-4, 1 - 1e-4))

    figure, ax = plt.subplots(figsize=(6, 6))
    curves = {f"{m} (offline)": row["curve"] for m, row in report["scoring_comparison"].items()}
    curves[f"VerifySpeaker ({report['calibration']['scoring']})"] = report["verification"]["curve"]
    for label, curve in curves.items():
        fpr, fnr = zip(*curve, strict=True)
        ax.plot(axis(fpr), axis(fnr), label=label)
    ticks = [0.001, 0.01, 0.05, 0.2, 0.5]
    ax.set_xticks(axis(ticks), [f"{t:.1%}" for t in ticks])
    ax.set_yticks(axis(ticks), [f"{t:.1%}" for t in ticks])
    ax.set_xlabel("false accept rate")
    ax.set_ylabel("false reject rate")
    ax.set_title(f"DET, {report['collection']['model']}")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)
    return path
