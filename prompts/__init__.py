"""Data, not code: presets, the LoRA catalog, system prompt and few-shot examples (YAML/Markdown)."""
