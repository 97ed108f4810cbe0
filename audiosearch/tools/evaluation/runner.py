"""Runs an evaluation through the public API: ingest a labelled set, query it, score the rankings.

Label retrieval: each clip is queried by its stored id (the gateway leaves the clip itself out) and the others
with its label are the relevant items. Near-duplicate retrieval: each clip is perturbed, sent as query audio, and
must find its own original.
"""

import dataclasses
import statistics
import time
import uuid

import numpy as np

from audiosearch.runtime.rules import MAX_TOP_K
from audiosearch.sdk import errors
from audiosearch.tools.evaluation import codec, metrics, perturb
from audiosearch.tools.evaluation.dataset import Item, to_wav

DEFAULT_PERTURBATIONS = ("noise:20", "gain:-6", "crop:0.1", "resample:8000", "mp3:64", "offset:0.5")
KINDS = {
    "noise": "white noise at this SNR in dB",
    "pink": "pink noise at this SNR in dB",
    "gain": "gain change in dB",
    "crop": "this fraction of the clip cut away (random split between start and end)",
    "resample": "resampled to this rate in Hz and back",
    "band": "band-limited to 300 Hz..this many Hz (3400: a telephone band)",
    "mp3": "re-encoded to mp3 at this bit rate in kbps",
    "ogg": "re-encoded to ogg vorbis at about this bit rate in kbps",
    "offset": "shifted by this many seconds (positive: silence prepended; negative: start dropped)",
    "speed": "played this many times faster, pitch and tempo together (1.02: 2% faster)",
    "stretch": "this many times faster at the same pitch (tempo only)",
}
NEAR_DUPLICATE_TOP_K = 5
BAND_LOW_HZ = 300.0


@dataclasses.dataclass(frozen=True)
class Perturbation:
    kind: str
    value: float
    # kind "chain": these, applied in order (spec `noise:20+mp3:32+speed:1.01`).
    steps: tuple["Perturbation", ...] = ()

    @property
    def name(self) -> str:
        return "+".join(step.name for step in self.steps) if self.steps else f"{self.kind}:{self.value:g}"

    @classmethod
    def parse(cls, spec: str) -> "Perturbation":
        """`kind:value`, e.g. noise:20, gain:-6, crop:0.1, resample:8000, mp3:64, ogg:48, offset:0.5, or several
        joined by `+`, applied in order."""
        if "+" in spec:
            return cls("chain", 0.0, tuple(cls.parse(part) for part in spec.split("+")))
        kind, _, value = spec.partition(":")
        if kind not in KINDS or not value:
            raise ValueError(f"bad perturbation {spec!r}: use kind:value with kind one of {', '.join(KINDS)}")
        return cls(kind, float(value))

    def apply(self, item: Item, rng: np.random.Generator) -> bytes:
        """The perturbed clip as the bytes of an audio file (lossy kinds: the encoded file itself)."""
        if self.kind in ("mp3", "ogg"):
            return codec.encode(item.samples, item.rate, self.kind, self.value)
        for step in self.steps or (self,):
            if step.kind == "resample" and step.value >= item.rate:
                # Resampling to the file's own rate or above changes nothing: a perfect score would be a lie.
                raise errors.InvalidArgument(
                    f"{step.name} cannot change {item.name}: the file is at {item.rate} Hz, not above "
                    f"{step.value:g} Hz; ask for a lower rate",
                    "NO_CHANGE",
                )
        return to_wav(self.transform(item.samples, item.rate, rng), item.rate)

    def transform(self, x: np.ndarray, rate: int, rng: np.random.Generator) -> np.ndarray:
        """The perturbed samples (lossy kinds: encoded and decoded again)."""
        kind, value = self.kind, self.value
        if kind == "chain":
            for step in self.steps:
                x = step.transform(x, rate, rng)
            return x
        if kind in ("mp3", "ogg"):
            return codec.reencode(x, rate, kind, value)
        if kind == "resample":
            return perturb.round_trip(x, rate, int(value))
        transforms = {
            "noise": lambda: perturb.add_noise(x, value, rng),
            "pink": lambda: perturb.add_pink_noise(x, value, rng),
            "gain": lambda: perturb.gain(x, value),
            "crop": lambda: perturb.crop(x, value, rng),
            "band": lambda: perturb.band_limit(x, rate, BAND_LOW_HZ, value),
            "offset": lambda: perturb.offset(x, rate, value),
            "speed": lambda: perturb.speed(x, value),
            "stretch": lambda: perturb.stretch(x, value),
        }
        return transforms[kind]()

    def source_seconds(self, seconds: float, rate: int) -> float:
        """Where a moment of the perturbed clip was in the clean one (crops aside: their cut is random)."""
        for step in reversed(self.steps or (self,)):
            if step.kind in ("speed", "stretch"):
                seconds *= step.value
            elif step.kind == "offset":
                seconds -= step.value
            elif step.kind in ("mp3", "ogg"):
                seconds -= codec.delay_seconds(rate, step.kind, step.value)
        return seconds


