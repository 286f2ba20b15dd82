"""tooltune: teach small open LLMs to call tools, ask when they must, and refuse when they should."""

from .pipeline import Customized, customize, evaluate, export, serve
from .schema import ToolCall, parse_tool_calls

__version__ = "0.1.0"
__all__ = ["Customized", "ToolCall", "customize", "evaluate", "export", "parse_tool_calls", "serve", "__version__"]
