"""What `import flowyml` does (and does not) pull in, and that the flowyml imported is ours."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import flowyml
import flowyml.core

HEAVY = ("pandas", "numpy", "pyarrow", "sklearn", "boto3", "botocore", "s3fs", "gcsfs", "google", "mlflow", "wandb", "tensorboardX", "torch")


def modules_after(code: str) -> set[str]:
    """Modules that ``code`` adds to a fresh interpreter (site hooks such as *-nspkg.pth files excluded)."""

    def loaded(source: str) -> set[str]:
        out = subprocess.run([sys.executable, "-c", f"{source}\nimport sys, json; print(json.dumps(sorted(sys.modules)))"], capture_output=True, text=True, check=True)
        return set(json.loads(out.stdout.strip().splitlines()[-1]))

    return loaded(code) - loaded("pass")


def test_import_flowyml_loads_no_backend_no_vendor_sdk_no_data_library() -> None:
    loaded = modules_after("import flowyml\nfrom flowyml.core import Model, Dataset, Metrics, Parameters, step, pipeline, Pipeline")
    roots = {m.split(".")[0] for m in loaded}
    assert not roots & set(HEAVY), roots & set(HEAVY)
    assert not any(m.startswith("flowyml_") for m in loaded), "a backend was imported"
    assert not {m for m in loaded if m.startswith(("google.cloud.aiplatform", "google.cloud.storage"))}
    # plugin machinery is loaded when a stack is used, not on import; the file hasher when a file is hashed
    assert "pluggy" not in roots and "yaml" not in roots and "cattrs" not in roots and "blake3" not in roots


def test_use_stack_import_is_light_too() -> None:
    loaded = modules_after("from flowyml.plugins import use_stack")
    assert not {m.split(".")[0] for m in loaded} & set(HEAVY)
    assert not any(m.startswith("flowyml_") for m in loaded)


def test_the_imported_flowyml_is_ours_not_the_unrelated_pypi_project() -> None:
    dist = importlib.metadata.distribution("flowyml")
    assert dist.version == flowyml.__version__ == "0.1.0"
    assert "routes it to the infrastructure" in (dist.metadata["Summary"] or "")
    assert any(r.startswith("flowyml-local") for r in dist.requires or [])
    assert Path(flowyml.__file__).parent.name == "flowyml"
    assert hasattr(flowyml, "hookimpl") and hasattr(flowyml.core, "Model")


def test_top_level_names_are_the_core_objects() -> None:
    for name in ("Model", "Dataset", "Metrics", "Parameters", "step", "pipeline", "Pipeline"):
        assert getattr(flowyml, name) is getattr(flowyml.core, name)


def test_local_backend_installed_with_core_and_listed_from_metadata() -> None:
    from flowyml.plugins.loader import iter_backends

    found = {(b.kind.value, b.type, b.distribution) for b in iter_backends()}
    for kind in ("orchestrator", "artifact_store", "model_registry", "model_deployer", "experiment_tracker"):
        assert (kind, "local", "flowyml-local") in found
    loaded = modules_after("from flowyml.plugins.loader import iter_backends\nlist(iter_backends())")
    assert not any(m.startswith("flowyml_local") for m in loaded)


def test_client_import_is_light_and_reading_runs_loads_no_backend(tmp_path: Path) -> None:
    loaded = modules_after(f"import os; os.chdir({str(tmp_path)!r})\nfrom flowyml import Client\nClient().list_runs()")
    assert not {m.split(".")[0] for m in loaded} & {*HEAVY, "blake3"}
    assert not any(m.startswith("flowyml_") for m in loaded), "reading run records imported a backend"
