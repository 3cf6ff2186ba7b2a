"""The LLM planner: a LangChain chat model that calls typed recipe tools."""

from sceneshop.agent.llm.planner import LLMPlanner

__all__ = ["LLMPlanner"]
