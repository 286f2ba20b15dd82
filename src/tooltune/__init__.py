"""tooltune: teach small open LLMs to call tools, ask when they must, and refuse when they should."""

from .schema import ToolCall, parse_tool_calls

__version__ = "0.1.0"
__all__ = ["ToolCall", "parse_tool_calls", "__version__"]
