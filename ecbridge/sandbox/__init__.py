"""The platform sandbox: fake platforms that speak each platform's published API.

It is a separate WSGI application (Flask) with its own storage, never importing the clients'
code. ``make run`` serves it as its own process; tests mount it in-process with
``SandboxTransport``."""
