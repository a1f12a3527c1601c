"""One server interceptor for every Studio RPC: admission, error mapping and metrics.

* Admission (:class:`~.admission.Door`): failed-auth backoff, the bearer token (it names the
  ama; the handler reads it from :data:`current_ama` and its plan from :data:`current_plan`),
  the ama's request rate. Health checking and reflection need no token.
* Errors: a :class:`~.errors.StudioError` (or a personality store error)
  raised by a handler ends the call with its status code and message.
* Metrics: requests by method and code, latency, active streams, bytes in/out.
  A cancelled or disconnected stream runs its ``finally`` blocks, so the
  active-streams gauge always comes back down.
"""

from __future__ import annotations

import asyncio
import contextvars
import time

import grpc

from instrument_agent.personality import (
    BundleCorruptError,
    BundleNotFoundError,
    BundleSchemaError,
    PersonalityError,
    UnknownDeuError,
    UnknownVersionError,
)
from studio_operator.server.admission import Door
from studio_operator.server.errors import StudioError
from studio_operator.server.metrics import StudioMetrics

__all__ = ["StudioInterceptor", "current_ama", "current_plan", "status_of"]

current_ama: contextvars.ContextVar[str] = contextvars.ContextVar("amadeus_ama", default="")
"""The authenticated ama of the RPC being served (``""`` when authentication is off)."""
current_plan: contextvars.ContextVar[str] = contextvars.ContextVar("amadeus_plan", default="unlimited")
"""The plan of that ama."""

_EXEMPT = ("/grpc.health.", "/grpc.reflection.")


def status_of(exc: BaseException) -> tuple[grpc.StatusCode, str] | None:
    """The gRPC status an expected exception maps to (None: an unexpected error)."""
    if isinstance(exc, StudioError):
        return exc.code, str(exc)
    if isinstance(exc, (UnknownDeuError, UnknownVersionError, BundleNotFoundError)):
        return grpc.StatusCode.NOT_FOUND, str(exc)
    if isinstance(exc, BundleCorruptError):
        return grpc.StatusCode.DATA_LOSS, str(exc)
    if isinstance(exc, BundleSchemaError):
        return grpc.StatusCode.FAILED_PRECONDITION, str(exc)
    if isinstance(exc, (PersonalityError, ValueError)):
        return grpc.StatusCode.INVALID_ARGUMENT, str(exc)
    return None


class _Call:
    """Bookkeeping of one RPC: bytes, code, latency, stream gauge."""

    def __init__(self, metrics: StudioMetrics, method: str, streaming: bool):
        self.metrics, self.method, self.streaming = metrics, method, streaming
        self.started = time.perf_counter()
        if streaming:
            metrics.active_streams.labels(method).inc()

    def received(self, message) -> None:
        self.metrics.bytes_in.labels(self.method).inc(message.ByteSize())

    def sent(self, message) -> None:
        self.metrics.bytes_out.labels(self.method).inc(message.ByteSize())

    def finish(self, context, exc: BaseException | None) -> None:
        """Record the call. The status is read once the call is done: a client that
        cancels a stream looks, from inside the handler, like one that half-closed."""
        self.metrics.latency.labels(self.method).observe(time.perf_counter() - self.started)
        if self.streaming:
            self.metrics.active_streams.labels(self.method).dec()

        def record(_call=None) -> None:
            if isinstance(exc, (asyncio.CancelledError, GeneratorExit)) or context.cancelled():
                code = grpc.StatusCode.CANCELLED
            elif context.code() is not None:
                code = context.code()
            else:
                code = grpc.StatusCode.UNKNOWN if exc else grpc.StatusCode.OK
            name = code.name if isinstance(code, grpc.StatusCode) else str(code)
            self.metrics.requests.labels(self.method, name).inc()

        try:
            context.add_done_callback(record)
        except (AttributeError, RuntimeError):
            record()


async def _abort_for(context, exc: BaseException) -> None:
    mapped = status_of(exc)
    if mapped is None:
        raise exc
    await context.abort(mapped[0], mapped[1])


class StudioInterceptor(grpc.aio.ServerInterceptor):
    """Admit, map errors and measure every Studio RPC."""

    def __init__(self, door: Door, metrics: StudioMetrics):
        self.door = door
        self.metrics = metrics

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler_call_details.method.startswith(_EXEMPT):
            return handler
        method = handler_call_details.method.rsplit("/", 1)[-1]
        return self._wrap(handler, method, handler_call_details.invocation_metadata)

    def _wrap(self, handler, method: str, metadata):
        metrics = self.metrics
        door = self.door

        def admit(context) -> tuple[contextvars.Token, contextvars.Token, StudioError | None]:
            try:
                grant, denied = door.admit(metadata, context.peer()), None
            except StudioError as exc:
                return current_ama.set(""), current_plan.set(""), exc
            return current_ama.set(grant.ama), current_plan.set(grant.plan), denied

        kwargs = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }

        async def requests_of(request_iterator, call: _Call):
            async for request in request_iterator:
                call.received(request)
                yield request

        if handler.unary_unary or handler.stream_unary:
            inner = handler.unary_unary or handler.stream_unary
            streaming_in = handler.stream_unary is not None

            async def unary_out(request, context):
                call = _Call(metrics, method, streaming_in)
                exc = None
                token, plan_token, denied = admit(context)
                try:
                    if denied is not None:
                        await context.abort(denied.code, str(denied))
                    if streaming_in:
                        request = requests_of(request, call)
                    else:
                        call.received(request)
                    try:
                        response = await inner(request, context)
                    except Exception as error:  # noqa: BLE001 - mapped or re-raised
                        await _abort_for(context, error)
                    call.sent(response)
                    return response
                except BaseException as error:
                    exc = error
                    raise
                finally:
                    current_ama.reset(token)
                    current_plan.reset(plan_token)
                    call.finish(context, exc)

            factory = grpc.stream_unary_rpc_method_handler if streaming_in else grpc.unary_unary_rpc_method_handler
            return factory(unary_out, **kwargs)

        inner = handler.unary_stream or handler.stream_stream
        streaming_in = handler.stream_stream is not None

        async def stream_out(request, context):
            call = _Call(metrics, method, True)
            exc = None
            token, plan_token, denied = admit(context)
            try:
                if denied is not None:
                    await context.abort(denied.code, str(denied))
                if streaming_in:
                    request = requests_of(request, call)
                else:
                    call.received(request)
                try:
                    async for response in inner(request, context):
                        call.sent(response)
                        yield response
                except (Exception, GeneratorExit) as error:
                    if isinstance(error, GeneratorExit):
                        raise
                    await _abort_for(context, error)
            except BaseException as error:
                exc = error
                raise
            finally:
                try:
                    current_ama.reset(token)
                    current_plan.reset(plan_token)
                except ValueError:  # the generator was closed from another context
                    pass
                call.finish(context, exc)

        factory = grpc.stream_stream_rpc_method_handler if streaming_in else grpc.unary_stream_rpc_method_handler
        return factory(stream_out, **kwargs)
