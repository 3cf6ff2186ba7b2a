"""The project's exception types: each message says what went wrong and what to do."""


class SceneshopError(Exception):
    """A problem the user can fix; the CLI and UI show its message, never a traceback."""


class InputError(SceneshopError):
    """A bad upload, mask, path or request."""


class CatalogError(SceneshopError):
    """An unknown preset or LoRA name, or a catalog file that does not parse."""


class RecipeError(SceneshopError):
    """A recipe that does not validate (field out of range, newer schema, malformed JSON)."""


class EngineError(SceneshopError):
    """An image engine that cannot run (model missing, wrong LoRA family, cancelled)."""


class Cancelled(EngineError):
    """The user cancelled a running generation."""


def check_cancel(cancel) -> None:
    """Raises Cancelled when `cancel` (a threading.Event, or None) is set: what a long job calls
    between its stages, so a cancelled or abandoned turn stops at the next one."""
    if cancel is not None and cancel.is_set():
        raise Cancelled("generation cancelled; nothing was saved — send the request again to restart")
