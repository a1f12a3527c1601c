"""PerformFile through TensorFlow Serving: a PredictionService implemented here, in
process, backed by a SavedModel with the contract's serving signature
(f0_hz [B, T], loudness_db [B, T] -> audio [B, T * sample_rate / frame_rate]),
loaded with tf.saved_model.load."""

from __future__ import annotations

from concurrent import futures

import grpc
import mido
import numpy as np
import pytest
import tensorflow as tf
from _studio_support import peak_hz, write_midi

from instrument_agent.client.studio_client import StudioClientError

pytestmark = pytest.mark.slow
SAMPLE_RATE, FRAME_RATE = 16000, 50


def _save_sine_model(path):
    """A harmonic-free 'personality': a sine at f0 whose amplitude follows loudness (TF ops, SavedModel)."""
    hop = SAMPLE_RATE // FRAME_RATE

    class Sine(tf.Module):
        @tf.function(
            input_signature=[
                tf.TensorSpec([None, None], tf.float32, name="f0_hz"),
                tf.TensorSpec([None, None], tf.float32, name="loudness_db"),
            ]
        )
        def serve(self, f0_hz, loudness_db):
            f0 = tf.repeat(f0_hz, hop, axis=1)
            amp = tf.repeat(tf.pow(10.0, loudness_db / 20.0), hop, axis=1)
            phase = tf.cumsum(2.0 * np.pi * f0 / SAMPLE_RATE, axis=1)
            return {"audio": amp * tf.sin(phase)}

    module = Sine()
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.serve})
    return path


def _servicer_base():
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    return prediction_service_pb2_grpc.PredictionServiceServicer


class _PredictionService(_servicer_base()):
    """Predict only (the other methods answer UNIMPLEMENTED, as the generated base does)."""

    def __init__(self, model_dir):
        self.model = tf.saved_model.load(str(model_dir))
        self.requests = []

    def Predict(self, request, context):
        from tensorflow_serving.apis import predict_pb2

        self.requests.append(request)
        if request.model_spec.name != "cello":
            context.abort(grpc.StatusCode.NOT_FOUND, f"Servable not found for request: {request.model_spec.name}")
        fn = self.model.signatures[request.model_spec.signature_name]
        out = fn(**{k: tf.make_ndarray(v) for k, v in request.inputs.items()})
        response = predict_pb2.PredictResponse()
        for key, value in out.items():
            response.outputs[key].CopyFrom(tf.make_tensor_proto(value.numpy()))
        return response


@pytest.fixture
def tf_serving(tmp_path):
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    service = _PredictionService(_save_sine_model(tmp_path / "saved_model"))
    server = grpc.server(futures.ThreadPoolExecutor(2))
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", service
    server.stop(0)


def test_perform_file_through_tf_serving(start_studio, client_for, tf_serving, tmp_path):
    address, service = tf_serving
    server = start_studio(tf_serving=address)
    midi = write_midi(
        tmp_path / "a.mid",
        [[mido.Message("note_on", note=69, velocity=127, time=0), mido.Message("note_off", note=69, time=960)]],
    )
    response = client_for("alice", server=server).perform_file(midi, deu="cello", sample_rate=16000, raw=True)
    audio = np.frombuffer(response.audio, "<f4")
    assert response.renderer == "tf-serving" and response.sample_rate == 16000
    assert peak_hz(audio[1600:12800], 16000) == pytest.approx(440.0, abs=2.0)
    spec = service.requests[-1].model_spec
    assert (spec.name, spec.version.value, spec.signature_name) == ("cello", 1, "serving_default")


def test_tf_serving_failures_are_unavailable(start_studio, client_for, tf_serving, tmp_path):
    address, _ = tf_serving
    server = start_studio(tf_serving=address, tf_serving_model="{deu}-missing")
    midi = write_midi(
        tmp_path / "a.mid",
        [[mido.Message("note_on", note=60, velocity=90, time=0), mido.Message("note_off", note=60, time=240)]],
    )
    with pytest.raises(StudioClientError, match="Servable not found") as err:
        client_for("alice", server=server).perform_file(midi, deu="cello")
    assert err.value.code == grpc.StatusCode.UNAVAILABLE
