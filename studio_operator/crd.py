"""The ``Practice`` custom resource definition (``practices.amadeus.dev``), as data.

This module is the single source of truth for the CRD: the Helm chart's
``crds/practices.amadeus.dev.yaml`` and ``manifests/crd.yaml`` are generated
from :func:`practice_crd` (``python -m studio_operator.operator.manifests``).

The profile overrides mirror the protobuf messages of
``protos/amadeus/v1/personality.proto`` in their canonical JSON names
(``n_harmonics`` → ``nHarmonics``), so a spec's ``learnerProfile`` parses with
``google.protobuf.json_format.ParseDict`` into ``LearnerProfile``.

CEL rules (``x-kubernetes-validations``) are enforced by the API server:
imitation needs audio, feedback needs a performance and regions, a region's end
is after its start, a fine-tune budget (``feedback.finetuneSteps``) is not given to
``feedback.method: knobs`` (the method itself only exists under ``feedback``, which only
a feedback practice may have), and the spec is immutable once created (a practice is a
one-shot session, like a Job: change it by creating a new Practice).
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = [
    "GROUP",
    "FEEDBACK_METHODS",
    "KIND",
    "MAX_FINETUNE_STEPS",
    "PHASES",
    "PLURAL",
    "PRACTICE_TYPES",
    "SHORT_NAMES",
    "SINGULAR",
    "VERSION",
    "practice_crd",
    "practice_schema",
]

GROUP = "amadeus.dev"
VERSION = "v1alpha1"
KIND = "Practice"
PLURAL = "practices"
SINGULAR = "practice"
SHORT_NAMES = ("prac",)
PRACTICE_TYPES = ("imitation", "tuning", "feedback")
BACKENDS = ("kfp", "job")
FEEDBACK_METHODS = ("auto", "knobs", "finetune")  # pipelines.feedback.FEEDBACK_METHODS
MAX_FINETUNE_STEPS = 100_000
PHASES = ("Pending", "Running", "Succeeded", "Failed", "Cancelled")

_DEU_PATTERN = r"^[a-z0-9]([a-z0-9._-]{0,61}[a-z0-9])?$"
_AUDIO_URI_PATTERN = r"^(s3://|gs://|https?://|/)\S+$"


def _int(minimum: int | None = None, maximum: int | None = None, description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "format": "int32"}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    if description:
        schema["description"] = description
    return schema


def _num(minimum: float | None = None, maximum: float | None = None, description: str = "") -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "number"}
    if minimum is not None:
        schema["minimum"] = minimum
    if maximum is not None:
        schema["maximum"] = maximum
    if description:
        schema["description"] = description
    return schema


def _learner_profile() -> dict[str, Any]:
    """``amadeus.v1.LearnerProfile`` (zero/absent = the default)."""
    return {
        "type": "object",
        "description": "Training hyper-parameters to override (amadeus.v1.LearnerProfile, JSON names).",
        "properties": {
            "sampleRate": _int(16000, 48000, "audio sample rate, Hz"),
            "frameRate": _int(1, 1000, "control frames per second"),
            "nHarmonics": _int(1, 256),
            "nNoiseBands": _int(2, 512),
            "reverb": {"type": "boolean"},
            "reverbSeconds": _num(0, 10, "reverb impulse response length, s"),
            "hiddenSize": _int(1, 4096),
            "mlpLayers": _int(1, 16),
            "gruUnits": _int(1, 4096),
            "exampleSeconds": _num(0.1, 60, "length of one training example, s"),
            "batchSize": _int(1, 1024),
            "learningRate": _num(0, 1),
            "steps": _int(1, 10_000_000),
            "checkpointEvery": _int(1, 10_000_000),
            "fftSizes": {"type": "array", "maxItems": 16, "items": _int(16, 65536)},
            "magWeight": _num(0),
            "logmagWeight": _num(0),
            "f0Method": {"type": "string", "enum": ["pyin", "yin"]},
            "seed": _int(),
            "maxEvalLoss": _num(0),
            "mustBeatBaselines": {"type": "boolean"},
            "holdoutFraction": _num(0, 0.9),
            "device": {"type": "string", "enum": ["auto", "cpu", "gpu"]},
            "maxTrainSeconds": _num(0),
            "previewEvery": _int(-1, 10_000_000, "steps between previews (0 = the default, -1 = none)"),
        },
    }


def _player_profile() -> dict[str, Any]:
    """``amadeus.v1.PlayerProfile`` (``configured`` is set by the operator)."""
    return {
        "type": "object",
        "description": "Performance parameters to override (amadeus.v1.PlayerProfile, JSON names).",
        "properties": {
            "gainDb": _num(-96, 48, "output gain, dB"),
            "harmonicTilt": _num(-48, 48, "dB per octave applied to harmonics"),
            "noiseGainDb": _num(-96, 48, "filtered-noise gain, dB"),
            "reverbMix": _num(0, 1),
            "transpose": _num(-48, 48, "semitones"),
            "loudnessOffsetDb": _num(-96, 96),
            "envelope": {
                "type": "object",
                "properties": {
                    "attackS": _num(0, 60),
                    "decayS": _num(0, 60),
                    "sustain": _num(0, 1),
                    "releaseS": _num(0, 60),
                },
            },
            "mpe": {
                "type": "object",
                "properties": {
                    "pitchBendRange": _num(0, 96, "semitones"),
                    "masterPitchBendRange": _num(0, 96, "semitones"),
                    "pressureDbRange": _num(0, 96),
                    "velocityDbRange": _num(0, 96),
                    "timbreRange": _num(0, 48),
                },
            },
            "maxVoices": _int(1, 128),
        },
    }


def _resources() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "Where and with what the practice runs.",
        "properties": {
            "gpu": {
                "type": "object",
                "properties": {
                    "count": _int(0, 16, "accelerators per training step"),
                    "type": {
                        "type": "string",
                        "maxLength": 253,
                        "default": "nvidia.com/gpu",
                        "description": "the accelerator's extended resource name (KFP accelerator type)",
                    },
                },
            },
            "cpu": {
                "type": "string",
                "pattern": r"^[0-9]+(\.[0-9]+)?m?$",
                "description": "CPU request, e.g. '2' or '500m'",
            },
            "memory": {
                "type": "string",
                "pattern": r"^[0-9]+(Ki|Mi|Gi|Ti|K|M|G|T)?$",
                "description": "memory request, e.g. '8Gi'",
            },
            "nodeSelector": {"type": "object", "additionalProperties": {"type": "string"}, "maxProperties": 32},
            "tolerations": {
                "type": "array",
                "maxItems": 32,
                "items": {
                    "type": "object",
                    "properties": {
                        "key": {"type": "string"},
                        "operator": {"type": "string", "enum": ["Exists", "Equal"]},
                        "value": {"type": "string"},
                        "effect": {"type": "string", "enum": ["NoSchedule", "PreferNoSchedule", "NoExecute"]},
                        "tolerationSeconds": {"type": "integer", "format": "int64"},
                    },
                    "x-kubernetes-validations": [
                        {
                            "rule": "!has(self.operator) || self.operator != 'Exists' || !has(self.value)",
                            "message": "a toleration with operator Exists must not have a value",
                        }
                    ],
                },
            },
        },
    }


def _feedback() -> dict[str, Any]:
    region = {
        "type": "object",
        "required": ["start", "end", "label"],
        "properties": {
            "start": _num(0, description="region start, seconds into the performance"),
            "end": _num(0, description="region end, seconds into the performance"),
            "label": {"type": "string", "enum": ["good", "bad"]},
        },
        "x-kubernetes-validations": [
            {"rule": "self.end > self.start", "message": "a region's end must be after its start"}
        ],
    }
    return {
        "type": "object",
        "description": "What the ama liked and disliked in a performance.",
        "required": ["performance", "regions"],
        "properties": {
            "performance": {
                "type": "string",
                "pattern": _AUDIO_URI_PATTERN,
                "description": "URI of the performance audio the regions refer to",
            },
            "regions": {"type": "array", "minItems": 1, "maxItems": 256, "items": region},
            "method": {
                "type": "string",
                "enum": list(FEEDBACK_METHODS),
                "default": "auto",
                "description": "knobs (move the playerProfile knobs), finetune (train the decoder a little "
                "on the regions) or auto (the knobs unless the difference is one no knob can express)",
            },
            "finetuneSteps": _int(
                1, MAX_FINETUNE_STEPS, "the fine-tune's training steps (absent: the default budget, 150)"
            ),
        },
        "x-kubernetes-validations": [
            {
                "rule": "!has(self.finetuneSteps) || !has(self.method) || self.method != 'knobs'",
                "message": "feedback.finetuneSteps is the fine-tune's budget: it does not apply to method knobs",
            }
        ],
    }


def _spec() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["deu", "type"],
        "properties": {
            "deu": {
                "type": "string",
                "pattern": _DEU_PATTERN,
                "maxLength": 63,
                "description": "the instrument to practise",
            },
            "type": {"type": "string", "enum": list(PRACTICE_TYPES)},
            "audio": {
                "type": "array",
                "maxItems": 1000,
                "description": "audio to learn from: s3://, gs://, http(s):// URIs or paths on a mounted volume",
                "items": {"type": "string", "pattern": _AUDIO_URI_PATTERN, "maxLength": 2048},
            },
            "baseVersion": _int(1, description="the personality version to start from (default: the latest)"),
            "learnerProfile": _learner_profile(),
            "playerProfile": _player_profile(),
            "feedback": _feedback(),
            "resources": _resources(),
            "backend": {
                "type": "string",
                "enum": list(BACKENDS),
                "description": "kfp (Kubeflow Pipelines) or job (a plain Job)",
            },
        },
        "x-kubernetes-validations": [
            {"rule": "self == oldSelf", "message": "spec is immutable: create a new Practice to practise again"},
            {
                "rule": "self.type != 'imitation' || (has(self.audio) && size(self.audio) > 0)",
                "message": "an imitation practice needs audio",
            },
            {
                "rule": "self.type != 'feedback' || has(self.feedback)",
                "message": "a feedback practice needs feedback.regions",
            },
            {
                "rule": "self.type == 'feedback' || !has(self.feedback)",
                "message": "feedback is only allowed on a feedback practice",
            },
            {
                "rule": "self.type != 'tuning' || has(self.learnerProfile) || has(self.playerProfile)",
                "message": "a tuning practice needs a learnerProfile or a playerProfile change",
            },
        ],
    }


def _status() -> dict[str, Any]:
    condition = {
        "type": "object",
        "required": ["type", "status"],
        "properties": {
            "type": {"type": "string"},
            "status": {"type": "string", "enum": ["True", "False", "Unknown"]},
            "reason": {"type": "string"},
            "message": {"type": "string"},
            "lastTransitionTime": {"type": "string", "format": "date-time"},
            "observedGeneration": {"type": "integer", "format": "int64"},
        },
    }
    return {
        "type": "object",
        "properties": {
            "phase": {"type": "string", "enum": list(PHASES)},
            "message": {"type": "string"},
            "backend": {"type": "string", "enum": list(BACKENDS)},
            "runId": {"type": "string"},
            "runName": {"type": "string"},
            "version": {
                "type": "integer",
                "format": "int32",
                "description": "the personality version this practice produced",
            },
            "metrics": {"type": "object", "additionalProperties": {"type": "number"}},
            "observedGeneration": {"type": "integer", "format": "int64"},
            "startTime": {"type": "string", "format": "date-time"},
            "completionTime": {"type": "string", "format": "date-time"},
            "conditions": {
                "type": "array",
                "items": condition,
                "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["type"],
            },
        },
    }


def practice_schema() -> dict[str, Any]:
    """The structural ``openAPIV3Schema`` of a Practice (a fresh copy)."""
    return {
        "type": "object",
        "required": ["spec"],
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": _spec(),
            "status": _status(),
        },
    }


def practice_crd() -> dict[str, Any]:
    """The complete ``CustomResourceDefinition`` object (a fresh copy)."""
    return copy.deepcopy(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{PLURAL}.{GROUP}"},
            "spec": {
                "group": GROUP,
                "scope": "Namespaced",
                "names": {
                    "kind": KIND,
                    "listKind": f"{KIND}List",
                    "plural": PLURAL,
                    "singular": SINGULAR,
                    "shortNames": list(SHORT_NAMES),
                    "categories": ["amadeus"],
                },
                "versions": [
                    {
                        "name": VERSION,
                        "served": True,
                        "storage": True,
                        "subresources": {"status": {}},
                        "additionalPrinterColumns": [
                            {"name": "Deu", "type": "string", "jsonPath": ".spec.deu"},
                            {"name": "Type", "type": "string", "jsonPath": ".spec.type"},
                            {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
                            {"name": "Version", "type": "integer", "jsonPath": ".status.version"},
                            {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
                        ],
                        "schema": {"openAPIV3Schema": practice_schema()},
                    }
                ],
            },
        }
    )