@dataclasses.dataclass
class Target:
    """What is evaluated: an existing collection, or a temporary one made for a model (dropped at the end)."""

    collection: str = ""
    model: str = "logmel"
    window_seconds: float = 0.0
    hop_seconds: float = 0.0


def evaluate(
    client, items: list[Item], target: Target, perturbations: list[Perturbation], seed: int = 0, progress=None
) -> dict:
    """The report (a JSON-ready dict) of one evaluation; leaves no clip or collection behind that it created.

    Clips the service refuses (too short for the model, undecodable...) are left out and listed under refused_clips;
    every measure counts only the queries really measured."""
    temporary = not target.collection
    name = target.collection or f"eval_{uuid.uuid4().hex[:12]}"
    if temporary:
        client.create_collection(name, target.model, target.window_seconds, target.hop_seconds)
    collection = next(c for c in client.list_collections() if c.name == name)
    added: list[int] = []
    try:
        measured, clip_ids, refused, ingest_ms = _ingest(client, name, items, added, progress)
        report = {
            "collection": {
                "name": name,
                "model": collection.model,
                "window_seconds": collection.segments.window_seconds,
                "hop_seconds": collection.segments.hop_seconds,
                "temporary": temporary,
            },
            "dataset": {"clips": len(items), "labels": len({item.label for item in items}), "refused": len(refused)},
            "refused_clips": refused,
        }
        report["label_retrieval"], id_ms = _label_retrieval(client, name, measured, clip_ids, progress)
        report["near_duplicate"], audio_ms = _near_duplicates(
            client, name, measured, clip_ids, perturbations, seed, progress
        )
        report["timing_ms"] = {
            "ingest_per_clip": _mean(ingest_ms),
            "search_by_id_per_query": _mean(id_ms),
            "search_by_audio_per_query": _mean(audio_ms),
        }
        return report
    finally:
        if temporary:
            client.drop_collection(name)
        else:
            for clip_id in added:
                client.delete_clip(clip_id)


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _refusal(item: Item, error: errors.AudioSearchError) -> dict:
    """The record of a clip that could not be measured, or the error again when it is not about the clip."""
    # Errors about one clip (too short, too long, undecodable) skip it; any other (service down...) ends the run.
    if not (isinstance(error, errors.InvalidArgument) or error.reason == "AUDIO_TOO_LARGE"):
        raise error
    return {"name": item.name, "reason": error.reason, "message": error.message}


