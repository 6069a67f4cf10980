"""Expected values of the spec pipeline (tests/support/aws_spec_pipelines.py), rebuilt independently of any store."""

from __future__ import annotations

import pandas as pd
from support.aws_spec_pipelines import make_frame


def expected_features() -> pd.DataFrame:
    frame = make_frame()
    frame["a"] = (frame["a"] - frame["a"].mean()) / frame["a"].std()
    return frame
