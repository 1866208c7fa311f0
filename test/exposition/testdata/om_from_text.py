"""Re-exposes a Prometheus text payload as OpenMetrics 1.0 with python prometheus_client.

Usage: /usr/bin/python3 om_from_text.py INPUT.txt > OUTPUT.om.txt
Used to make node_exporter-1.5.0.om.txt from ../../../../shared/fixtures/exposition/node_exporter-1.5.0.txt.
"""
import sys
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.openmetrics.exposition import generate_latest


class Replay:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


with open(sys.argv[1]) as f:
    fams = list(text_string_to_metric_families(f.read()))
sys.stdout.write(generate_latest(Replay(fams)).decode())
