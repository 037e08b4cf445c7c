"""Parses a /metrics text with PyPI prometheus_client's two parsers and
prints what they read, for std-server/socketio/tests/metrics.rs.

    python parse_metrics.py < scrape.txt

The OpenMetrics parser (strict: types, `_total` suffixes, `# EOF`) and the
Prometheus text-format parser must both accept the text. Prints one JSON
object: {"families": {name: type}, "samples": {"name{k=v,...}": value}}
from the OpenMetrics parse; exits 1 with the parser's error otherwise.
"""
import json
import sys

from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families as text_families


def key(sample):
    labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
    return f"{sample.name}{{{labels}}}"


def main():
    text = sys.stdin.read()
    try:
        families = list(openmetrics_families(text))
        # The classic text format has no `# EOF`; its parser skips comments.
        classic = list(text_families(text))
    except Exception as e:  # the parsers raise ValueError and others
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        sys.exit(1)
    out = {"families": {}, "samples": {}, "classic_families": len(classic)}
    for f in families:
        out["families"][f.name] = f.type
        for s in f.samples:
            out["samples"][key(s)] = s.value
    print(json.dumps(out))


main()
