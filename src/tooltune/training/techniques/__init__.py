"""The customization techniques, one unit each (base.py says what a unit owns).

Adding a technique is one module here and one entry below; train.py, the spec's checks, the CLI,
the jobs and the studio take the list from ``TECHNIQUES``.
"""

from .base import Context, Technique
from .dpo import DPO
from .rlaif import RLAIF
from .rlvr import RLVR
from .sft import SFT

TECHNIQUES: dict[str, Technique] = {t.name: t for t in (SFT(), RLVR(), RLAIF(), DPO())}

__all__ = ["TECHNIQUES", "Technique", "Context"]
