"""The Amadeus studio: the Practice operator (kopf), the gRPC studio server and
their metrics. Heavy dependencies are imported by submodules only."""

__all__: list[str] = []
