"""A stack's plugin manager finds exactly the hook implementations pluggy's own search finds, once per class."""

from __future__ import annotations

import types

import pluggy
import pytest

import flowyml
from flowyml.plugins import hookspecs
from flowyml.plugins.component_manager import ComponentPluginManager
from flowyml.plugins.markers import PROJECT_NAME


class Store:
    @flowyml.hookimpl
    def flowyml_artifact_store_save(self, key, write):
        return f"{id(self)}:{key}"

    @property
    def boom(self):
        raise AssertionError("a property was executed while looking for hook implementations")

    def helper(self):
        return "not a hook"


class LoggingStore(Store):
    @flowyml.hookimpl
    def flowyml_artifact_store_exists(self, uri):
        return True


def managers():
    for cls in (pluggy.PluginManager, ComponentPluginManager):
        pm = cls(PROJECT_NAME)
        pm.add_hookspecs(hookspecs)
        yield pm


def registered(pm, plugin) -> set[str]:
    return {name for name in dir(pm.hook) if not name.startswith("_")
            and any(impl.plugin is plugin for impl in getattr(pm.hook, name).get_hookimpls())}


def test_every_instance_of_a_class_gets_its_hooks_and_a_subclass_its_own() -> None:
    plain, ours = managers()
    for pm in (plain, ours):
        first, second, sub = Store(), Store(), LoggingStore()
        for n, plugin in enumerate((first, second, sub)):
            pm.register(plugin, name=f"p{n}")
        assert registered(pm, first) == registered(pm, second) == {"flowyml_artifact_store_save"}
        assert registered(pm, sub) == {"flowyml_artifact_store_save", "flowyml_artifact_store_exists"}
        impls = pm.hook.flowyml_artifact_store_save.get_hookimpls()
        assert [impl.plugin for impl in impls] == [first, second, sub]
        assert pm.hook.flowyml_artifact_store_save(key="k", write=None) == f"{id(sub)}:k"  # firstresult: the last registered


def test_a_hook_set_on_the_instance_and_a_module_plugin_are_found() -> None:
    plain, ours = managers()
    for pm in (plain, ours):
        store = Store()
        pm.register(Store(), name="before")  # the class is searched first without the instance attribute

        @flowyml.hookimpl
        def flowyml_artifact_store_exists(uri):
            return "instance"

        store.flowyml_artifact_store_exists = flowyml_artifact_store_exists
        pm.register(store, name="with-attr")
        assert registered(pm, store) == {"flowyml_artifact_store_save", "flowyml_artifact_store_exists"}
        module = types.ModuleType("a_plugin_module")
        module.flowyml_artifact_store_exists = flowyml_artifact_store_exists
        pm.register(module, name="module")
        assert registered(pm, module) == {"flowyml_artifact_store_exists"}


def test_a_misspelt_hook_is_still_refused() -> None:
    class Typo:
        @flowyml.hookimpl
        def flowyml_artifact_store_sav(self, key, write):
            return None

    pm = ComponentPluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    pm.register(Typo(), name="typo")
    with pytest.raises(pluggy.PluginValidationError, match="flowyml_artifact_store_sav"):
        pm.check_pending()


def test_every_manager_gets_the_same_hook_specifications() -> None:
    plain, ours = managers()
    again = ComponentPluginManager(PROJECT_NAME)
    again.add_hookspecs(hookspecs)  # the second time, from what the first one read

    def specs(pm):
        return {name: (caller.spec.opts, caller.spec.argnames) for name, caller in vars(pm.hook).items() if caller.spec}

    assert specs(plain) == specs(ours) == specs(again) and "flowyml_artifact_store_save" in specs(plain)
    assert specs(ours)["flowyml_artifact_store_save"][0] is not specs(again)["flowyml_artifact_store_save"][0]
