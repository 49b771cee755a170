"""Drives `opkit serve --mcp` with the official MCP Python SDK as the client.

Usage: python3 smoke.py ROOT COMMAND [ARG...]

Launches the server as an agent would, `COMMAND ARG...` (say `opkit serve --mcp
--allow-read=ROOT --allow-write=ROOT`) over stdio in the folder ROOT, lists the tools,
calls a sync op (`op_cwd`), async ones (`op_write_text_file`, `op_stat`, through the
executor), reads an error result, and prints what it saw as one JSON object for the
Rust test (cli/tests/mcp.rs) to check.
"""

import asyncio
import json
import sys

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client


async def main(root: str, command: str, args: list[str]) -> None:
    server = StdioServerParameters(command=command, args=args, cwd=root)
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            init = await session.initialize()
            await session.send_ping()
            listed = await session.list_tools()
            tools = {tool.name: tool for tool in listed.tools}
            stat_tool = tools["op_stat"]

            cwd = await session.call_tool("op_cwd", {})
            wrote = await session.call_tool(
                "op_write_text_file", {"path": "hello.txt", "text": "hello, agent"}
            )
            stat = await session.call_tool("op_stat", {"path": "hello.txt"})
            text = await session.call_tool("op_read_text_file", {"path": "hello.txt"})
            missing = await session.call_tool("op_stat", {"path": "no-such-file"})

            print(
                json.dumps(
                    {
                        "protocol": init.protocolVersion,
                        "server": init.serverInfo.name,
                        "tools": len(tools),
                        "stat_description": stat_tool.description.splitlines()[0],
                        "stat_input_required": stat_tool.inputSchema.get("required"),
                        "stat_output_has_result": "result"
                        in (stat_tool.outputSchema or {}).get("properties", {}),
                        "cwd": cwd.structuredContent["result"],
                        "wrote_error": wrote.isError,
                        "size": stat.structuredContent["result"]["size"],
                        "is_file": stat.structuredContent["result"]["is_file"],
                        "text": text.structuredContent["result"],
                        "text_content": json.loads(text.content[0].text)["result"],
                        "missing_error": missing.isError,
                        "missing_meta": (missing.meta or {}).get("opkit/error"),
                        "missing_text": missing.content[0].text,
                    },
                    sort_keys=True,
                )
            )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
