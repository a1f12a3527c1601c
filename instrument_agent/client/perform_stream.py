"""The studio client's shared pieces: its error, gRPC error mapping, and the live Perform stream.

:class:`PerformStream` sends timed MIDI events (absolute output samples) and receives audio
blocks; :mod:`instrument_agent.client.studio_client` opens it (``StudioClient.perform``).
"""

from __future__ import annotations

import queue
from collections.abc import Iterable, Iterator

import numpy as np

from instrument_agent.proto import studio_pb2

__all__ = [
    "END",
    "PerformStream",
    "StudioClientError",
    "midi_event",
    "personality_source",
    "stream_messages",
    "wrap_rpc_error",
]

END = object()
"""Put on a Perform request queue to end the thread that sends the requests."""


class StudioClientError(Exception):
    """A studio call failed. ``code`` is the ``grpc.StatusCode`` (or None for a local problem)."""

    def __init__(self, message: str, code=None):
        super().__init__(message)
        self.code = code


def wrap_rpc_error(exc) -> StudioClientError:
    code = exc.code() if hasattr(exc, "code") else None
    details = exc.details() if hasattr(exc, "details") else str(exc)
    name = code.name if code is not None else "ERROR"
    return StudioClientError(f"studio: {name}: {details}", code)


def stream_messages(call) -> Iterator:
    """Yield a server-streaming call's messages, mapping gRPC errors; cancel the call when the consumer stops."""
    import grpc

    try:
        yield from call
    except grpc.RpcError as exc:
        raise wrap_rpc_error(exc) from None
    finally:
        call.cancel()


def midi_event(sample: int, message) -> studio_pb2.MidiEvent:
    """A MidiEvent from a ``mido.Message`` (or raw bytes) at output sample ``sample``."""
    data = bytes(message.bytes()) if hasattr(message, "bytes") else bytes(message)
    return studio_pb2.MidiEvent(sample=int(sample), data=data)


def personality_source(
    deu: str | None, version: int, digest: str, bundle: bytes | None
) -> studio_pb2.PersonalitySource:
    if bundle is not None:
        return studio_pb2.PersonalitySource(bundle=bundle)
    if not deu:
        raise StudioClientError("name a deu (or pass an inline bundle)")
    return studio_pb2.PersonalitySource(ref=studio_pb2.PersonalityRef(deu=deu, version=version, digest=digest))


class PerformStream:
    """A live Perform stream: send timed MIDI events, receive audio blocks.

    ``ready`` is the server's PerformReady. Each :meth:`play` returns the
    requested blocks as one [blocks * block_size] float32 array.
    """

    def __init__(self, call, requests: queue.Queue, ready: studio_pb2.PerformReady):
        self._call = call
        self._requests = requests
        self._responses = iter(call)
        self.ready = ready
        self.last_voices = 0

    def _block(self) -> studio_pb2.AudioBlock:
        import grpc

        try:
            response = next(self._responses)
        except StopIteration:
            raise StudioClientError("studio: the Perform stream ended early") from None
        except grpc.RpcError as exc:
            raise wrap_rpc_error(exc) from None
        self.last_voices = response.audio.active_voices
        return response.audio

    def play(self, events: Iterable[studio_pb2.MidiEvent] = (), blocks: int = 1) -> np.ndarray:
        """Queue ``events`` (absolute samples), then render ``blocks`` blocks; [n] float32."""
        self._requests.put(studio_pb2.PerformRequest(play=studio_pb2.PerformEvents(events=list(events), blocks=blocks)))
        return (
            np.concatenate([np.frombuffer(self._block().samples, "<f4") for _ in range(blocks)])
            if blocks
            else np.zeros(0, np.float32)
        )

    def finish(self, events: Iterable[studio_pb2.MidiEvent] = ()) -> np.ndarray:
        """Queue ``events``, render the tail (releases, reverb) and close the stream; [n] float32."""
        self._requests.put(studio_pb2.PerformRequest(play=studio_pb2.PerformEvents(events=list(events), finish=True)))
        out = []
        while True:
            block = self._block()
            out.append(np.frombuffer(block.samples, "<f4"))
            if block.last:
                break
        self.close()
        return np.concatenate(out)

    def close(self) -> None:
        """End the stream (the server cleans up at once)."""
        self._call.cancel()
        self._requests.put(END)  # lets the request-sending thread end

    def __enter__(self) -> PerformStream:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
