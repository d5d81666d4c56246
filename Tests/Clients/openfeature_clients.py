"""Drives a running Switchboard with OpenFeature's Python SDK (`openfeature-sdk`) through
the OFREP provider from PyPI (`openfeature-provider-ofrep`), extended with tracking by
`clients/openfeature/switchboard_openfeature.py`. Evaluates typed flags for many units,
checks values, variants, reasons, stickiness and the error codes the SDK reports, tracks
a purchase for some units, and prints what it saw as JSON for the caller to check
against PostgreSQL. Exits non-zero with the failed check.

    python openfeature_clients.py --base URL --api-key K --flags color,checkout,price,layout --output FILE
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "clients", "openfeature"))

from openfeature import api  # noqa: E402
from openfeature.evaluation_context import EvaluationContext  # noqa: E402
from openfeature.exception import ErrorCode  # noqa: E402
from openfeature.flag_evaluation import Reason  # noqa: E402
from openfeature.track import TrackingEventDetails  # noqa: E402
from switchboard_openfeature import SwitchboardProvider  # noqa: E402


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--api-key", required=True)
    parser.add_argument("--flags", required=True, help="the keys of the string, boolean, float and object flags, comma-separated")
    parser.add_argument("--units", type=int, default=40)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    color, checkout, price, layout = args.flags.split(",")

    api.set_provider(SwitchboardProvider(args.base, headers_factory=lambda: {"Authorization": f"Bearer {args.api_key}"}))
    client = api.get_client()
    seen = {"evaluations": [], "tracked": []}
    variants = {color: set(), checkout: set(), price: set(), layout: set()}
    for i in range(args.units):
        unit = f"of-user-{i}"
        context = EvaluationContext(targeting_key=unit, attributes={"age": 30 + i % 20, "country": "NZ"})
        string = client.get_string_details(color, "none", context)
        check(string.error_code is None, f"{color}: {string.error_code} {string.error_message}")
        check(string.value in ("#0000ff", "#00ff00") and string.reason == Reason.SPLIT, f"{color}: {string}")
        again = client.get_string_details(color, "none", context)
        check(again.variant == string.variant, f"{color}: unit {unit} moved from {string.variant} to {again.variant}")
        boolean = client.get_boolean_details(checkout, False, context)
        check(boolean.error_code is None and isinstance(boolean.value, bool), f"{checkout}: {boolean}")
        number = client.get_float_details(price, 1.0, context)
        check(number.error_code is None and number.value in (1.25, 1.5), f"{price}: {number}")
        obj = client.get_object_details(layout, {}, context)
        check(obj.error_code is None and obj.value.get("columns") in (2, 3), f"{layout}: {obj}")
        for flag, details in ((color, string), (color, again), (checkout, boolean), (price, number), (layout, obj)):
            variants[flag].add(details.variant)
            seen["evaluations"].append({"flag": flag, "unit": unit, "variant": details.variant,
                                        "decision_id": details.flag_metadata["decision_id"]})
        if i % 2 == 0:
            client.track("purchase", EvaluationContext(targeting_key=unit), TrackingEventDetails(value=1))
            seen["tracked"].append(unit)
    check(all(len(v) == 2 for v in variants.values()), f"every flag served both variants: {variants}")

    # The error codes the SDK reports; the default value is returned each time.
    context = EvaluationContext(targeting_key="of-user-0")
    cases = [
        (lambda: client.get_string_details("no-such-flag", "dflt", context), ErrorCode.FLAG_NOT_FOUND),
        (lambda: client.get_string_details(color, "dflt", EvaluationContext(attributes={"age": 3})), ErrorCode.TARGETING_KEY_MISSING),
        (lambda: client.get_float_details(price, 9.0, EvaluationContext(targeting_key="x", attributes={"age": "old"})), ErrorCode.INVALID_CONTEXT),
        (lambda: client.get_float_details(price, 9.0, EvaluationContext(targeting_key="x")), ErrorCode.INVALID_CONTEXT),
        (lambda: client.get_boolean_details(color, True, context), ErrorCode.TYPE_MISMATCH),
    ]
    for call, code in cases:
        details = call()
        check(details.error_code == code, f"expected {code}, got {details.error_code}: {details.error_message}")
        check(details.reason == Reason.ERROR, f"{code}: reason {details.reason}")
    api.set_provider(SwitchboardProvider(args.base, headers_factory=lambda: {"Authorization": "Bearer not-a-key"}))
    denied = api.get_client().get_string_details(color, "dflt", context)
    check(denied.value == "dflt" and denied.error_code == ErrorCode.GENERAL and "unauthorized" in (denied.error_message or ""),
          f"a wrong key: {denied}")
    with open(args.output, "w") as f:
        json.dump(seen, f)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"check failed: {e}", file=sys.stderr)
        sys.exit(1)
