"""Rendering a MIDI file through TensorFlow Serving (``PredictionService.Predict``).

When the studio is given a TF Serving address, ``PerformFile`` sends the
personality's control curves to the exported SavedModel (serving signature
``serving_default``: ``f0_hz [B, T]``, ``loudness_db [B, T]`` → ``audio
[B, T * sample_rate / frame_rate]``, see docs/contracts.md) instead of
running the model in the studio process. Polyphony: notes are packed into
lanes of non-overlapping notes, one batch row per lane, and the rows are summed.

The served signature is a whole-sequence model without recurrent state in or
out, so it renders whole files only; the live ``Perform`` stream always runs
the in-process streaming engine. On this path pitch bend, pressure and CC
controllers are not applied (notes play at their velocity with the playerProfile's
transpose, loudness offset, release and gain).

The model name is ``model_name`` formatted with ``deu`` and ``ama``
(default ``"{deu}"``), and the model version is the personality version.
"""

from __future__ import annotations

import numpy as np

from instrument_agent.audio import resample
from instrument_agent.dsp import db_to_amplitude
from studio_operator.server.errors import UnavailableError

__all__ = ["TFServingRenderer", "midi_to_lanes"]

_SILENCE_DB = -120.0


def midi_to_lanes(performance, mapping, frame_rate: int, release_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Per-lane control curves of a MIDI performance.

    Returns ``(f0_hz, loudness_db)``, each [lanes, T] float32 at ``frame_rate``;
    T covers the performance plus the release.
    """
    notes = []  # (start_s, end_s, key, velocity)
    sounding: dict[tuple[int, int], tuple[float, int]] = {}
    for when, msg in performance.events:
        if msg.type == "note_on" and msg.velocity > 0:
            sounding[(msg.channel, msg.note)] = (when, msg.velocity)
        elif msg.type in ("note_off", "note_on"):
            started = sounding.pop((msg.channel, msg.note), None)
            if started is not None:
                notes.append((started[0], when, msg.note, started[1]))
    for (_, key), (start, velocity) in sounding.items():
        notes.append((start, performance.duration_s, key, velocity))
    notes.sort()
    lanes: list[list[tuple]] = []
    for note in notes:
        for lane in lanes:
            if lane[-1][1] + release_s <= note[0]:
                lane.append(note)
                break
        else:
            lanes.append([note])
    total = int(np.ceil((performance.duration_s + release_s) * frame_rate)) + 1
    f0 = np.zeros((max(len(lanes), 1), total), dtype=np.float32)
    loudness = np.full_like(f0, _SILENCE_DB)
    release_frames = max(1, int(round(release_s * frame_rate)))
    for i, lane in enumerate(lanes):
        held = float(mapping.f0_hz(lane[0][2]))
        f0[i, :] = held
        for start_s, end_s, key, velocity in lane:
            a, b = (
                int(round(start_s * frame_rate)),
                max(int(round(end_s * frame_rate)), int(round(start_s * frame_rate)) + 1),
            )
            level = float(mapping.loudness_db(velocity, 0.0, 0.0))
            hz = float(mapping.f0_hz(key))
            c = min(total, b + release_frames)
            f0[i, a:] = hz
            loudness[i, a:b] = level
            loudness[i, b:c] = np.linspace(level, _SILENCE_DB, c - b, endpoint=False)
    return f0, loudness


def _tensor(array: np.ndarray):
    from tensorflow.core.framework import tensor_pb2, tensor_shape_pb2, types_pb2

    array = np.ascontiguousarray(array, dtype="<f4")
    shape = tensor_shape_pb2.TensorShapeProto(dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=n) for n in array.shape])
    return tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, tensor_shape=shape, tensor_content=array.tobytes())


def _array(tensor) -> np.ndarray:
    shape = [d.size for d in tensor.tensor_shape.dim]
    if tensor.tensor_content:
        return np.frombuffer(tensor.tensor_content, dtype="<f4").reshape(shape)
    return np.asarray(tensor.float_val, dtype=np.float32).reshape(shape)


class TFServingRenderer:
    """A client of one TensorFlow Serving address.

    Args:
        address: ``host:port`` of TF Serving's gRPC API.
        model_name: format string with ``{deu}`` and ``{ama}``.
        signature: serving signature name.
        timeout: seconds per Predict call.
    """

    def __init__(
        self, address: str, *, model_name: str = "{deu}", signature: str = "serving_default", timeout: float = 60.0
    ):
        self.address = address
        self.model_name = model_name
        self.signature = signature
        self.timeout = timeout
        self._channel = None
        self._stub = None

    def _client(self):
        if self._stub is None:
            import grpc
            from tensorflow_serving.apis import prediction_service_pb2_grpc

            options = [("grpc.max_receive_message_length", 512 << 20), ("grpc.max_send_message_length", 512 << 20)]
            self._channel = grpc.insecure_channel(self.address, options=options)
            self._stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        return self._stub

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = self._stub = None

    def render(self, bundle, performance, engine, ama: str = "") -> np.ndarray:
        """Render ``performance`` with ``bundle``'s served model; [n] float32 at ``engine.sample_rate``.

        ``engine`` supplies the resolved playerProfile mapping, release and gain (with the
        personality's level calibration, ``FeatureStats.level_gain_db``).
        Raises :class:`UnavailableError` when TF Serving fails or is unreachable.
        """
        import grpc
        from tensorflow_serving.apis import predict_pb2

        release_s = engine.release_samples / engine.sample_rate
        f0, loudness = midi_to_lanes(performance, engine.mapping, engine.frame_rate, release_s)
        request = predict_pb2.PredictRequest()
        request.model_spec.name = self.model_name.format(deu=bundle.deu, ama=ama)
        request.model_spec.signature_name = self.signature
        request.model_spec.version.value = bundle.version
        request.inputs["f0_hz"].CopyFrom(_tensor(f0))
        request.inputs["loudness_db"].CopyFrom(_tensor(loudness))
        try:
            response = self._client().Predict(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            raise UnavailableError(
                f"TensorFlow Serving at {self.address} failed for model {request.model_spec.name!r} "
                f"version {bundle.version}: {exc.code().name} {exc.details()}"
            ) from None
        if "audio" not in response.outputs:
            raise UnavailableError(f"TensorFlow Serving model {request.model_spec.name!r} returned no 'audio' output")
        audio = _array(response.outputs["audio"]).reshape(f0.shape[0], -1).sum(axis=0)
        audio = resample(audio, engine.model_sample_rate, engine.sample_rate)
        gain_db = engine.player_profile.gain_db + engine.level_gain_db  # the level calibration, as the engine
        return (audio * np.float32(db_to_amplitude(gain_db))).astype(np.float32)
