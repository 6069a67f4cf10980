"""Describing stacks for people: listing, showing (secrets masked), and persisting the active one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flowyml.config.interpolation import REFERENCE
from flowyml.config.schema import ProjectConfig, RoutingRule, StackConfig
from flowyml.errors import ConfigError
from flowyml.plugins.kinds import Kind
from flowyml.redaction import MASK, is_secret_name, redact_value
from flowyml.routing.paths import DEFAULT_TEMPLATE


def mask_options(options: dict[str, Any]) -> dict[str, Any]:
    """Options as written, with literal secrets masked; ``${VAR}`` references stay unresolved.

    Secret-named options (see :func:`flowyml.redaction.is_secret_name`) show ``***``
    and so does the password of a URL (``https://user:***@host``).
    """
    out: dict[str, Any] = {}
    for key, value in options.items():
        if is_secret_name(key) and not (isinstance(value, str) and REFERENCE.fullmatch(value)):
            out[key] = MASK
        elif isinstance(value, dict):
            out[key] = mask_options(value)
        else:
            out[key] = redact_value(value)
    return out


def store_location(stack: StackConfig) -> str:
    """Where the artifact store keeps things, from the raw config (no plugin needed)."""
    store = stack.component(Kind.ARTIFACT_STORE)
    if store is None:
        return "(no artifact store)"
    opts = store.options
    if store.type == "local":
        return str(opts.get("path", "./artifacts"))
    if "bucket" in opts:
        scheme = {"gcs": "gs", "s3": "s3"}.get(store.type, store.type)
        prefix = f"/{opts['prefix'].strip('/')}" if opts.get("prefix") else ""
        return f"{scheme}://{opts['bucket']}{prefix}"
    return f"{store.type}://{opts.get('path', '')}"


def describe_rule(stack: StackConfig, type_name: str, rule: RoutingRule | None) -> dict[str, str]:
    rule = rule or RoutingRule()
    store = stack.component(Kind.ARTIFACT_STORE)
    path = rule.path or DEFAULT_TEMPLATE.replace("{name}", "{output}")
    out = {
        "type": type_name,
        "store": f"{rule.store or (store.type if store else '-')} {store_location(stack)}/{path}",
        "register": "-",
        "deploy": "-",
        "tracker": "-",
    }
    if rule.register:
        registry = stack.component(Kind.MODEL_REGISTRY)
        out["register"] = registry.type if registry else "(no registry!)"
    if rule.deploy:
        deployer = stack.component(Kind.MODEL_DEPLOYER)
        cond = rule.deploy_condition
        if cond == "auto":
            thresholds = [f"{k}>={v:g}" for k, v in rule.deploy_min_metrics.items()] + [
                f"{k}<={v:g}" for k, v in rule.deploy_max_metrics.items()
            ]
            cond += f" ({', '.join(thresholds)})"
        endpoint = rule.endpoint_name or "<model name>"
        out["deploy"] = f"{deployer.type if deployer else '(no deployer!)'} {cond} -> {endpoint}"
    if rule.log_to_tracker:
        trackers = [c.type for c in stack.all_components() if c.kind is Kind.EXPERIMENT_TRACKER]
        out["tracker"] = ", ".join(trackers) if trackers else "(no tracker!)"
    return out


def set_active_stack(project: ProjectConfig, name: str) -> Path:
    """Persist ``active_stack: name`` by changing only that line of flowyml.yaml."""
    project.stack(name)
    path = project.file
    if path is None:
        raise ConfigError(
            "there is no flowyml.yaml to record the active stack in",
            hint="create one (flowyml init) or set FLOWYML_STACK",
        )
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    newline = "\r\n" if "\r\n" in text else "\n"
    pattern = re.compile(r"^(active_stack:[ \t]*)([^\s#]*)", re.M)
    match = pattern.search(text)
    if match:
        # replace the value only: spacing and any trailing comment stay byte for byte
        text = text[: match.start(2)] + name + text[match.end(2) :]
    else:
        if text and not text.endswith(("\n", "\r")):
            text += newline
        text += f"active_stack: {name}{newline}"
    path.write_bytes(text.encode("utf-8"))
    return path
