"""Export a trained personality model to the bundle's model files (docs/contracts.md).

:func:`export` writes, into one directory:

* ``saved_model/``: TensorFlow SavedModel, signature ``serving_default``:
  ``f0_hz [B, T]`` Hz, ``loudness_db [B, T]`` dB → ``audio [B, T * hop]``,
  ``amplitude [B, T, 1]``, ``harmonic_distribution [B, T, H]``, ``noise_magnitudes [B, T, N]``;
* ``decoder.tflite``: the single-step decoder (builtin ops only), signature
  ``step``: ``f0_hz [V, 1]``, ``loudness_db [V, 1]``, ``state [V, G]`` →
  ``controls [V, 1+H+N]``, ``state [V, G]`` (V resizable);
* ``decoder.npz``: the decoder weights under the contract's keys (float32);
* ``reverb_ir.npy``: float32 [n_taps] learned impulse response (only with reverb).

The files are written into a temporary sibling directory and renamed into
place at the end, so a failed export (a full disk...) leaves nothing half-written.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from pipelines.ddsp import PersonalityModel, resolve_profile

__all__ = ["ExportError", "export", "export_tflite_decoder"]

_STEP_SIGNATURE = "step"


class ExportError(RuntimeError):
    """An export failed (names the path and the problem); nothing was left half-written."""


class _Serving(tf.Module):
    def __init__(self, model: PersonalityModel):
        super().__init__(name="personality")
        self.model = model

    @tf.function(
        input_signature=[
            tf.TensorSpec([None, None], tf.float32, name="f0_hz"),
            tf.TensorSpec([None, None], tf.float32, name="loudness_db"),
        ]
    )
    def serve(self, f0_hz, loudness_db):
        out = self.model({"f0_hz": f0_hz, "loudness_db": loudness_db}, training=False)
        return {name: out[name] for name in ("audio", "amplitude", "harmonic_distribution", "noise_magnitudes")}


class _Step(tf.Module):
    def __init__(self, model: PersonalityModel):
        super().__init__(name="decoder_step")
        self.model = model
        gru_units = model.decoder.gru_units
        self.step = tf.function(
            self._step,
            input_signature=[
                tf.TensorSpec([None, 1], tf.float32, name="f0_hz"),
                tf.TensorSpec([None, 1], tf.float32, name="loudness_db"),
                tf.TensorSpec([None, gru_units], tf.float32, name="state"),
            ],
        )

    def _step(self, f0_hz, loudness_db, state):
        controls, new_state = self.model.decoder.step(f0_hz, loudness_db, state)
        return {"controls": controls, "state": new_state}


def export_tflite_decoder(model: PersonalityModel) -> bytes:
    """The single-step decoder as a TFLite flatbuffer (signature ``step``, builtin ops only).

    The weights are frozen into constants first (one subgraph, no resource
    variables, which the converter would otherwise keep); the batch
    dimension V stays resizable.
    """
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    step = _Step(model).step
    frozen = convert_variables_to_constants_v2(step.get_concrete_function())

    @tf.function(input_signature=step.input_signature, autograph=False)
    def frozen_step(f0_hz, loudness_db, state):
        controls, new_state = frozen(f0_hz, loudness_db, state)
        return {"controls": controls, "state": new_state}

    holder = tf.Module()
    holder.step = frozen_step
    with tempfile.TemporaryDirectory(prefix="amadeus-step-") as tmp:
        tf.saved_model.save(holder, tmp, signatures={_STEP_SIGNATURE: frozen_step})
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp, signature_keys=[_STEP_SIGNATURE])
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        return converter.convert()


def _check_model(model: PersonalityModel, profile) -> None:
    decoder = model.decoder
    expected = {
        "sample_rate": (model.sample_rate, profile.sample_rate),
        "frame_rate": (model.frame_rate, profile.frame_rate),
        "n_harmonics": (decoder.n_harmonics, profile.n_harmonics),
        "n_noise_bands": (decoder.n_noise_bands, profile.n_noise_bands),
        "gru_units": (decoder.gru_units, profile.gru_units),
        "hidden_size": (decoder.hidden_size, profile.hidden_size),
    }
    for name, (have, want) in expected.items():
        if have != want:
            raise ExportError(
                f"model has {name}={have} but learnerProfile.{name}={want}: export the model with its own profile"
            )


def export(model: PersonalityModel, learner_profile, out_dir: str | Path) -> list[str]:
    """Write the model files of a personality bundle into ``out_dir``.

    Args:
        model: a (trained) :class:`~pipelines.ddsp.PersonalityModel`.
        learner_profile: the ``amadeus.v1.LearnerProfile`` it was built from (checked against the model).
        out_dir: directory to create (an existing one is replaced as a whole, atomically).

    Returns:
        Sorted ``/``-separated paths of every written file, relative to ``out_dir``.

    Raises:
        ExportError: the model does not match the profile, or writing failed
            (for example a full disk); ``out_dir`` is then left as it was.
    """
    profile = resolve_profile(learner_profile)
    _check_model(model, profile)
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.", suffix=".tmp"))
    try:
        serving = _Serving(model)
        tf.saved_model.save(serving, str(staging / "saved_model"), signatures={"serving_default": serving.serve})
        (staging / "decoder.tflite").write_bytes(export_tflite_decoder(model))
        with open(staging / "decoder.npz", "wb") as handle:
            np.savez(handle, **model.decoder.weights_dict())
        ir = model.reverb_impulse_response()
        if ir is not None:
            with open(staging / "reverb_ir.npy", "wb") as handle:
                np.save(handle, ir.astype(np.float32))
        written = sorted(p.relative_to(staging).as_posix() for p in staging.rglob("*") if p.is_file())
        old = None
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            os.replace(out_dir, old)
        os.replace(staging, out_dir)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return written
    except OSError as exc:
        raise ExportError(f"{out_dir}: export failed ({exc.strerror or exc}); nothing was replaced") from None
    finally:
        with contextlib.suppress(OSError):
            if staging.exists():
                shutil.rmtree(staging)
