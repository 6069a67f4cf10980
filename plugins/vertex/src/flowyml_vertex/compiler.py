"""Compiling a FlowyML run into a KFP v2 IR pipeline spec (what Vertex AI Pipelines runs).

One container task per FlowyML step. Each task runs the core's generic step
runner (``flowyml step run --stack S --snapshot URI --step NAME``) in the
configured image; tasks exchange nothing through KFP: steps read their inputs
from, and write their outputs to, the stack's artifact store, so a task only
needs ``dependentTasks`` on the tasks of its upstream steps.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from flowyml.core.settings import StepSettings
from flowyml.plugins.types import RunHandle
from flowyml_vertex import step_settings

SCHEMA_VERSION = "2.1.0"
SDK_VERSION = "flowyml-vertex-0.1.0"


def task_name(step: str) -> str:
    """KFP task / component ids: lowercase letters, digits and dashes."""
    slug = re.sub(r"[^a-z0-9-]+", "-", step.lower()).strip("-") or "step"
    return slug if slug[0].isalpha() else f"step-{slug}"


def pipeline_name(name: str) -> str:
    """Vertex pipeline names: lowercase letters, digits and dashes, at most 128 characters."""
    return task_name(name)[:128]


def compile_spec(
    name: str,
    steps: Sequence[str],
    upstream: Mapping[str, Sequence[str]],
    commands: Mapping[str, Sequence[str]],
    *,
    image: str,
    env: Mapping[str, str],
    cpu_limit: str | None = None,
    memory_limit: str | None = None,
    settings: Mapping[str, StepSettings] | None = None,
    service_account: str | None = None,
    network: str | None = None,
    default_timeout: float = 24 * 3600.0,
) -> dict[str, Any]:
    """The pipeline spec as a JSON-able dict (each step's settings mapped as :mod:`flowyml_vertex.step_settings` says)."""
    tasks: dict[str, str] = {}
    for step in steps:
        candidate = task_name(step)
        while candidate in tasks.values():
            candidate += "-x"
        tasks[step] = candidate
    components: dict[str, Any] = {}
    executors: dict[str, Any] = {}
    dag: dict[str, Any] = {}
    for step in steps:
        task = tasks[step]
        command = list(commands[step])
        chosen = (settings or {}).get(step) or StepSettings()
        task_env = dict(env)
        policy = step_settings.retry_policy(chosen, default_timeout)
        if policy is not None:
            task_env["FLOWYML_PLATFORM_RETRIES"] = "1"  # KFP runs each attempt in a new container: one attempt each
        env_list = [{"name": k, "value": v} for k, v in sorted(task_env.items())]
        component: dict[str, Any] = {"executorLabel": f"exec-{task}"}
        if step_settings.uses_custom_job(chosen):
            container = step_settings.custom_job_container(
                chosen, display_name=f"{pipeline_name(name)[:60]}-{task}"[:128], image=image, command=command, env=env_list,
                service_account=service_account, network=network,
            )
            component["outputDefinitions"] = {"parameters": {"gcp_resources": {"parameterType": "STRING"}}}
        else:
            container = {"image": image, "command": command[:1], "args": command[1:], "env": env_list}
            resources = step_settings.container_resources(chosen, cpu_limit, memory_limit)
            if resources:
                container["resources"] = resources
        components[f"comp-{task}"] = component
        executors[f"exec-{task}"] = {"container": container}
        entry: dict[str, Any] = {
            "componentRef": {"name": f"comp-{task}"},
            "taskInfo": {"name": step},
            "cachingOptions": {"enableCache": False},
        }
        if policy is not None:
            entry["retryPolicy"] = policy
        deps = sorted(tasks[u] for u in upstream.get(step, ()))
        if deps:
            entry["dependentTasks"] = deps
        dag[task] = entry
    return {
        "pipelineInfo": {"name": pipeline_name(name)},
        "schemaVersion": SCHEMA_VERSION,
        "sdkVersion": SDK_VERSION,
        "components": components,
        "deploymentSpec": {"executors": executors},
        "root": {"dag": {"tasks": dag}},
    }


def spec_for_run(
    run: RunHandle,
    *,
    image: str,
    extra_env: Mapping[str, str],
    cpu_limit: str | None,
    memory_limit: str | None,
    service_account: str | None = None,
    network: str | None = None,
    default_timeout: float = 24 * 3600.0,
) -> dict[str, Any]:
    """Compile a run (after ``run.prepare_remote()``), through the members of :class:`~flowyml.plugins.types.RunHandle` only.

    Only the steps to run become tasks: a step answered from the cache is
    already recorded, and a task does not wait on it.
    """
    steps = list(run.steps_to_run)
    return compile_spec(
        run.pipeline_name,
        steps,
        {s: [u for u in run.upstream(s) if u in steps] for s in steps},
        {s: run.step_command(s) for s in steps},
        image=image,
        env={**extra_env, **run.step_env()},
        cpu_limit=cpu_limit,
        memory_limit=memory_limit,
        settings={s: run.step_settings(s) for s in steps},
        service_account=service_account,
        network=network,
        default_timeout=default_timeout,
    )
