"""`bex mcp` through the SDK's real client: in process, and end to end over stdio."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import anyio
import pytest

pytest.importorskip("mcp")
from mcp import Client, ClientSession, StdioServerParameters, stdio_client

from backend_expert.cli import main
from backend_expert.mcp_guard import MAX_CONTENT_BYTES
from backend_expert.mcp_server import create_server
from backend_expert.rules import rule_by_id
from backend_expert.rules.base import MARKER
from backend_expert.skill import skill_text

BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"
TOOLS = {"check", "explain_rule", "list_rules", "propose_fixes", "review_project"}


@pytest.fixture
def project(write_project, tmp_path_factory):
    root = write_project({"svc/__init__.py": "", "svc/jobs.py": BLOCKING, "svc/ok.py": "x = 1\n"})
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.py").write_text(BLOCKING)
    os.symlink(outside / "secret.py", root / "svc" / "linked.py")
    os.symlink(outside, root / "elsewhere")
    return root


def call(root: Path, *calls: tuple[str, dict]) -> list:
    async def go():
        async with Client(create_server(root)) as client:
            return [await client.call_tool(name, arguments) for name, arguments in calls]

    return anyio.run(go)


def test_tools_are_listed_with_schemas_and_hints(project):
    async def go():
        async with Client(create_server(project)) as client:
            return (await client.list_tools()).tools

    tools = {tool.name: tool for tool in anyio.run(go)}
    assert set(tools) == TOOLS
    assert all(tool.output_schema for tool in tools.values())
    assert tools["check"].annotations.read_only_hint is True
    assert tools["propose_fixes"].annotations.destructive_hint is True
    assert "findings" in tools["check"].output_schema["properties"]
    # The skill (`bex skill`) names these tools: they must be the server's.
    section = skill_text(main).split("## Through MCP")[1]
    assert set(re.findall(r"`([a-z_]+)`", section)) >= TOOLS


def test_check_inline_content_finds_the_blocking_call(project):
    [result] = call(project, ("check", {"content": BLOCKING, "filename": "svc/new.py"}))
    assert not result.is_error
    [finding] = result.structured_content["findings"]
    assert (finding["code"], finding["path"], finding["line"]) == ("BEX601", "svc/new.py", 5)
    assert finding["hint"]


def test_check_select_keeps_some_rules_and_refuses_typos(project):
    kept, dropped, typo = call(
        project,
        ("check", {"content": BLOCKING, "select": ["async"]}),
        ("check", {"content": BLOCKING, "select": ["BEX1"]}),
        ("check", {"content": BLOCKING, "select": ["asinc"]}),
    )
    assert [f["code"] for f in kept.structured_content["findings"]] == ["BEX601"]
    assert dropped.structured_content["findings"] == []
    assert typo.is_error and "asinc" in typo.content[0].text


def test_check_paths_and_the_root_refusals(project):
    absolute, inside, outside, link, linked_dir, big, parent = call(
        project,
        ("check", {"paths": [str(project / "svc" / "jobs.py")]}),
        ("check", {"paths": ["svc"]}),
        ("check", {"paths": [str(project.parent)]}),
        ("check", {"paths": ["svc/linked.py"]}),
        ("check", {"paths": ["elsewhere/secret.py"]}),
        ("check", {"content": "x = 1\n" * (MAX_CONTENT_BYTES // 6 + 1)}),
        ("check", {"content": "x = 1\n", "filename": "../escape.py"}),
    )
    assert [f["path"] for f in absolute.structured_content["findings"]] == ["svc/jobs.py"]
    assert not inside.is_error
    # The link inside svc/ points out of the root: it is skipped, and said so.
    assert [f["path"] for f in inside.structured_content["findings"]] == ["svc/jobs.py"]
    assert any("linked.py" in w for w in inside.structured_content["warnings"])
    assert outside.is_error and "outside the project root" in outside.content[0].text
    assert link.is_error and "symbolic link" in link.content[0].text
    assert linked_dir.is_error and "symbolic link" in linked_dir.content[0].text
    assert big.is_error and "bytes" in big.content[0].text
    assert parent.is_error and "relative path under the project root" in parent.content[0].text


def test_explain_and_list_rules(project):
    explained, unknown, listed = call(
        project,
        ("explain_rule", {"rule": "async-blocking-call"}),
        ("explain_rule", {"rule": "BEX999"}),
        ("list_rules", {"pack": "fastapi"}),
    )
    assert explained.structured_content["rule"]["code"] == "BEX601"
    assert explained.structured_content["markdown"].startswith("# BEX601")
    assert unknown.is_error and "list_rules" in unknown.content[0].text
    codes = [rule["code"] for rule in listed.structured_content["rules"]]
    assert codes and all(code.startswith("BEX1") for code in codes)


def test_propose_fixes_as_a_diff_and_write_only_when_asked(write_project):
    example = rule_by_id("BEX403").fire[0].sources()
    root = write_project({p: t.replace(f"  {MARKER}", "") for p, t in example.items()})
    views = root / "blog" / "views.py"
    before = views.read_text()
    inline, proposed, refused, written = call(
        root,
        ("propose_fixes", {"content": before, "filename": "blog/views.py"}),
        ("propose_fixes", {"paths": ["blog"]}),
        ("propose_fixes", {"content": before, "filename": "blog/views.py", "write": True}),
        ("propose_fixes", {"paths": ["blog/views.py"], "write": True}),
    )
    diff = inline.structured_content["diff"]
    assert diff.startswith("--- a/blog/views.py\n+++ b/blog/views.py\n")
    assert '+    published = Post.objects.filter(author=author, status="published").count()' in diff
    assert proposed.structured_content["diff"] == diff
    assert proposed.structured_content["written"] is False
    assert refused.is_error and "paths only" in refused.content[0].text
    assert written.structured_content["written"] is True
    assert views.read_text() != before and "len(" not in views.read_text()


def test_review_project_summarises(project):
    [review] = call(project, ("review_project", {}))
    summary = review.structured_content
    assert summary["findings_by_rule"]["BEX601 async-blocking-call"] == 1
    assert summary["top_findings"][0]["path"] == "svc/jobs.py"


@pytest.mark.slow
def test_stdio_end_to_end(project):
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "backend_expert", "mcp"], cwd=str(project)
    )

    async def go():
        with anyio.fail_after(60):
            return await session_calls()

    async def session_calls():
        async with (
            stdio_client(params) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            tools = {tool.name for tool in (await session.list_tools()).tools}
            checked = await session.call_tool("check", {"content": BLOCKING, "filename": "a.py"})
            explained = await session.call_tool("explain_rule", {"rule": "BEX601"})
            refused = await session.call_tool("check", {"paths": ["/"]})
            escaped = await session.call_tool("check", {"paths": ["svc/linked.py"]})
            return tools, checked, explained, refused, escaped

    tools, checked, explained, refused, escaped = anyio.run(go)
    assert tools == TOOLS
    assert [f["code"] for f in checked.structured_content["findings"]] == ["BEX601"]
    assert explained.structured_content["rule"]["slug"] == "async-blocking-call"
    assert refused.is_error and "outside the project root" in refused.content[0].text
    assert escaped.is_error and "symbolic link" in escaped.content[0].text


async def _tool_names(read, write) -> set[str]:
    async with ClientSession(read, write) as session:
        await session.initialize()
        return {tool.name for tool in (await session.list_tools()).tools}


@pytest.mark.slow
def test_streamable_http_on_loopback(project):
    import socket
    import subprocess

    from mcp.client.streamable_http import streamable_http_client

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "backend_expert", "mcp", "--http", "--port", str(port)],
        cwd=project,
        stderr=subprocess.DEVNULL,
    )

    async def go():
        with anyio.fail_after(60):
            while True:  # until the server listens
                try:
                    await anyio.connect_tcp("127.0.0.1", port)
                    break
                except OSError:
                    await anyio.sleep(0.2)
            url = f"http://127.0.0.1:{port}/mcp"
            async with streamable_http_client(url) as (read, write, *_):
                return await _tool_names(read, write)

    try:
        assert anyio.run(go) == TOOLS
    finally:
        server.terminate()
        server.wait(timeout=10)
