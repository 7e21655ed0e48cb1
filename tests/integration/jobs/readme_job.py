"""Runs the README's first example exactly as written (prints its outputs)."""

from __future__ import annotations

import re
from pathlib import Path

readme = Path(__file__).resolve().parents[3] / "README.md"
block = re.findall(r"```python\n(.*?)```", readme.read_text(), flags=re.S)[0]
exec(compile(block, "README.md", "exec"), {"__name__": "__main__"})
