"""The fixes security rules attach (applied by hand here; the fix engine lives elsewhere):
`yaml.safe_load()` for unsafe YAML loading and `hmac.compare_digest()` with its import."""

from __future__ import annotations

from backend_expert.engine import run_sources
from backend_expert.findings import Applicability, Edit
from backend_expert.fixes import apply_edits


def apply(text: str, edits: tuple[Edit, ...]) -> str:
    return apply_edits(text, edits)


def fixed(code: str, slug: str) -> str:
    [finding] = [f for f in run_sources({"app.py": code}).findings if f.slug == slug]
    assert finding.fix is not None
    assert finding.fix.applicability == Applicability.UNSAFE
    return apply(code, finding.fix.edits)


def test_yaml_load_becomes_safe_load():
    code = (
        "import yaml\n\n\ndef read(path):\n    return yaml.load(open(path), Loader=yaml.Loader)\n"
    )
    assert fixed(code, "insecure-deserialization") == (
        "import yaml\n\n\ndef read(path):\n    return yaml.safe_load(open(path))\n"
    )


def test_compare_becomes_compare_digest_and_imports_hmac():
    code = (
        '"""Webhooks."""\n'
        "import hashlib\n"
        "from flask import request\n\n\n"
        "def check(key, body):\n"
        "    if hashlib.sha256(key + body).hexdigest() != request.headers['X-Sig']:\n"
        "        return False\n"
        "    return True\n"
    )
    assert fixed(code, "insecure-compare") == (
        '"""Webhooks."""\n'
        "import hashlib\n"
        "import hmac\n"
        "from flask import request\n\n\n"
        "def check(key, body):\n"
        "    if not hmac.compare_digest(hashlib.sha256(key + body).hexdigest(), "
        "request.headers['X-Sig']):\n"
        "        return False\n"
        "    return True\n"
    )
