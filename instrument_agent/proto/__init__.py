"""Generated protobuf code for ``protos/amadeus/v1`` (do not edit by hand).

Every package imports the contract from here::

    from instrument_agent.proto import personality_pb2

Regenerate with ``python -m instrument_agent.proto.generate``.
"""

from . import instrument_pb2, personality_pb2

__all__ = ["instrument_pb2", "personality_pb2"]
