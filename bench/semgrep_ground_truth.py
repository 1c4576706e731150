"""Score bex's security rules against the test files of semgrep's rule registry.

semgrep-rules (https://github.com/semgrep/semgrep-rules) ships, next to each YAML rule, a
Python file whose lines are annotated: `# ruleid: <id>` on the line before code the rule
must match, `# ok: <id>` before code it must not match. Those annotations are ground truth
written by people other than us. This script maps semgrep rule ids to bex slugs (the table
below), runs bex on every annotated file, one file per in-memory project (the files are
snippets: most have no framework import and no dependency file, and bex's framework
detection is left as it is), and prints per bex concept:

    ruleid lines found / total      ok lines flagged / total

A ruleid line counts as found when bex reports the mapped slug on a line of the statement
that starts on the annotated line; when that statement is an assignment (semgrep's taint
matches start where the source is read), anywhere in the rest of its function. An ok line
counts as flagged when bex reports the slug on its own statement. The semgrep files are licensed LGPL-2.1 with the Commons
Clause: keep the checkout outside this repository and never copy them in. Only the numbers
go to BENCHMARKS.md.

Usage: python bench/semgrep_ground_truth.py /work/corpora/semgrep-rules [--details SLUG]
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections import defaultdict
from pathlib import Path

from backend_expert.engine import run_sources

# The folders the benchmark reads (relative to the checkout).
FOLDERS = (
    "python/flask",
    "python/django",
    "python/sqlalchemy",
    "python/fastapi",
    "python/lang/security",
    "python/jwt",
    "python/requests",
)

# semgrep rule id -> bex slug. Audit rules that flag every use of an API whatever the data
# (e.g. `avoid-sqlalchemy-text`, `insecure-hash-algorithm-md5`) are left out on purpose:
# bex only reports uses fed by values it cannot prove constant.
MAPPING: dict[str, str] = {
    # sql-injection
    "tainted-sql-string": "sql-injection",
    "sqlalchemy-execute-raw-query": "sql-injection",
    "sqlalchemy-sql-injection": "sql-injection",
    "sql-injection-db-cursor-execute": "sql-injection",
    "sql-injection-using-rawsql": "sql-injection",
    "sql-injection-using-raw": "sql-injection",
    "sql-injection-using-extra-where": "sql-injection",
    "formatted-sql-query": "sql-injection",
    "asyncpg-sqli": "sql-injection",
    "psycopg-sqli": "sql-injection",
    "pg8000-sqli": "sql-injection",
    "aiopg-sqli": "sql-injection",
    # shell-injection
    "subprocess-injection": "shell-injection",
    "os-system-injection": "shell-injection",
    "command-injection-os-system": "shell-injection",
    "dangerous-system-call": "shell-injection",
    "subprocess-shell-true": "shell-injection",
    "dangerous-asyncio-shell": "shell-injection",
    # code-injection
    "user-eval": "code-injection",
    "user-exec": "code-injection",
    "user-eval-format-string": "code-injection",
    "user-exec-format-string": "code-injection",
    "eval-injection": "code-injection",
    "exec-injection": "code-injection",
    "eval-detected": "code-injection",
    "exec-detected": "code-injection",
    # insecure-deserialization
    "insecure-deserialization": "insecure-deserialization",
    "avoid-insecure-deserialization": "insecure-deserialization",
    "avoid-pickle": "insecure-deserialization",
    "avoid-cPickle": "insecure-deserialization",
    "avoid-dill": "insecure-deserialization",
    "avoid-shelve": "insecure-deserialization",
    "avoid-jsonpickle": "insecure-deserialization",
    "marshal-usage": "insecure-deserialization",
    "avoid-pyyaml-load": "insecure-deserialization",
    # xss
    "raw-html-format": "xss",
    "avoid-mark-safe": "xss",
    "reflected-data-httpresponse": "xss",
    "direct-use-of-httpresponse": "xss",
    "explicit-unescape-with-markup": "xss",
    "response-contains-unsanitized-input": "xss",
    "formathtml-fstring-parameter": "xss",
    # path-traversal
    "path-traversal-open": "path-traversal",
    "path-traversal-join": "path-traversal",
    "path-traversal-file-name": "path-traversal",
    "request-data-fileresponse": "path-traversal",
    # flask pack (rules of the Flask helper; 0 found means the rule is not on this branch)
    "render-template-string": "flask-ssti",
    "dangerous-template-string": "flask-ssti",
    "avoid_send_file_without_path_sanitization": "flask-send-file-path",
    # tls-verify-disabled
    "disabled-cert-validation": "tls-verify-disabled",
    "unverified-ssl-context": "tls-verify-disabled",
    # hardcoded-secret
    "avoid_hardcoded_config_SECRET_KEY": "hardcoded-secret",
    # weak-password-hash
    "md5-used-as-password": "weak-password-hash",
    # jwt-unverified
    "unverified-jwt-decode": "jwt-unverified",
    "jwt-python-none-alg": "jwt-unverified",
    # cors-wildcard-credentials
    "wildcard-cors": "cors-wildcard-credentials",
    # missing-request-timeout
    "use-timeout": "missing-request-timeout",
}

ANNOTATION = re.compile(r"#\s*(ruleid|ok)\s*:\s*([\w.,\s-]+)")


def annotations(text: str) -> list[tuple[str, int, str]]:
    """(kind, line of the annotated code, semgrep id) for each annotation in the file."""
    lines = text.splitlines()
    found = []
    for index, line in enumerate(lines):
        match = ANNOTATION.search(line)
        if match is None:
            continue
        kind = match.group(1)
        target = index + 1
        if line.strip().startswith("#"):  # annotation alone: the code is on the next code line
            target = index + 1
            while target < len(lines) and (
                not lines[target].strip() or lines[target].strip().startswith("#")
            ):
                target += 1
            target += 1
        else:
            target = index + 1  # trailing annotation: the code is on this very line
        for rule_id in match.group(2).split(","):
            rule_id = rule_id.strip().rpartition(".")[2]
            if rule_id:
                found.append((kind, target, rule_id))
    return found


def statement_spans(text: str, extend: bool = True) -> dict[int, tuple[int, int]]:
    """First line of each statement -> (first, last) line (the smallest statement wins)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return {}
    spans: dict[int, tuple[int, int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt):
            start, end = node.lineno, node.end_lineno or node.lineno
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                end = start if not node.decorator_list else node.body[0].lineno - 1
            if isinstance(node, ast.If | ast.For | ast.While | ast.With | ast.Try):
                end = node.body[0].lineno - 1 if node.body else start
            known = spans.get(start)
            if known is None or (end - start) < (known[1] - known[0]):
                spans[start] = (start, max(start, end))
    # semgrep matches that span several statements start at their first line: a setup line
    # (`opts = {...}` then `jwt.decode(..., options=opts)`) or, in taint mode, the line
    # where the source is read (`code = request.POST.get("code")` ... `eval(code)`). An
    # annotated assignment therefore stands for the rest of its block.
    for body in _bodies(tree) if extend else ():
        for stmt in body[:-1]:
            if isinstance(stmt, ast.Assign | ast.AnnAssign):
                last = body[-1]
                spans[stmt.lineno] = (stmt.lineno, last.end_lineno or last.lineno)
    return spans


def _bodies(tree: ast.AST) -> list[list[ast.stmt]]:
    """Bodies of functions (module-level snippets are independent examples)."""
    return [
        node.body
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def score(root: Path, details: str | None = None) -> dict[str, list[int]]:
    """slug -> [ruleid found, ruleid total, ok flagged, ok total]."""
    table: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    files = sorted(p for folder in FOLDERS for p in (root / folder).rglob("*.py"))
    for number, path in enumerate(files):
        if path.name.endswith(".fixed.py"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        wanted = [(k, line, MAPPING[i]) for k, line, i in annotations(text) if i in MAPPING]
        if not wanted:
            continue
        result = run_sources({f"pkg/m{number}.py": text})
        spans = statement_spans(text)
        plain = statement_spans(text, extend=False)  # ok annotations mark the sink itself
        reported = defaultdict(set)
        for finding in result.findings:
            for line in range(finding.line, finding.end_line + 1):
                reported[finding.slug].add(line)
        seen: set[tuple[str, int, str]] = set()
        for kind, line, slug in wanted:
            if (kind, line, slug) in seen:
                continue
            seen.add((kind, line, slug))
            first, last = (spans if kind == "ruleid" else plain).get(line, (line, line))
            hit = any(n in reported[slug] for n in range(first, last + 1))
            row = table[slug]
            if kind == "ruleid":
                row[0] += hit
                row[1] += 1
            else:
                row[2] += hit
                row[3] += 1
            if details == slug and (hit != (kind == "ruleid")):
                what = "missed" if kind == "ruleid" else "false positive"
                rel = path.relative_to(root)
                print(f"{what}: {rel}:{line}", file=sys.stderr)
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="a checkout of semgrep/semgrep-rules")
    parser.add_argument("--details", metavar="SLUG", help="list misses and false positives")
    args = parser.parse_args(argv)
    table = score(args.root, args.details)
    print(f"{'concept':<28} {'ruleid found':>14} {'ok flagged':>12}")
    for slug in sorted(table):
        found, total, flagged, oks = table[slug]
        print(f"{slug:<28} {f'{found}/{total}':>14} {f'{flagged}/{oks}':>12}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
