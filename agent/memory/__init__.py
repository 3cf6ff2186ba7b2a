"""Recipe memory: the looks a merchant liked or saved, in ChromaDB, per user."""

from sceneshop.agent.memory.memory import RecipeMemory

__all__ = ["RecipeMemory"]
