"""`snipe demo`: the whole chain, end to end, against the sandbox, with nothing to configure."""

from snipe.demo.model import BLOCK_HOURS, DemoFailed, DemoOptions, DemoResult, DemoSnapshot
from snipe.demo.run import run_demo

__all__ = ["BLOCK_HOURS", "DemoFailed", "DemoOptions", "DemoResult", "DemoSnapshot", "run_demo"]
