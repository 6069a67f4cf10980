"""The ConfigError flowyml's YAML reader raises for a text (tests of what it refuses, and where)."""

from __future__ import annotations

import pytest

from flowyml.config.yaml_reader import read_yaml
from flowyml.errors import ConfigError


def refused(text: str) -> ConfigError:
    """The error reading ``text`` as the file ``flowyml.yaml`` raises (fails the test when it reads fine)."""
    with pytest.raises(ConfigError) as caught:
        read_yaml(text, file="flowyml.yaml")
    return caught.value
