"""The inspector: a page at the sandbox's ``/`` to look into its state while a client runs.

Organizations with record counts per module, records to browse, search and open as JSON,
the live request log, webhook deliveries with their attempts, the clock (with a button
to advance it) and the fault rules. Plain HTML, CSS and JavaScript served from this
package: no build step, nothing fetched from the internet.

Access needs the control token, like the control plane: paste it into the login form,
or open the one-time link ``zbooks sandbox serve`` prints. Either gives an HttpOnly,
SameSite=Strict session cookie; the page's own API (``/_sandbox/inspector/api/*``)
accepts only that cookie, from loopback clients, and its writes also need the
``X-Zbooks-Inspector`` header, which a cross-site form cannot send.
"""

from __future__ import annotations

from zbooks.sandbox.inspector.auth import InspectorAuth
from zbooks.sandbox.inspector.routes import inspector_routes

__all__ = ["InspectorAuth", "inspector_routes"]
