"""The loader, in process: listing backends from metadata, install hints, disabling, bad entry points."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowyml.errors import PluginError, PluginLoadError, PluginNotInstalledError
from flowyml.plugins import loader
from flowyml.plugins.kinds import Kind


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A private folder on sys.path where tests install distributions (dist-info + module) for real."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    loader.forget_installed()
    made: list[str] = []

    def install(dist: str, version: str, entry_points: str, module: str = "", source: str = "") -> None:
        info = folder / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text(entry_points)
        if module:
            (folder / f"{module}.py").write_text(source)
            made.append(module)
        loader.forget_installed()

    yield install
    import sys

    for module in made:
        sys.modules.pop(module, None)
    monkeypatch.undo()
    loader.forget_installed()


def test_iter_backends_lists_every_installed_backend_with_its_distribution(site, monkeypatch) -> None:
    site("flowyml-extra", "2.5", "[flowyml.artifact_stores]\nextra = extra_mod:Store\n[flowyml.experiment_trackers]\nxtrack = extra_mod:T\n")
    found = {(b.kind, b.type): b for b in loader.iter_backends()}
    extra = found[(Kind.ARTIFACT_STORE, "extra")]
    assert (extra.distribution, extra.version, extra.target, extra.disabled) == ("flowyml-extra", "2.5", "extra_mod:Store", False)
    assert found[(Kind.EXPERIMENT_TRACKER, "xtrack")].distribution == "flowyml-extra"
    local = found[(Kind.ORCHESTRATOR, "local")]
    assert local.distribution == "flowyml-local" and local.disabled is False
    monkeypatch.setenv("FLOWYML_DISABLE_PLUGINS", " flowyml-extra , xtrack,")
    assert loader.disabled_plugins() == {"flowyml-extra", "xtrack"}
    found = {(b.kind, b.type): b for b in loader.iter_backends()}
    assert found[(Kind.ARTIFACT_STORE, "extra")].disabled is True and found[(Kind.ORCHESTRATOR, "local")].disabled is False
    monkeypatch.setenv("FLOWYML_DISABLE_PLUGINS", "xtrack")
    found = {(b.kind, b.type): b for b in loader.iter_backends()}
    assert found[(Kind.EXPERIMENT_TRACKER, "xtrack")].disabled is True and found[(Kind.ARTIFACT_STORE, "extra")].disabled is False


def test_a_type_listed_twice_by_one_distribution_is_listed_once(site) -> None:
    site("flowyml-twice", "1.0", "[flowyml.model_registries]\ntwice = m:A\n")
    site("flowyml-twice2", "1.0", "[flowyml.model_registries]\ntwice = m:B\n")
    assert [b.type for b in loader.iter_backends() if b.type == "twice"] == ["twice"]


def test_install_hints() -> None:
    # the published name first; from a checkout the folder form follows (tests/packaging/test_install_hints.py)
    assert loader.install_hint(Kind.ARTIFACT_STORE, "gcs").startswith("install it with: pip install flowyml-gcs")
    hint = loader.install_hint(Kind.ARTIFACT_STORE, "azure")
    assert hint == (
        "no first-party backend is called 'azure'; first-party artifact store types are gcs, local, s3. "
        "A third-party backend must be installed in this environment and register an entry point in group 'flowyml.artifact_stores'"
    )


def test_load_component_class_errors(site, monkeypatch) -> None:
    site("flowyml-dup-a", "1.0", "[flowyml.model_deployers]\ndup = dup_a:D\n")
    site("flowyml-dup-b", "1.0", "[flowyml.model_deployers]\ndup = dup_b:D\n")
    with pytest.raises(PluginError) as info:
        loader.load_component_class(Kind.MODEL_DEPLOYER, "dup")
    assert info.value.message == "model deployer type 'dup' is registered by several distributions: flowyml-dup-a, flowyml-dup-b"
    site("flowyml-notaclass", "1.0", "[flowyml.model_deployers]\nnotaclass = notaclass_mod:thing\n", "notaclass_mod", "thing = 42\n")
    with pytest.raises(PluginLoadError, match="entry point 'notaclass' in flowyml.model_deployers must name a component class, got 42"):
        loader.load_component_class(Kind.MODEL_DEPLOYER, "notaclass")
    site("flowyml-okclass", "3.1", "[flowyml.model_deployers]\nokclass = okclass_mod:Deployer\n", "okclass_mod", "class Deployer:\n    pass\n")
    assert loader.load_component_class(Kind.MODEL_DEPLOYER, "okclass").__name__ == "Deployer"
    site("flowyml-boom", "0.9", "[flowyml.model_deployers]\nboom = boom_mod:D\n", "boom_mod", "raise KeyError('k')\n")
    with pytest.raises(PluginLoadError) as info:
        loader.load_component_class(Kind.MODEL_DEPLOYER, "boom", stack="prod")
    assert info.value.message == "plugin flowyml-boom 0.9 failed to import its model deployer 'boom' (boom_mod:D): KeyError: 'k'"
    with pytest.raises(PluginNotInstalledError) as info:
        loader.load_component_class(Kind.MODEL_DEPLOYER, "absent", stack="prod")
    assert info.value.message == "stack 'prod' model_deployer: no installed plugin provides model deployer type 'absent'"
    with pytest.raises(PluginNotInstalledError) as info:
        loader.load_component_class(Kind.MODEL_DEPLOYER, "absent")
    assert info.value.message == "model_deployer: no installed plugin provides model deployer type 'absent'"
    monkeypatch.setenv("FLOWYML_DISABLE_PLUGINS", "okclass")
    with pytest.raises(PluginError) as info:
        loader.load_component_class(Kind.MODEL_DEPLOYER, "okclass", stack="prod")
    assert info.value.message == "stack 'prod' model_deployer: plugin flowyml-okclass (type 'okclass') is disabled by FLOWYML_DISABLE_PLUGINS"


def test_general_plugins_are_imported_and_disabled_by_name_or_distribution(site, monkeypatch) -> None:
    site("flowyml-gen", "1.2", "[flowyml]\ngen = gen_mod\n", "gen_mod", "VALUE = 'loaded'\n")
    loaded = {name: (dist, module) for name, dist, module in loader.iter_general_plugins()}
    assert loaded["gen"][0] == "flowyml-gen" and loaded["gen"][1].VALUE == "loaded"
    for off in ("gen", "flowyml-gen"):
        monkeypatch.setenv("FLOWYML_DISABLE_PLUGINS", off)
        assert "gen" not in {name for name, _, _ in loader.iter_general_plugins()}


def test_nothing_is_disabled_by_default(monkeypatch) -> None:
    monkeypatch.delenv("FLOWYML_DISABLE_PLUGINS", raising=False)
    assert loader.disabled_plugins() == set()
    monkeypatch.setenv("FLOWYML_DISABLE_PLUGINS", "")
    assert loader.disabled_plugins() == set()


def test_a_distribution_without_name_or_version_is_listed_as_unknown(site, tmp_path) -> None:
    import importlib.metadata

    site("flowyml-anon", "1.0", "[flowyml.artifact_stores]\nanonstore = anon_mod:S\n")
    info = next((tmp_path / "site").glob("flowyml_anon-*.dist-info"))
    (info / "METADATA").write_text("Metadata-Version: 2.1\n")
    loader.forget_installed()
    found = {b.type: b for b in loader.iter_backends()}
    assert (found["anonstore"].distribution, found["anonstore"].version) == ("<unknown>", "?")
    assert loader._dist_of(importlib.metadata.EntryPoint("x", "m:X", "g")) == ("<unknown>", "?")


def test_a_duplicate_type_does_not_hide_the_types_after_it(site) -> None:
    site("flowyml-dupfirst", "1.0", "[flowyml.model_registries]\nshared = m:A\nonly_first = m:B\n")
    site("flowyml-dupsecond", "1.0", "[flowyml.model_registries]\nshared = m:C\nonly_second = m:D\n")
    types = [b.type for b in loader.iter_backends() if b.kind is Kind.MODEL_REGISTRY]
    assert types.count("shared") == 1 and "only_first" in types and "only_second" in types


def test_a_disabled_general_plugin_does_not_stop_the_ones_after_it(site, monkeypatch) -> None:
    site("flowyml-gens", "1.0", "[flowyml]\ngen_off = gen_off_mod\ngen_on = gen_on_mod\n", "gen_on_mod", "X = 1\n")
    monkeypatch.setenv("FLOWYML_DISABLE_PLUGINS", "gen_off")
    assert "gen_on" in {name for name, _, _ in loader.iter_general_plugins()}


def test_a_plugin_for_another_plugin_api_is_refused_by_its_top_level_package(site, tmp_path: Path) -> None:
    """Bugs caught: the API declaration read from the entry point's module instead of its top-level
    package (a submodule declares nothing: the plugin loads unchecked), or not read at all."""
    import sys

    import flowyml
    from flowyml.errors import PluginIncompatibleError

    package = tmp_path / "site" / "apipkg"
    package.mkdir()
    (package / "__init__.py").write_text("FLOWYML_PLUGIN_API = '9.9'\n")
    (package / "backend.py").write_text("class Deployer:\n    pass\n")
    site("flowyml-apipkg", "4.2", "[flowyml.model_deployers]\napipkg = apipkg.backend:Deployer\n")
    try:
        with pytest.raises(PluginIncompatibleError) as info:
            loader.load_component_class(Kind.MODEL_DEPLOYER, "apipkg")
        assert info.value.message == (
            f"plugin flowyml-apipkg 4.2 targets plugin API '9.9', but this is flowyml {flowyml.__version__} (plugin API 0.1)"
        )
        assert "apipkg.backend" not in sys.modules  # refused before the backend's module is imported
    finally:
        sys.modules.pop("apipkg", None)
        sys.modules.pop("apipkg.backend", None)


def test_an_entry_point_naming_a_missing_object_names_the_plugin_and_the_entry_point(site) -> None:
    site("flowyml-noattr", "1.5", "[flowyml.model_deployers]\nnoattr = noattr_mod:Missing\n", "noattr_mod", "class Other:\n    pass\n")
    with pytest.raises(PluginLoadError) as info:
        loader.load_component_class(Kind.MODEL_DEPLOYER, "noattr")
    assert info.value.message == (
        "plugin flowyml-noattr 1.5 failed to import its model deployer 'noattr' (noattr_mod:Missing): "
        "AttributeError: module 'noattr_mod' has no attribute 'Missing'"
    )
    assert info.value.hint == "reinstall flowyml-noattr (pip install --force-reinstall flowyml-noattr) or disable it with FLOWYML_DISABLE_PLUGINS=flowyml-noattr"


def test_forget_installed_sees_a_distribution_written_in_the_same_clock_tick(site, tmp_path) -> None:
    """Bug caught: on Python 3.11, importlib.invalidate_caches() (what pytest's syspath_prepend calls) leaves
    importlib.metadata's per-folder listing cached, keyed by the folder's mtime alone: a distribution written
    within the clock tick of an earlier read (a coarse file-system clock, another thread reading) stayed unseen."""
    import importlib
    import os

    folder = tmp_path / "site"
    assert "late" not in {name for name, _, _ in loader.iter_general_plugins()}  # the folder is read, empty
    read_at = os.stat(folder).st_mtime_ns
    site("flowyml-late", "1.0", "[flowyml]\nlate = late_mod\n", "late_mod", "X = 1\n")
    os.utime(folder, ns=(read_at, read_at))  # a coarse clock: the folder's mtime is the one it was read at
    importlib.invalidate_caches()
    loader.forget_installed()
    assert "late" in {name for name, _, _ in loader.iter_general_plugins()}
