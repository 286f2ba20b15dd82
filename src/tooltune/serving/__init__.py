"""Serving: an OpenAI-compatible endpoint over the shared parser and generation path."""
