"""The decoder in numpy, from ``decoder.npz`` (the default backend).

A single isolated step is slower than TFLite (3.7x for one voice), but inside the
engine, which encodes a held note once and runs the GRU over whole spans of frames,
numpy measured as fast or faster: offline one voice 87x vs 39x real time, streaming
16 voices p99 46 % vs 58 % of a block (tests/benchmarks/bench_performance.py, same run).

Besides :meth:`NumpyDecoder.step`, the step is split for the engine's hot path
(:class:`~instrument_agent.decoder.Decoder`): ``encode`` is the input MLPs and the
GRU's input projection, which a held note reuses frame after frame; ``run`` loops
the GRU recurrence over F frames and applies the output MLP.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from instrument_agent.dsp import DB_RANGE, hz_to_midi

from .protocol import DecoderError, DecoderShape, FrameSteps

__all__ = ["NumpyDecoder"]


def _hz_to_midi_scaled(f0_hz: np.ndarray) -> np.ndarray:
    """[V] Hz -> [V] float32 MIDI note / 127 (the f0 MLP's input)."""
    return (np.maximum(hz_to_midi(f0_hz), 0.0) / 127.0).astype(np.float32)


def _sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """1 / (1 + exp(-x)) as 0.5 + 0.5 tanh(x / 2): no overflow, three passes."""
    out = np.multiply(x, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5
    return out


def _exp_sigmoid(x: np.ndarray) -> np.ndarray:
    y = _sigmoid(x.astype(np.float32))
    np.power(y, np.float32(np.log(10.0)), out=y)
    y *= 2.0
    y += 1e-7
    return y


class NumpyDecoder:
    """The decoder in numpy, from ``decoder.npz``.

    Args:
        path: the ``.npz`` file (keys in docs/contracts.md).
        n_harmonics: H, from the learnerProfile (the dense layer holds 1+H+N).
    """

    backend = "numpy"

    def __init__(self, path: str | Path, n_harmonics: int):
        self.path = Path(path)
        try:
            with np.load(self.path, allow_pickle=False) as data:
                weights = {key: np.asarray(data[key], dtype=np.float32) for key in data.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as exc:
            raise DecoderError(self.path, f"not a readable decoder.npz ({exc})") from None
        self._w = weights

        def need(key: str) -> np.ndarray:
            if key not in weights:
                raise DecoderError(self.path, f"missing decoder weight {key!r}")
            return weights[key]

        layers = 0
        while f"f0_mlp/{layers}/kernel" in weights:
            layers += 1
        if layers == 0:
            raise DecoderError(self.path, "missing decoder weight 'f0_mlp/0/kernel'")
        self._mlps = {
            name: [
                (
                    need(f"{name}/{i}/kernel"),
                    need(f"{name}/{i}/bias"),
                    need(f"{name}/{i}/gamma"),
                    need(f"{name}/{i}/beta"),
                )
                for i in range(layers)
            ]
            for name in ("f0_mlp", "ld_mlp", "out_mlp")
        }
        self._gru_kernel = need("gru/kernel")
        self._gru_recurrent = need("gru/recurrent_kernel")
        gru_bias = need("gru/bias")
        self._dense_kernel = need("dense/kernel")
        self._dense_bias = need("dense/bias")
        hidden = self._mlps["f0_mlp"][0][0].shape[1]
        gru_units = self._gru_recurrent.shape[0]
        n_controls = self._dense_kernel.shape[1]
        n_noise = n_controls - 1 - n_harmonics
        if n_noise < 2:
            raise DecoderError(
                self.path, f"dense layer has {n_controls} outputs, too few for {n_harmonics} harmonics + noise"
            )
        if self._gru_kernel.shape != (2 * hidden, 3 * gru_units) or gru_bias.shape != (2, 3 * gru_units):
            raise DecoderError(
                self.path,
                f"GRU weights {self._gru_kernel.shape}/{gru_bias.shape} do not fit hidden={hidden}, gru={gru_units}",
            )
        if self._dense_kernel.shape[0] != hidden or self._mlps["out_mlp"][0][0].shape[0] != gru_units + 2 * hidden:
            raise DecoderError(self.path, "output MLP / dense shapes do not fit the GRU and hidden sizes")
        self._gru_bias_in, self._gru_bias_rec = gru_bias[0], gru_bias[1]
        self.shape = DecoderShape(hidden, layers, gru_units, n_harmonics, n_noise)
        self._split_weights()

    def initial_state(self, voices: int) -> np.ndarray:
        """[voices, G] zeros: a fresh voice."""
        return np.zeros((voices, self.shape.gru_units), dtype=np.float32)

    def _split_weights(self) -> None:
        """Split the output MLP's first kernel into its state and its input rows (see :meth:`encode`)."""
        g = self.shape.gru_units
        kernel, bias, gamma, beta = self._mlps["out_mlp"][0]
        self._out_state_kernel = np.ascontiguousarray(kernel[:g])
        self._out_input_kernel = np.ascontiguousarray(kernel[g:])
        self._out_first = (bias, gamma, beta)
        self._in_kernel = np.ascontiguousarray(np.concatenate([self._gru_kernel, self._out_input_kernel], axis=1))
        self._in_bias = np.concatenate([self._gru_bias_in, bias])

    @staticmethod
    def _norm_act(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray) -> np.ndarray:
        """LayerNorm (eps 1e-3) then leaky ReLU (0.2), in place on ``x``."""
        x -= x.mean(axis=-1, keepdims=True)
        x /= np.sqrt(np.square(x).mean(axis=-1, keepdims=True) + 1e-3)
        x *= gamma
        x += beta
        return np.maximum(x, 0.2 * x, out=x)

    @classmethod
    def _mlp(cls, x: np.ndarray, layers) -> np.ndarray:
        for kernel, bias, gamma, beta in layers:
            x = cls._norm_act(x @ kernel + bias, gamma, beta)
        return x

    @property
    def encoded_size(self) -> int:
        """E: width of :meth:`encode`'s rows (GRU input projection 3G + output-MLP input part)."""
        return 3 * self.shape.gru_units + self.shape.hidden_size

    def encode(self, f0_hz: np.ndarray, loudness_db: np.ndarray) -> np.ndarray:
        """The part of a step that depends only on the inputs.

        Args:
            f0_hz: [V] Hz. loudness_db: [V] dB.
        Returns:
            [V, E] float32: the GRU's input projection (3G) and the output
            MLP's first layer applied to the input features (hidden).
        """
        f0 = _hz_to_midi_scaled(np.asarray(f0_hz, dtype=np.float32))[:, None]
        ld = (np.asarray(loudness_db, dtype=np.float32) / DB_RANGE + 1.0)[:, None]
        x = np.concatenate([self._mlp(f0, self._mlps["f0_mlp"]), self._mlp(ld, self._mlps["ld_mlp"])], axis=-1)
        enc = x @ self._in_kernel  # [V, 3G + hidden]: GRU input projection | output-MLP input part
        enc += self._in_bias
        return enc

    def _gates(self, xi: np.ndarray, hr: np.ndarray, prev: np.ndarray, out: np.ndarray) -> None:
        """GRU gates of one frame: xi [V, 3G] input projection, hr [V, 3G] = prev @ recurrent
        (modified); writes the new state [V, G] into ``out``."""
        g = self.shape.gru_units
        hr += self._gru_bias_rec
        zr = xi[:, : 2 * g] + hr[:, : 2 * g]
        zr = _sigmoid(zr, out=zr)
        hh = hr[:, 2 * g :]
        hh *= zr[:, g:]
        hh += xi[:, 2 * g :]
        np.tanh(hh, out=hh)
        z = zr[:, :g]
        np.multiply(z, prev, out=out)
        z -= 1.0  # h = z·prev + (1 - z)·hh = z·prev - (z - 1)·hh
        z *= hh
        out -= z

    def _recur(self, xi: np.ndarray, state: np.ndarray) -> np.ndarray:
        """GRU recurrence over F frames: xi [F, V, 3G], state [V, G] -> states [F, V, G]."""
        states = np.empty((xi.shape[0],) + state.shape, dtype=np.float32)
        prev = np.asarray(state, dtype=np.float32)
        for f in range(xi.shape[0]):
            self._gates(xi[f], prev @ self._gru_recurrent, prev, states[f])
            prev = states[f]
        return states

    @staticmethod
    def _framewise(x: np.ndarray, kernel: np.ndarray) -> np.ndarray:
        """x [F, V, K] @ kernel [K, N] -> [F, V, N] float32, one matmul of V rows per frame.

        BLAS rounds a row's sums differently with the shape of the call: OpenBLAS's sgemm
        kernels for Haswell and Zen give other last bits for nearly every row count and row
        position, those for Prescott/Core2 for every other one (measured), and a decoder
        can amplify last-bit differences a thousandfold (the tests' least-squares-fitted
        head does). A frame's controls must not depend on how many frames one call covers,
        which the engine's block size decides: so the matmuls see [V] rows per frame, as
        the engine's frame-by-frame steps do, and only the element-wise work is batched.
        """
        out = np.empty(x.shape[:-1] + (kernel.shape[1],), dtype=np.float32)
        for f in range(x.shape[0]):
            np.matmul(x[f], kernel, out=out[f])
        return out

    def _first_out(self, states: np.ndarray, u: np.ndarray) -> np.ndarray:
        """First output-MLP layer: states [F, V, G], u [F, V, hidden] (from :meth:`encode`) -> [F, V, hidden]."""
        _, gamma, beta = self._out_first
        y = self._framewise(states, self._out_state_kernel)
        y += u
        return self._norm_act(y, gamma, beta)

    def _out_mlp(self, y: np.ndarray) -> np.ndarray:
        """The remaining output-MLP layers: [F, V, hidden] -> [F, V, hidden]."""
        for kernel, bias, gamma, beta in self._mlps["out_mlp"][1:]:
            y = self._framewise(y, kernel)
            y += bias
            y = self._norm_act(y, gamma, beta)
        return y

    def _head(self, y: np.ndarray) -> np.ndarray:
        """The dense head: output-MLP activations [F, V, hidden] -> controls [F, V, 1+H+N]."""
        raw = self._framewise(y, self._dense_kernel)
        raw += self._dense_bias
        raw[..., 1 + self.shape.n_harmonics :] -= 5.0
        return _exp_sigmoid(raw)

    def stages(self, inputs: np.ndarray, state: np.ndarray) -> FrameSteps:
        """:meth:`run` for one frame ([1, V, E]) as a generator that pauses between its
        stages (recurrent matmul, gates, first output layer, head) so a caller can
        spread a step over several audio blocks; the same operations as :meth:`run`,
        so the same numbers. Its return value (``StopIteration.value``) is (controls, state)."""
        g3 = 3 * self.shape.gru_units
        prev = np.asarray(state, dtype=np.float32)
        hr = prev @ self._gru_recurrent
        yield
        states = np.empty((1,) + prev.shape, dtype=np.float32)
        self._gates(inputs[0, :, :g3], hr, prev, states[0])
        yield
        y = self._first_out(states, inputs[..., g3:])
        yield
        return self._head(self._out_mlp(y)), states[0].copy()

    def _features(self, f0_hz: np.ndarray, loudness_db: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The output MLP's activations [V, hidden] and the new GRU state [V, G]."""
        enc = self.encode(f0_hz, loudness_db)[None]
        g3 = 3 * self.shape.gru_units
        states = self._recur(enc[..., :g3], state)
        return self._out_mlp(self._first_out(states, enc[..., g3:]))[0], states[0]

    def recur(self, inputs: np.ndarray, state: np.ndarray) -> np.ndarray:
        """First half of :meth:`run`: the GRU states [F, V, G] after each of the F frames."""
        return self._recur(inputs[..., : 3 * self.shape.gru_units], state)

    def emit(self, inputs: np.ndarray, states: np.ndarray) -> np.ndarray:
        """Second half of :meth:`run`: controls [F, V, 1+H+N] from the inputs and :meth:`recur`'s states;
        each frame's numbers are those of a one-frame call (see :meth:`_framewise`)."""
        g3 = 3 * self.shape.gru_units
        return self._head(self._out_mlp(self._first_out(states, inputs[..., g3:])))

    def run(self, inputs: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """F consecutive control frames of V voices (:meth:`recur` then :meth:`emit`).

        Args:
            inputs: [F, V, E] from :meth:`encode` (frame by frame).
            state: [V, G] GRU state before the first frame.
        Returns:
            (controls [F, V, 1+H+N] float32, state [V, G] after the last frame).
        """
        states = self.recur(inputs, state)
        return self.emit(inputs, states), states[-1].copy()

    def step(self, f0_hz: np.ndarray, loudness_db: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One control frame for V voices.

        Args:
            f0_hz: [V] Hz. loudness_db: [V] dB. state: [V, G] GRU state.
        Returns:
            (controls [V, 1+H+N] float32, new state [V, G] float32).
        """
        controls, new_state = self.run(self.encode(f0_hz, loudness_db)[None], state)
        return controls[0], new_state
