"""Test support shared by several plugins' suites (importable because the root conftest puts tests/ on sys.path).

Unlike tests/standins, nothing here is loaded as a pytest plugin.
"""

from pathlib import Path

SUPPORT = Path(__file__).parent
