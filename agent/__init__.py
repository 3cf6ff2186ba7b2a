"""Understanding and state: the recipe, planners, sessions, memory and the CLI."""
