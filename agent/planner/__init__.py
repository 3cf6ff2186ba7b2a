"""The embedded planner: reads a merchant's words offline and edits the recipe."""


def __getattr__(name: str):
    # Imported on first use, so that reading a chat command (sceneshop.agent.commands, which uses
    # this package's lexicon) does not load the planner and its embedding model with it.
    if name == "EmbeddedPlanner":
        from sceneshop.agent.planner.embedded import EmbeddedPlanner

        return EmbeddedPlanner
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["EmbeddedPlanner"]
