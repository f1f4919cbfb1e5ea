"""The MCP server: tools for assistants, over stdio and streamable HTTP."""
