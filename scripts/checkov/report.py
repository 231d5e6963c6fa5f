"""Reads checkov's JSON report and the reasoned suppressions; prints passed/failed/suppressed per stack.

checkov's terraform_json runner ignores inline skip comments (checkov 3.3.30 never builds the
suppression context for it, see bridgecrewio/checkov#4634), and cdktf.out is generated, so per-resource
suppressions are applied here: a failed check counts as suppressed only if (check id, stack, resource
address) matches an entry of suppressions.yaml, and every suppressed failure is printed with its reason.

Usage: report.py <checkov.json> <suppressions.yaml> [stacks-dir]
Exit: 0 no unsuppressed failure, 1 failures, 2 bad input (unreadable report, malformed suppressions).
"""
from __future__ import annotations

import fnmatch
import json
import os
import sys
from collections import defaultdict

import yaml

CHECK_ID = __import__("re").compile(r"^CKV2?_[A-Z0-9]+_\d+$")


def die(msg: str) -> None:
    print(f"scan: {msg}", file=sys.stderr)
    sys.exit(2)


def load_suppressions(path: str) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    entries = doc.get("suppressions")
    if not isinstance(entries, list):
        die(f"{path}: top-level 'suppressions' must be a list")
    for i, e in enumerate(entries):
        where = f"{path}: suppressions[{i}]"
        if not isinstance(e, dict):
            die(f"{where}: must be a mapping with check, resources, reason")
        unknown = set(e) - {"check", "resources", "reason"}
        if unknown:
            die(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        if not isinstance(e.get("check"), str) or not CHECK_ID.match(e["check"]):
            die(f"{where}.check: must be a checkov check id like CKV_AWS_18 (got {e.get('check')!r})")
        res = e.get("resources")
        if not isinstance(res, list) or not res or not all(isinstance(r, str) and ":" in r for r in res):
            die(f"{where}.resources: must be a non-empty list of '<stack glob>:<address glob>' (got {res!r})")
        reason = e.get("reason")
        if not isinstance(reason, str) or len(reason.strip()) < 20:
            die(f"{where}.reason: must explain why in at least 20 characters (got {reason!r})")
        e["used"] = 0
    return entries


def stack_of(file_path: str) -> str:
    parts = file_path.replace("\\", "/").split("/")
    return parts[-2] if len(parts) >= 2 else file_path


_type_index: dict[str, dict[tuple[str, str], str]] = {}


def address_of(result: dict, stacks_dir: str | None) -> str:
    """checkov names some resources 'resource.<name>' / 'data.<name>' without the type: look it up."""
    res = result["resource"]
    kind, _, name = res.partition(".")
    if kind not in ("resource", "data") or not stacks_dir:
        return res
    stack = stack_of(result.get("file_abs_path") or result["file_path"])
    if stack not in _type_index:
        idx: dict[tuple[str, str], str] = {}
        try:
            with open(os.path.join(stacks_dir, stack, "cdk.tf.json"), encoding="utf-8") as fh:
                tf = json.load(fh)
            for block in ("resource", "data"):
                for rtype, items in (tf.get(block) or {}).items():
                    for n in items:
                        idx[(block, n)] = rtype
        except OSError:
            pass
        _type_index[stack] = idx
    rtype = _type_index[stack].get((kind, name))
    if not rtype:
        return res
    return f"{rtype}.{name}" if kind == "resource" else f"data.{rtype}.{name}"


def match(entries: list[dict], check: str, stack: str, address: str) -> dict | None:
    for e in entries:
        if e["check"] != check:
            continue
        for pattern in e["resources"]:
            sglob, _, aglob = pattern.partition(":")
            if fnmatch.fnmatchcase(stack, sglob) and fnmatch.fnmatchcase(address, aglob):
                return e
    return None


def main(argv: list[str]) -> int:
    if len(argv) < 3:
        die("usage: report.py <checkov.json> <suppressions.yaml> [stacks-dir]")
    try:
        with open(argv[1], encoding="utf-8") as fh:
            raw = json.load(fh)
    except (OSError, ValueError) as err:
        die(f"cannot read checkov report {argv[1]}: {err}")
    entries = load_suppressions(argv[2])
    stacks_dir = argv[3] if len(argv) > 3 else None
    reports = raw if isinstance(raw, list) else [raw]
    if not reports or not any("results" in r for r in reports):
        die("checkov report has no results: was anything scanned? (use --framework terraform_json)")

    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"passed": 0, "failed": 0, "suppressed": 0, "skipped": 0})
    failures: list[tuple[str, str, str, str]] = []
    suppressed: list[tuple[str, str, str, str]] = []
    parsing_errors: list[str] = []
    for rep in reports:
        results = rep.get("results") or {}
        parsing_errors += results.get("parsing_errors") or []
        for r in results.get("passed_checks") or []:
            counts[stack_of(r["file_path"])]["passed"] += 1
        for r in results.get("skipped_checks") or []:
            counts[stack_of(r["file_path"])]["skipped"] += 1
        for r in results.get("failed_checks") or []:
            stack = stack_of(r["file_path"])
            address = address_of(r, stacks_dir)
            entry = match(entries, r["check_id"], stack, address)
            if entry:
                entry["used"] += 1
                counts[stack]["suppressed"] += 1
                suppressed.append((stack, r["check_id"], address, entry["reason"]))
            else:
                counts[stack]["failed"] += 1
                failures.append((stack, r["check_id"], address, r.get("check_name") or ""))

    print(f"{'stack':<20} {'passed':>7} {'failed':>7} {'suppressed':>11} {'skipped':>8}")
    for stack in sorted(counts):
        c = counts[stack]
        print(f"{stack:<20} {c['passed']:>7} {c['failed']:>7} {c['suppressed']:>11} {c['skipped']:>8}")
    tot = {k: sum(c[k] for c in counts.values()) for k in ("passed", "failed", "suppressed", "skipped")}
    print(f"{'total':<20} {tot['passed']:>7} {tot['failed']:>7} {tot['suppressed']:>11} {tot['skipped']:>8}")
    if suppressed:
        print("\nsuppressed failures, grouped by reason (scripts/checkov/suppressions.yaml):")
        by_reason: dict[tuple[str, str], list[str]] = defaultdict(list)
        for stack, check, address, reason in sorted(suppressed):
            by_reason[(check, reason)].append(f"{stack}:{address}")
        for (check, reason), addresses in by_reason.items():
            print(f"  {check}: {reason}")
            for a in addresses:
                print(f"      {a}")
    unused = [e for e in entries if e["used"] == 0]
    if unused:
        print("\nsuppressions that matched nothing (stale? remove them):")
        for e in unused:
            print(f"  {e['check']} {', '.join(e['resources'])}")
    if parsing_errors:
        print("\ncheckov could not parse:", *parsing_errors, sep="\n  ")
    if failures:
        print("\nFAILED checks:")
        for stack, check, address, name in sorted(failures):
            print(f"  {check:<12} {stack}:{address}  {name}")
    return 1 if failures or parsing_errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
