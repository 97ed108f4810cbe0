"""`audiosearch speakers`: enroll, identify, verify, list, show, delete and calibrate the speakers of a speakers
collection (create one with `audiosearch collections create NAME --for speakers`)."""

import argparse

SCORINGS = ("as_norm", "centroid", "max", "top_k_mean")


def add_parser(sub, connect) -> None:
    """`connect(args)`: the CLI's client of the gateway (main.py's, with its token and TLS settings)."""
    parser = sub.add_parser("speakers", help="enroll, identify and verify speakers", description=__doc__)
    parser.set_defaults(connect=connect)
    actions = parser.add_subparsers(dest="action", required=True)

    enroll = actions.add_parser("enroll", help="add enrollment utterances (audio files) to a speaker")
    _target(enroll, speaker=True)
    enroll.add_argument("files", nargs="+", help="audio files, one utterance each")
    enroll.set_defaults(func=cmd_enroll)

    identify = actions.add_parser("identify", help="who is speaking in an audio file (or UNKNOWN)")
    _target(identify)
    identify.add_argument("file", help="audio file")
    identify.add_argument("--top-k", type=int, default=5, help="candidate speakers to show (1-20)")
    _scoring(identify)
    identify.set_defaults(func=cmd_identify)

    verify = actions.add_parser("verify", help="is an audio file the claimed speaker: ACCEPT or REJECT")
    _target(verify, speaker=True)
    verify.add_argument("file", help="audio file")
    _scoring(verify)
    verify.set_defaults(func=cmd_verify)

    listing = actions.add_parser("list", help="the speakers of a collection")
    _target(listing)
    listing.set_defaults(func=cmd_list)

    show = actions.add_parser("show", help="one speaker's utterances")
    _target(show, speaker=True)
    show.set_defaults(func=cmd_show)

    delete = actions.add_parser("delete", help="delete a speaker: every utterance, record and vector")
    _target(delete, speaker=True)
    delete.set_defaults(func=cmd_delete)

    calibrate = actions.add_parser("calibrate", help="measure and store thresholds from the enrollments")
    _target(calibrate)
    calibrate.add_argument(
        "--far", type=float, default=0.01, help="target false-accept rate of the stored threshold (default 0.01)"
    )
    _scoring(calibrate)
    calibrate.set_defaults(func=cmd_calibrate)


def _target(parser: argparse.ArgumentParser, speaker: bool = False) -> None:
    parser.add_argument("collection", help="a speakers collection")
    if speaker:
        parser.add_argument("speaker", help="the speaker id")


def _scoring(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--scoring", choices=SCORINGS, default="", help="default: the gateway's setting")


def _threshold(threshold) -> str:
    source = threshold.DESCRIPTOR.fields_by_name["source"].enum_type.values_by_number[threshold.source].name
    scoring = threshold.DESCRIPTOR.fields_by_name["scoring"].enum_type.values_by_number[threshold.scoring].name
    return (
        f"threshold {threshold.value:.4f} ({source.removeprefix('SOURCE_')}, "
        f"FAR {threshold.target_false_accept_rate:g}, {scoring.removeprefix('SCORING_')})"
    )


def _confidence(response) -> str:
    note = f"speech {response.speech_seconds:.1f}s"
    return note + (", LOW CONFIDENCE (short audio)" if response.low_confidence else "")


def cmd_enroll(args) -> int:
    from audiosearch.sdk import errors

    client, failed = args.connect(args), 0
    for path in args.files:
        try:
            response = client.enroll_speaker(args.collection, args.speaker, path)
        except errors.InvalidArgument as error:  # this file (no speech, undecodable...): the others still count
            print(f"{path}: refused ({error.reason}): {error.message}")
            failed += 1
            continue
        outcome = "duplicate" if response.duplicate else "added"
        print(
            f"{path}: {outcome} (clip {response.utterance.id}, speech {response.utterance.audio.speech_seconds:.1f}s);"
            f" {args.speaker} has {len(response.speaker.utterances)} utterance(s)"
        )
    return 1 if failed else 0


def cmd_identify(args) -> int:
    from audiosearch.tools.output import print_json, print_table

    response = args.connect(args).identify_speaker(
        args.collection, audio=args.file, top_k=args.top_k, scoring=args.scoring
    )
    if args.json:
        print_json(response)
        return 0
    if response.speaker_id:
        print(f"speaker: {response.speaker_id}")
    else:
        reason = response.UnknownReason.Name(response.unknown_reason).removeprefix("UNKNOWN_REASON_")
        print(f"speaker: UNKNOWN ({reason})")
    if response.HasField("threshold"):
        print(f"{_threshold(response.threshold)}; {_confidence(response)}")
    print_table(
        ["#", "speaker", "score"], [[n, c.speaker_id, f"{c.score:.4f}"] for n, c in enumerate(response.candidates, 1)]
    )
    return 0


def cmd_verify(args) -> int:
    from audiosearch.tools.output import print_json

    response = args.connect(args).verify_speaker(args.collection, args.speaker, audio=args.file, scoring=args.scoring)
    if args.json:
        print_json(response)
        return 0
    decision = response.Decision.Name(response.decision).removeprefix("DECISION_")
    print(f"{decision}: score {response.score:.4f}, {_threshold(response.threshold)}; {_confidence(response)}")
    return 0 if decision == "ACCEPT" else 3


def _speaker_row(speaker) -> list:
    return [speaker.speaker_id, len(speaker.utterances), f"{speaker.speech_seconds:.1f}s"]


def cmd_list(args) -> int:
    from audiosearch.tools.output import print_json, print_table

    speakers = list(args.connect(args).list_speakers(args.collection))
    if args.json:
        print_json(speakers)
    else:
        print_table(["speaker", "utterances", "speech"], [_speaker_row(s) for s in speakers])
    return 0


def cmd_show(args) -> int:
    from audiosearch.tools.output import print_json, print_table

    speaker = args.connect(args).get_speaker(args.collection, args.speaker)
    if args.json:
        print_json(speaker)
        return 0
    print_table(["speaker", "utterances", "speech"], [_speaker_row(speaker)])
    rows = [
        [c.id, c.source, f"{c.audio.duration_seconds:.2f}s", f"{c.audio.speech_seconds:.2f}s"]
        for c in speaker.utterances
    ]
    print_table(["clip", "source", "duration", "speech"], rows)
    return 0


def cmd_delete(args) -> int:
    deleted = args.connect(args).delete_speaker(args.collection, args.speaker)
    print(f"{args.speaker}: {deleted} utterance(s) deleted" if deleted else f"{args.speaker}: not enrolled")
    return 0


def cmd_calibrate(args) -> int:
    from audiosearch.tools.output import print_json

    response = args.connect(args).calibrate_speakers(args.collection, args.far, args.scoring)
    if args.json:
        print_json(response)
        return 0
    c = response.calibration
    print(
        f"{response.speakers} speakers, {c.positive_trials} target and {c.negative_trials} non-target trials "
        f"({c.scoring}):\n"
        f"  threshold {c.threshold:.4f} at target FAR {c.target_false_positive_rate:g}: "
        f"measured FAR {c.false_positive_rate:.4f}, FRR {c.false_negative_rate:.4f}\n"
        f"  EER {c.equal_error_rate:.4f} at threshold {c.equal_error_threshold:.4f}"
    )
    return 0
