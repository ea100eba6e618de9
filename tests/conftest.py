import os

import numpy as np
import pytest

import chainrule as cr

try:   # property tests draw the same examples on every run (a red CI is then reproducible, and never a fluke of
    # one draw); CHAINRULE_HYPOTHESIS=explore draws fresh ones, as for a bug hunt
    from hypothesis import settings as _hypothesis_settings
    _hypothesis_settings.register_profile("repeatable", derandomize=True, database=None)
    _hypothesis_settings.register_profile("explore", derandomize=False)
    _hypothesis_settings.load_profile(os.environ.get("CHAINRULE_HYPOTHESIS", "repeatable"))
except ImportError:   # the property tests skip themselves
    pass


@pytest.fixture(autouse=True)
def _seed():
    cr.manual_seed(0)
    np.random.seed(0)
    yield
