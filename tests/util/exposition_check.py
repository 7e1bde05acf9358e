"""Parse expositions with prometheus_client's parsers; print the families.

Reads a JSON list of {"id", "format": "openmetrics" | "text", "body"} from
stdin and prints {id: {"families": [...]} | {"error": message}}. The strict
OpenMetrics parser judges "openmetrics" bodies; the text parser "text" ones.
Families use the schema of tests/conformance/openmetrics-parsers/README.md
(derived/expected-normalized.json), so the Rust tests compare them with the
same code.
"""
import json
import math
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
from prometheus_client.parser import text_string_to_metric_families as parse_text


def number(v):
    if isinstance(v, int):
        return str(v)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    return repr(v)


def timestamp(ts):
    if ts is None:
        return None
    if hasattr(ts, "sec"):
        frac = f"{ts.nsec:09d}".rstrip("0")
        return f"{ts.sec}.{frac}" if frac else str(ts.sec)
    return repr(ts)


def family(f):
    return {
        "name": f.name, "type": f.type, "unit": f.unit, "help": f.documentation,
        "samples": [{
            "name": s.name, "labels": dict(sorted(s.labels.items())), "value": number(s.value),
            "timestamp": timestamp(s.timestamp),
            "exemplar": None if s.exemplar is None else {
                "labels": dict(sorted(s.exemplar.labels.items())),
                "value": number(s.exemplar.value), "timestamp": timestamp(s.exemplar.timestamp)},
        } for s in f.samples],
    }


results = {}
for case in json.load(sys.stdin):
    parse = parse_om if case["format"] == "openmetrics" else parse_text
    try:
        results[case["id"]] = {"families": [family(f) for f in parse(case["body"])]}
    except Exception as e:  # the verdict is the point: any exception is a rejection
        results[case["id"]] = {"error": f"{type(e).__name__}: {e}"}
json.dump(results, sys.stdout)
