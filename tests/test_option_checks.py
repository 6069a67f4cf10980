"""One option-checking mechanism: Component.check_options problems reported with the option's YAML path and line."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from flowyml.errors import ConfigError
from flowyml.plugins.component import Component, ComponentContext, OptionProblem
from flowyml.plugins.types import DEPLOYMENT_STATUSES, Deployment


@attrs.frozen
class PortOptions:
    port: int = 8080
    host: str = "127.0.0.1"


class PortServer(Component):
    kind = "model_deployer"
    Options = PortOptions

    @classmethod
    def check_options(cls, options: PortOptions) -> list[OptionProblem]:
        found = []
        if not 0 < options.port < 65536:
            found.append(OptionProblem("port", f"port must be between 1 and 65535, got {options.port}", "e.g. port: 8080"))
        if not options.host:
            found.append(OptionProblem("host", "host is empty"))
        return found


def context(lines: dict[str, int]) -> ComponentContext:
    return ComponentContext("prod", "portserver", Path("."), None, "stacks.prod.model_deployer", "flowyml.yaml", lines)


def test_first_problem_names_option_path_line_and_fix() -> None:
    lines = {"stacks.prod.model_deployer": 7, "stacks.prod.model_deployer.port": 9}
    with pytest.raises(ConfigError) as caught:
        PortServer(PortOptions(port=0, host=""), context(lines))
    error = caught.value
    assert (error.path, error.line, error.file) == ("stacks.prod.model_deployer.port", 9, "flowyml.yaml")
    assert str(error).startswith("flowyml.yaml:9 stacks.prod.model_deployer.port: port must be between 1 and 65535, got 0")
    assert error.hint == "e.g. port: 8080"


def test_an_option_without_its_own_line_points_at_the_component() -> None:
    with pytest.raises(ConfigError) as caught:
        PortServer(PortOptions(host=""), context({"stacks.prod.model_deployer": 7}))
    assert (caught.value.path, caught.value.line) == ("stacks.prod.model_deployer.host", 7)


def test_valid_options_build_the_component() -> None:
    assert PortServer(PortOptions(), context({})).options.port == 8080


def test_deployment_status_has_one_vocabulary() -> None:
    assert Deployment("e", "m", "1").status == "serving"
    for status in DEPLOYMENT_STATUSES:
        assert Deployment("e", "m", "1", status, backend_status="Whatever").backend_status == "Whatever"
    with pytest.raises(ValueError, match="backend_status"):
        Deployment("e", "m", "1", "InService")
