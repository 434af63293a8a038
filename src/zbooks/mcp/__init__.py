"""``zbooks mcp``: Zoho Books for AI agents over the Model Context Protocol.

A room on top of the SDK (``pip install 'zbooks[mcp]'``): the server's tools call Zoho
through an ``AsyncClient`` (pipeline, rate limiter, token store, typed errors), find
operations in the registry ``zbooks.resources.operations()``, and preview writes with
``zbooks.preview``. Nothing in the core imports this package.

- ``policy``: read-only unless allowed; destructive operations apart;
- ``budget``: ``--max-calls`` per session;
- ``books``: the budgeted door to Zoho;
- ``catalog``: search and describe the operations;
- ``lists``: pages, key fields and cursors for the curated list tools;
- ``server``: the tools on the official SDK's ``MCPServer``;
- ``practice``: an in-process sandbox with demo data for ``--sandbox``;
- ``run``: start-up over stdio or streamable HTTP.
"""
