"""Lints IAM policy documents with parliament and applies the reasoned suppressions.

stdin: {"docs": [{"id": "<stack>:<address> <attr>", "kind": "identity|trust|key|resource", "policy": {...}}],
        "wildcardActions": [...], "suppressions": "<path to parliament-suppressions.yaml>"}
stdout: {"findings": [...], "suppressed": [...], "stale": [...]}; each finding {id, issue, severity, detail}.
The caller already substituted realistic ARNs for Terraform references.
"""
import fnmatch
import json
import sys

import yaml
from parliament import analyze_policy_string


def load_suppressions(path):
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    entries = doc.get("suppressions")
    if not isinstance(entries, list):
        raise SystemExit(f"{path}: top-level 'suppressions' must be a list")
    for i, e in enumerate(entries):
        where = f"{path}: suppressions[{i}]"
        if not isinstance(e, dict) or not isinstance(e.get("issue"), str):
            raise SystemExit(f"{where}.issue: must name a parliament issue code like UNKNOWN_ACTION")
        if not isinstance(e.get("resources"), list) or not e["resources"]:
            raise SystemExit(f"{where}.resources: must be a non-empty list of '<stack glob>:<address glob>'")
        if not isinstance(e.get("reason"), str) or len(e["reason"].strip()) < 20:
            raise SystemExit(f"{where}.reason: must explain why in at least 20 characters")
        e["used"] = 0
    return entries


def main() -> int:
    req = json.load(sys.stdin)
    wildcard_ok = set(req.get("wildcardActions") or [])
    entries = load_suppressions(req["suppressions"])
    findings, suppressed = [], []
    seen = set()
    for doc in req["docs"]:
        policy = analyze_policy_string(json.dumps(doc["policy"]), include_community_auditors=False)
        for f in policy.findings:
            detail = f.detail if isinstance(f.detail, (str, list, dict)) or f.detail is None else str(f.detail)
            if f.issue == "RESOURCE_STAR":
                if doc["kind"] == "key":
                    continue  # Resource "*" in a key policy means the key itself
                remaining = [a for a in (detail or []) if a not in wildcard_ok]
                if not remaining:
                    continue
                detail = remaining
            item = {"id": doc["id"], "issue": f.issue, "severity": f.severity, "detail": detail}
            key = json.dumps(item, sort_keys=True)
            if key in seen:
                continue  # parliament repeats a finding once per action an s3:* expands to
            seen.add(key)
            address = doc["id"].split(" ")[0]
            hit = None
            for e in entries:
                if e["issue"] != f.issue:
                    continue
                if e.get("detail_contains") and e["detail_contains"] not in json.dumps(detail):
                    continue
                if any(fnmatch.fnmatchcase(address, r) for r in e["resources"]):
                    hit = e
                    break
            if hit:
                hit["used"] += 1
                suppressed.append({**item, "reason": hit["reason"]})
            else:
                findings.append(item)
    stale = [{"issue": e["issue"], "resources": e["resources"]} for e in entries if not e["used"]]
    json.dump({"findings": findings, "suppressed": suppressed, "stale": stale}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