def _ingest(client, collection: str, items: list[Item], added: list[int], progress):
    """The items the service took, their clip ids (an item already in the collection maps to the existing clip),
    the refused items' records, and the ingest times."""
    measured, clip_ids, refused, times = [], [], [], []
    for index, item in enumerate(items):
        started = time.perf_counter()
        try:
            response = client.ingest(item.content, collection, source=item.name, sound_class=item.label)
        except errors.AudioSearchError as error:
            refused.append(_refusal(item, error))
        else:
            times.append((time.perf_counter() - started) * 1000)
            measured.append(item)
            clip_ids.append(response.clip.id)
            if not response.duplicate:
                added.append(response.clip.id)
        if progress:
            progress("ingest", index + 1, len(items))
    return measured, clip_ids, refused, times


def _ranking_length(client, collection: str, clip_ids: list[int]) -> tuple[int, bool]:
    """How many results to ask for to rank every other clip, and whether the service's cap cuts that short."""
    stored = next((s.ready_clips for s in client.stats() if s.name == collection), len(set(clip_ids)))
    others = max(stored, len(set(clip_ids))) - 1
    # The service never returns more than MAX_TOP_K results.
    return min(MAX_TOP_K, max(10, others)), others > MAX_TOP_K


def _label_retrieval(client, collection, items, clip_ids, progress) -> tuple[dict, list[float]]:
    by_label: dict[str, set[int]] = {}
    for item, clip_id in zip(items, clip_ids, strict=True):
        by_label.setdefault(item.label, set()).add(clip_id)
    scores: dict[str, list[float]] = {"precision@1": [], "precision@5": [], "precision@10": [], "mAP": []}
    times = []
    top_k, truncated = _ranking_length(client, collection, clip_ids)
    queried = set()
    for index, (item, clip_id) in enumerate(zip(items, clip_ids, strict=True)):
        relevant = by_label[item.label] - {clip_id}
        if relevant and clip_id not in queried:
            queried.add(clip_id)
            started = time.perf_counter()
            ranked = [hit.clip.id for hit in client.search(collection, clip_id=clip_id, top_k=top_k).hits]
            times.append((time.perf_counter() - started) * 1000)
            for k in (1, 5, 10):
                scores[f"precision@{k}"].append(metrics.precision_at(ranked, relevant, k))
            scores["mAP"].append(metrics.average_precision(ranked, relevant))
        if progress:
            progress("label retrieval", index + 1, len(items))
    result: dict = {name: (round(statistics.fmean(values), 4) if values else None) for name, values in scores.items()}
    result["queries"] = len(queried)
    result["alone_in_label"] = sum(1 for clip_ids_of_label in by_label.values() if len(clip_ids_of_label) == 1)
    # Relevant clips ranked below the cap add 0 to the average precision, so mAP is then a lower bound.
    result["mAP_cutoff"] = top_k if truncated else None
    return result, times


def _near_duplicates(client, collection, items, clip_ids, perturbations, seed, progress):
    results, times = {}, []
    for p_index, perturbation in enumerate(perturbations):
        hits1, hits5, refused = [], [], []
        stage = f"near-duplicate {perturbation.name}"
        for index, (item, clip_id) in enumerate(zip(items, clip_ids, strict=True)):
            rng = np.random.default_rng([seed, p_index, index])
            try:
                # e.g. a crop left the clip shorter than the model's minimum, or the perturbation would change nothing
                query = perturbation.apply(item, rng)
                started = time.perf_counter()
                hits = client.search(collection, audio=query, top_k=NEAR_DUPLICATE_TOP_K).hits
            except errors.AudioSearchError as error:
                refused.append(_refusal(item, error))
            else:
                times.append((time.perf_counter() - started) * 1000)
                ranked = [hit.clip.id for hit in hits]
                hits1.append(metrics.hit_at(ranked, clip_id, 1))
                hits5.append(metrics.hit_at(ranked, clip_id, 5))
            if progress:
                progress(stage, index + 1, len(items))
        results[perturbation.name] = {
            "hit@1": round(statistics.fmean(hits1), 4) if hits1 else None,
            "hit@5": round(statistics.fmean(hits5), 4) if hits5 else None,
            "queries": len(hits1),
            "refused": len(refused),
            "refused_clips": refused,
        }
    return results, times
