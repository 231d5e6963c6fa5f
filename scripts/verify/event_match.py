"""Matches EventBridge events against event patterns with moto's own rule-matching engine.

moto 5.2.5 does not implement the TestEventPattern API (its handler is a stub), so this calls the
engine moto's PutEvents routing uses (moto.events.models.EventPattern), which implements EventBridge
content filtering (exact, prefix, suffix, anything-but, numeric, exists, equals-ignore-case, wildcard).
stdin: [{"pattern": "<json string>", "event": {...}}]; stdout: [true|false|"error: ..."].
"""
import json
import sys

from moto.events.models import EventPattern


def main() -> int:
    out = []
    for case in json.load(sys.stdin):
        try:
            out.append(bool(EventPattern.load(case["pattern"]).matches_event(case["event"])))
        except Exception as err:  # an invalid pattern is a finding, not a crash
            out.append(f"error: {type(err).__name__}: {err}")
    json.dump(out, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
