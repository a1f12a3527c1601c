"""Generated protobuf code for ``protos/amadeus/v1`` (do not edit by hand).

Every package imports the contract from here::

    from instrument_agent.proto import personality_pb2, studio_pb2, studio_pb2_grpc

Regenerate with ``python -m instrument_agent.proto.generate``.

``studio_pb2_grpc`` needs ``grpcio``; it is imported on first access so the
bare agent install (no grpcio) can still read personalities.
"""

import importlib

from . import instrument_pb2, personality_pb2, studio_pb2

__all__ = ["instrument_pb2", "personality_pb2", "studio_pb2", "studio_pb2_grpc"]


def __getattr__(name: str):
    if name == "studio_pb2_grpc":
        return importlib.import_module(f"{__name__}.studio_pb2_grpc")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
