"""``flowyml``: run pipelines, inspect runs and artifacts, manage stacks, models and plugins."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from flowyml import __version__
from flowyml.errors import FlowymlError


class FlowymlGroup(click.Group):
    """Prints FlowymlErrors as a message and a hint (exit 1), not a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FlowymlError as exc:
            click.echo(click.style("Error: ", fg="red", bold=True) + exc.message, err=True)
            if exc.hint:
                click.echo(f"  hint: {exc.hint}", err=True)
            ctx.exit(1)

    #: The plugin adding commands now (set while ``flowyml_register_commands`` runs).
    adding_for: str | None = None

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        name = name or cmd.name
        if self.adding_for is not None and name in self.commands:
            _warn(f"plugin {self.adding_for} tried to add command {name!r}, which exists already; not added")
            return
        super().add_command(cmd, name)


@click.group(cls=FlowymlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="flowyml")
def cli() -> None:
    """FlowyML: declare what an artifact is; the active stack decides where it goes."""
    _configure_logging()


class _NotShownByCli(logging.Filter):
    """Routing and run outcomes are printed by the commands themselves."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith(("flowyml.routing", "flowyml.run"))


def _configure_logging() -> None:
    from flowyml.redaction import install_log_redaction

    install_log_redaction()  # URL passwords never reach a log line, whatever logs them
    logger = logging.getLogger("flowyml")
    if logger.handlers:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("flowyml: %(message)s"))
    handler.addFilter(_NotShownByCli())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _register_commands() -> None:
    from flowyml.cli import artifacts, gc, init, models, plugins, route, run, runs, stack, step

    cli.add_command(init.init)
    cli.add_command(run.run_cmd)
    cli.add_command(runs.runs)
    cli.add_command(artifacts.artifacts)
    cli.add_command(plugins.plugins)
    cli.add_command(stack.stack)
    cli.add_command(models.model)
    cli.add_command(route.route)
    cli.add_command(step.step)
    cli.add_command(gc.gc)


def _warn(message: str) -> None:
    click.echo(click.style("Warning: ", fg="yellow", bold=True) + message, err=True)


def _register_plugin_commands() -> None:
    """Let every installed general plugin add its commands (``flowyml_register_commands``).

    A manager of its own (not the serializers' one, which imports the built-in
    serializers): starting ``flowyml`` stays light.
    """
    import pluggy

    from flowyml.plugins import hookspecs
    from flowyml.plugins.loader import iter_general_plugins
    from flowyml.plugins.markers import PROJECT_NAME

    group = cli
    assert isinstance(group, FlowymlGroup)
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    dists: dict[str, str] = {}
    try:
        for name, dist, module in iter_general_plugins():
            if pm.get_plugin(name) is None and not pm.is_registered(module):
                pm.register(module, name=name)
                dists[name] = dist
    except FlowymlError as exc:  # a broken plugin must not take the whole command line down
        _warn(exc.message + (f" ({exc.hint})" if exc.hint else ""))
    except pluggy.PluginValidationError as exc:
        _warn(f"a general plugin has an invalid hook implementation: {exc}")
    for impl in reversed(pm.hook.flowyml_register_commands.get_hookimpls()):  # in install order
        group.adding_for = dists.get(impl.plugin_name, impl.plugin_name)
        try:
            impl.function(cli=group)
        except Exception as exc:
            _warn(f"plugin {group.adding_for} failed to add its commands: {type(exc).__name__}: {exc}")
        finally:
            group.adding_for = None


_register_commands()
_register_plugin_commands()


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="flowyml")


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
