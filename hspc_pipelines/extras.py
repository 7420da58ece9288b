"""Optional parts of the package: the local emulators (and moto under them) come with the `emulators`
extra, not with the runtime package, and the production image leaves them out. Commands that need
them import them through here, late, so a missing extra ends in one message instead of a traceback."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hspc_pipelines.emulators.stack import EmulatorStack

EMULATORS_EXTRA = "emulators"
# Modules the emulators need that only the extra installs (moto[server] brings flask, flask-cors, werkzeug).
_EMULATOR_MODULES = ("hspc_pipelines.emulators", "moto", "flask", "flask_cors", "werkzeug")


class MissingExtraError(RuntimeError):
    """A command needs an optional extra that is not installed; the message says what to install."""


def missing_emulators(what: str, missing: str) -> MissingExtraError:
    return MissingExtraError(
        f"{what} needs the local emulators, which are not installed (no module {missing!r}). "
        f"Install the '{EMULATORS_EXTRA}' extra: pip install 'hspc-pipelines[{EMULATORS_EXTRA}]' "
        f"(from a checkout: pip install -e '.[dev,{EMULATORS_EXTRA}]', which `make run` does)."
    )


def _is_emulator_module(name: str | None) -> bool:
    return bool(name) and any(name == m or str(name).startswith(m + ".") for m in _EMULATOR_MODULES)


def emulator_stack(what: str) -> type[EmulatorStack]:
    """The EmulatorStack class; raises MissingExtraError naming the extra when it is not installed.
    `what` names the command that needs it, for the message."""
    try:
        import moto.server  # noqa: F401  (the stack starts moto's server: check the extra is whole)

        from hspc_pipelines.emulators.stack import EmulatorStack
    except ModuleNotFoundError as exc:
        if not _is_emulator_module(exc.name):
            raise  # something else is broken: keep the real error
        raise missing_emulators(what, str(exc.name)) from None
    return EmulatorStack
