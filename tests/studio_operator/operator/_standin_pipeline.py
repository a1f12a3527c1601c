"""A stand-in practice pipeline with the real pipeline's parameters, compiled by the real KFP compiler.

Until ``pipelines.kfp_pipelines.compile_practice_pipeline`` (issue 5) is
installed, the operator's KFP tests compile this one: same parameter names and
types, one container task, and the GPU/node settings applied exactly as the
operator asks (``set_accelerator_type``/``set_accelerator_limit``, kfp-kubernetes
node selectors and tolerations). The submitted IR is therefore real KFP IR.
"""

from kfp import compiler, dsl
from kfp import kubernetes as kfp_kubernetes


def compile_standin(
    practice_type: str,
    package_path: str,
    *,
    image: str,
    accelerator_type: str = "",
    accelerator_limit: int = 0,
    node_selector: dict | None = None,
    tolerations: list | None = None,
    cpu_request: str = "",
    memory_request: str = "",
) -> str:
    @dsl.container_component
    def practice(deu: str, practice_id: str, audio_uris: str, base_version: int):
        return dsl.ContainerSpec(
            image=image,
            command=["amadeus", "practice", practice_type],
            args=[
                "--deu",
                deu,
                "--practice-id",
                practice_id,
                "--audio-json",
                audio_uris,
                "--base-version",
                base_version,
            ],
        )

    @dsl.pipeline(name=f"amadeus-{practice_type}")
    def pipeline(
        deu: str,
        practice_id: str,
        audio_uris: str = "[]",
        base_version: int = 0,
        learner_profile_json: str = "{}",
        player_profile_json: str = "{}",
        performance_uri: str = "",
        feedback_regions_json: str = "[]",
        feedback_method: str = "auto",
        finetune_steps: int = 0,
        registry_uri: str = "",
        mlflow_tracking_uri: str = "",
    ):
        task = practice(deu=deu, practice_id=practice_id, audio_uris=audio_uris, base_version=base_version)
        if accelerator_limit:
            task.set_accelerator_type(accelerator_type).set_accelerator_limit(accelerator_limit)
        if cpu_request:
            task.set_cpu_request(cpu_request)
        if memory_request:
            task.set_memory_request(memory_request)
        for key, value in (node_selector or {}).items():
            kfp_kubernetes.add_node_selector(task, label_key=key, label_value=value)
        for toleration in tolerations or ():
            kfp_kubernetes.add_toleration(
                task,
                key=toleration.get("key"),
                operator=toleration.get("operator"),
                value=toleration.get("value"),
                effect=toleration.get("effect"),
            )

    compiler.Compiler().compile(pipeline, package_path)
    return package_path
