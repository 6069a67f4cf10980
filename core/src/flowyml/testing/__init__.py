"""Contract test suites every backend (ours or a third party's) runs against itself.

Subclass a contract in your plugin's tests and provide its fixtures::

    from flowyml.testing import ArtifactStoreContract

    class TestMyStore(ArtifactStoreContract):
        @pytest.fixture
        def component_config(self, my_bucket):
            return {"type": "mystore", "bucket": my_bucket}

Needs pytest (``pip install 'flowyml[testing]'``).
"""

from flowyml.testing.contracts import (
    ArtifactStoreContract,
    ModelDeployerContract,
    ModelRegistryContract,
    TrackerContract,
)
from flowyml.testing.runs import start_run
from flowyml.testing.stacks import make_stack, write_config

__all__ = [
    "ArtifactStoreContract",
    "ModelDeployerContract",
    "ModelRegistryContract",
    "TrackerContract",
    "make_stack",
    "start_run",
    "write_config",
]
