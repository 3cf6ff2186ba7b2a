"""The embedded planner: reads a merchant's words offline and edits the recipe."""

from sceneshop.agent.planner.embedded import EmbeddedPlanner

__all__ = ["EmbeddedPlanner"]
