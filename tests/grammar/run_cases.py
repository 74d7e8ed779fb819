#!/usr/bin/env python3
"""Replays tests/grammar/*.cases through `usher parse --json` and checks each parse.

usage: run_cases.py --usher PATH [--grammars DIR] FILE.cases

Case lines:   UTTERANCE  =>  INTENT [MEDIA] [key=value ...]
  keys: title="..." (a JSON string), year=N, seasons=N[,N...]|all|latest, episode=N,
        quality=4k, choice=N, rule=NAME, source=grammar|none
  MEDIA (movie, tv, other, any) defaults to any. Every field not listed must be empty
  (null, "any"); rule and source are only checked when listed.
Blank lines and lines starting with # are ignored. All cases run in one `usher parse`.
Exit status 1 when any case fails, with one diff per failing case.
"""
import argparse
import json
import re
import subprocess
import sys

TOKEN = re.compile(r'\w+="(?:[^"\\]|\\.)*"|\S+')
MEDIA = {"movie", "tv", "other", "any"}
EMPTY = {"title": None, "year": None, "seasons": None, "episode": None, "quality": None,
         "choice": None, "media": "any"}


def parse_expect(spec, where):
    toks = [m.group(0) for m in TOKEN.finditer(spec)]
    if not toks:
        raise SystemExit(f"{where}: nothing after =>")
    want = dict(EMPTY)
    want["intent"] = toks.pop(0)
    if toks and toks[0] in MEDIA:
        want["media"] = toks.pop(0)
    for t in toks:
        if "=" not in t:
            raise SystemExit(f"{where}: expected key=value, got {t!r}")
        k, v = t.split("=", 1)
        if k == "title":
            want[k] = json.loads(v)
        elif k in ("year", "episode", "choice"):
            want[k] = int(v)
        elif k == "seasons":
            want[k] = v if v in ("all", "latest") else [int(x) for x in v.split(",")]
        elif k in ("quality", "rule", "source"):
            want[k] = v
        else:
            raise SystemExit(f"{where}: unknown key {k!r}")
    return want


def load(path):
    cases = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            s = line.rstrip("\n")
            if not s.strip() or s.lstrip().startswith("#"):
                continue
            if "=>" not in s:
                raise SystemExit(f"{path}:{n}: no =>")
            text, spec = s.rsplit("=>", 1)
            cases.append((n, text.strip(), parse_expect(spec.strip(), f"{path}:{n}")))
    return cases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--usher", required=True)
    ap.add_argument("--grammars")
    ap.add_argument("file")
    a = ap.parse_args()
    cases = load(a.file)
    cmd = [a.usher, "parse", "--json"]
    if a.grammars:
        cmd += ["--grammars", a.grammars]
    stdin = "".join(t + "\n" for _, t, _ in cases)
    p = subprocess.run(cmd, input=stdin.encode(), capture_output=True, timeout=100)
    if p.returncode != 0:
        sys.exit(f"usher parse exited {p.returncode}: {p.stderr.decode(errors='replace')}")
    out = [json.loads(l) for l in p.stdout.decode().splitlines() if l.strip()]
    if len(out) != len(cases):
        sys.exit(f"{len(cases)} cases but {len(out)} parses")
    failed = 0
    for (n, text, want), got in zip(cases, out):
        diffs = [f"    {k}: want {json.dumps(v, ensure_ascii=False)}, got "
                 f"{json.dumps(got.get(k), ensure_ascii=False)}"
                 for k, v in want.items() if got.get(k) != v]
        if diffs:
            failed += 1
            print(f"{a.file}:{n}: {text}  [rule {got.get('rule')}]")
            print("\n".join(diffs))
    print(f"{len(cases) - failed}/{len(cases)} cases pass")
    sys.exit(1 if failed else 0)


main()
