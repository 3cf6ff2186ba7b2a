"""Recipe memory: the looks a merchant liked or saved, in ChromaDB, per user."""


def __getattr__(name: str):
    # Imported on first use: ChromaDB takes about a second to import, and a request that needs no
    # memory (or the recall rules in recall.py) should not wait for it.
    if name == "RecipeMemory":
        from sceneshop.agent.memory.memory import RecipeMemory

        return RecipeMemory
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["RecipeMemory"]
