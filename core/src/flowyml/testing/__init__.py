"""Contract test suites every backend (ours or a third party's) runs against itself.

Contracts: :class:`ArtifactStoreContract`, :class:`ModelRegistryContract`,
:class:`ModelDeployerContract`, :class:`TrackerContract` and
:class:`OrchestratorContract`. Subclass one in your plugin's tests and provide
its fixtures::

    from flowyml.testing import ArtifactStoreContract

    class TestMyStore(ArtifactStoreContract):
        @pytest.fixture
        def component_config(self, my_bucket):
            return {"type": "mystore", "bucket": my_bucket}

Helpers for the rest of a plugin's tests: :func:`imported_modules` (which
modules a stack imports, for lazy-loading tests), :func:`make_project` /
the ``flowyml_project`` fixture with :func:`load_pipeline` (a project folder
with a pipeline, for end-to-end tests), :func:`tracked_stack` and the
:data:`TRACKED_PIPELINE` (for tracker plugins), :func:`make_stack`,
:func:`write_config` and :func:`start_run`.

Needs pytest (``pip install 'flowyml[testing]'``).
"""

from flowyml.testing.contracts import (
    ArtifactStoreContract,
    ModelDeployerContract,
    ModelRegistryContract,
    TrackerContract,
)
from flowyml.testing.imports import imported_modules
from flowyml.testing.orchestrator_contract import OrchestratorContract
from flowyml.testing.projects import (
    TRACKED_PIPELINE,
    TRACKED_ROUTING,
    flowyml_project,
    load_pipeline,
    make_project,
    tracked_stack,
)
from flowyml.testing.runs import start_run
from flowyml.testing.stacks import make_stack, write_config

__all__ = [
    "TRACKED_PIPELINE",
    "TRACKED_ROUTING",
    "ArtifactStoreContract",
    "ModelDeployerContract",
    "ModelRegistryContract",
    "OrchestratorContract",
    "TrackerContract",
    "flowyml_project",
    "imported_modules",
    "load_pipeline",
    "make_project",
    "make_stack",
    "start_run",
    "tracked_stack",
    "write_config",
]
