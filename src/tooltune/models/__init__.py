"""Base models: find them, convert them once to plain transformers folders, load them.

Only :mod:`tooltune.models.catalog` is torch-free; the loaders import torch and transformers.
"""

from .catalog import BUNDLED, BundledModel, ModelNotFound, bundled_gguf_path, list_base_models

__all__ = ["BUNDLED", "BundledModel", "ModelNotFound", "bundled_gguf_path", "list_base_models"]
