"""Parse text exposition from stdin with prometheus_client; print samples as JSON.

Used by the Rust integration tests as an independent parser (client_rust's
cross-check idea). Exits non-zero, with the parser's message, on bad input.
Values are printed with repr() ("1.5", "nan", "inf") because JSON has no NaN.
"""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

samples = []
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        samples.append({"family": family.name, "type": family.type, "name": s.name,
                        "help": family.documentation,
                        "labels": s.labels, "value": repr(float(s.value))})
json.dump(samples, sys.stdout)
