"""The console's HTTP server: the pages (a fixed package folder) and the API mapping, on its own port.

`python -m console.server` (what `audiosearch up` starts) prints "console listening on port N" once it serves.
"""

import asyncio
import logging
import pathlib
import signal
from urllib.parse import urlsplit

import grpc
from aiohttp import web

from audiosearch.runtime.logs import setup_logging
from audiosearch.sdk import services
from audiosearch.sdk.channel import channel_options
from console import config
from console.api import Api, HttpError, error_response
from console.config import ConsoleSettings

log = logging.getLogger("audiosearch.console")
# The only files served: this folder, read by aiohttp's static handler (no symlinks followed, no path above it).
STATIC = pathlib.Path(__file__).resolve().parent / "static"
# The page may call only its own origin, load nothing from elsewhere, and not be framed.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; media-src 'self' blob:; img-src 'self' data:; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
LOOPBACK = ("localhost", "127.0.0.1", "::1")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def dial_gateway(settings: ConsoleSettings) -> grpc.aio.Channel:
    """A grpc.aio channel to the gateway with the SDK's options (retries of idempotent methods), TLS as configured."""
    options = channel_options([service.full_name for service in services.PUBLIC])
    security = settings.security
    if not security.uses_tls:
        return grpc.aio.insecure_channel(settings.gateway_address, options=options)
    if security.tls_server_name:
        options.append(("grpc.ssl_target_name_override", security.tls_server_name))
    return grpc.aio.secure_channel(settings.gateway_address, security.credentials(), options=options)


@web.middleware
async def security_headers(request: web.Request, handler):
    response = await handler(request)
    response.headers.update(SECURITY_HEADERS)
    return response


def request_guard(settings: ConsoleSettings):
    """Refuses what a page of another site could make a browser send: a write from another origin (cross-site
    request forgery: a form can post multipart to localhost), and, on a loopback listen address, any request whose
    Host is not a loopback name (DNS rebinding: another name resolved to 127.0.0.1). curl sends no Origin."""
    loopback_only = settings.host_port[0] in LOOPBACK

    @web.middleware
    async def guard(request: web.Request, handler):
        if loopback_only and urlsplit(f"//{request.host}").hostname not in LOOPBACK:
            return error_response(
                HttpError(
                    grpc.StatusCode.PERMISSION_DENIED,
                    "HOST_NOT_ALLOWED",
                    f"this console listens on {settings.listen}: open it as http://127.0.0.1 or http://localhost",
                )
            )
        origin = request.headers.get("Origin")
        cross_site = request.headers.get("Sec-Fetch-Site") == "cross-site"
        if request.method not in SAFE_METHODS and (cross_site or (origin and urlsplit(origin).netloc != request.host)):
            return error_response(
                HttpError(
                    grpc.StatusCode.PERMISSION_DENIED,
                    "CROSS_ORIGIN",
                    f"a request from {origin or 'another site'} is refused: the console takes calls from its own page",
                )
            )
        return await handler(request)

    return guard


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "index.html")


async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok")


def build_app(settings: ConsoleSettings) -> web.Application:
    """The console app; its gateway channel opens on startup and closes on cleanup."""
    app = web.Application(
        middlewares=[security_headers, request_guard(settings)], client_max_size=settings.max_request_bytes
    )

    api = Api(settings)

    async def channel(app: web.Application):
        api.channel = dial_gateway(settings)  # grpc.aio binds a channel to the running loop: open it in there
        yield
        await api.channel.close()

    app.cleanup_ctx.append(channel)
    app.router.add_routes(api.routes())
    app.router.add_get("/", index)
    app.router.add_get("/healthz", healthz)
    app.router.add_static("/static/", STATIC, follow_symlinks=False)
    return app


async def serve(settings: ConsoleSettings, stop: asyncio.Event) -> None:
    host, port = settings.host_port
    runner = web.AppRunner(build_app(settings), access_log=log if settings.log_level.upper() == "DEBUG" else None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = runner.addresses[0][1]
    print(f"console listening on port {bound}", flush=True)
    log.info("console on http://%s:%d, gateway %s", host, bound, settings.gateway_address)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    settings = config.load()
    setup_logging("console", settings.log_level)

    async def run() -> None:
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await serve(settings, stop)

    asyncio.run(run())


if __name__ == "__main__":
    main()
