"""Prints every sample of an exposition page as parsed by prometheus_client's own
parsers (the reference), one JSON object per line: {"name", "labels", "value"}.
Values are strings ("NaN", "+Inf" as Python prints them) so nothing is lost.

Usage: python reference_parse.py {text|openmetrics} PAGE > PAGE.reference.jsonl
"""

import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families as om_parse
from prometheus_client.parser import text_string_to_metric_families as text_parse


def main():
    kind, path = sys.argv[1], sys.argv[2]
    parse = om_parse if kind == "openmetrics" else text_parse
    with open(path, encoding="utf-8") as page:
        for family in parse(page.read()):
            for sample in family.samples:
                print(json.dumps({
                    "name": sample.name,
                    "labels": dict(sorted(sample.labels.items())),
                    "value": repr(float(sample.value)),
                }, sort_keys=True))


if __name__ == "__main__":
    main()
