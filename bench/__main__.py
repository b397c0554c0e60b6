"""``python -m bench [--quick]``: run every benchmark and write bench/results.md."""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from bench.harness import FAKE_CREDENTIALS, make_endpoint
from bench.report import render
from bench.suite import Sizes, run_suite
from localdev.endpoint import MOTO, EndpointUnavailable, check_choice

SECTIONS = ("baseline", "floor", "migrate", "restore", "dump_tool", "scaling", "stream", "stream_sizes", "backup")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a couple of minutes")
    parser.add_argument("--events", type=int, help="events in the backfill data set")
    parser.add_argument("--participants", type=int, help="participants in the backfill data set")
    parser.add_argument("--scaling", help="comma-separated event counts for the size sweep")
    parser.add_argument("--baseline-seconds", type=float, help="time cap of the seed's algorithm")
    parser.add_argument("--stream-batches", type=int, help="batches per stream path workload")
    parser.add_argument("--only", help=f"comma-separated sections of {','.join(SECTIONS)}")
    parser.add_argument("--endpoint", default=MOTO, metavar="moto|dynamodb-local|URL",
                        help="what to measure against (default moto; a URL must hold no tables: every "
                             "measurement drops them all)")
    parser.add_argument("--in-process-endpoint", action="store_true",
                        help="run moto in this process (shares the GIL with the code measured)")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("results.md"))
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for noisy in ("botocore", "urllib3", "backfill", "chalicelib", "werkzeug", "dynamo-evolve"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    sizes = Sizes.quick() if args.quick else Sizes()
    overrides = {
        "events": args.events,
        "participants": args.participants,
        "baseline_seconds": args.baseline_seconds,
        "stream_batches": args.stream_batches,
        "scaling": tuple(int(n) for n in args.scaling.split(",")) if args.scaling else None,
    }
    sizes = Sizes(**{**sizes.__dict__, **{k: v for k, v in overrides.items() if v is not None}})
    sections = set(args.only.split(",")) if args.only else set(SECTIONS)
    # One set of placeholder keys for the whole run: DynamoDB Local keeps tables per access key,
    # so the endpoint's resets and the measured sessions must use the same ones.
    os.environ.update(AWS_ACCESS_KEY_ID=FAKE_CREDENTIALS["aws_access_key_id"],
                      AWS_SECRET_ACCESS_KEY=FAKE_CREDENTIALS["aws_secret_access_key"])
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE"):
        os.environ.pop(name, None)
    try:
        check_choice(args.endpoint)
    except ValueError as error:
        raise SystemExit(f"python -m bench: --endpoint: {error}") from None
    if args.endpoint != MOTO:
        kind = f"{args.endpoint} (tables dropped, recreated and reseeded before every measurement)"
    elif args.in_process_endpoint:
        kind = "moto server in this process (ThreadedMotoServer)"
    else:
        kind = "moto server in a separate process, reset and reseeded before every measurement"
    try:
        with make_endpoint(args.endpoint, args.in_process_endpoint) as endpoint:
            results = run_suite(endpoint, sizes, sections)
    except EndpointUnavailable as error:
        raise SystemExit(f"python -m bench: {error}") from None
    text = render(results, kind)
    args.out.write_text(text + "\n", encoding="utf-8")
    print(text)
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
