"""The package's core: lazy imports, profiles, seeding, device choice."""
from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest

import lstm_course
from lstm_course.config import ProfileError


def test_import_pulls_in_no_framework():
    code = ("import lstm_course, lstm_course.data, lstm_course.numpy.gradcheck, lstm_course.plot, "
            "lstm_course.check, lstm_course.glossary, sys; "
            "bad = [m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_profile_default_and_values(monkeypatch):
    monkeypatch.delenv("LSTM_COURSE_PROFILE", raising=False)
    assert lstm_course.profile() == "full"
    monkeypatch.setenv("LSTM_COURSE_PROFILE", "QUICK")
    assert lstm_course.profile() == "quick"
    assert lstm_course.by_profile(quick=1, full=2) == 1


def test_unknown_profile_is_an_error(monkeypatch):
    monkeypatch.setenv("LSTM_COURSE_PROFILE", "fast")
    with pytest.raises(ProfileError, match="fast.*quick, full"):
        lstm_course.profile()


def test_set_seed_makes_numpy_python_and_torch_repeatable():
    import torch

    def draw():
        return random.random(), np.random.rand(3).tolist(), torch.rand(3).tolist()

    lstm_course.set_seed(123)
    first = draw()
    lstm_course.set_seed(123)
    assert draw() == first
    lstm_course.set_seed(124)
    assert draw() != first


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_set_seed_rejects_bad_values(bad):
    with pytest.raises(ValueError):
        lstm_course.set_seed(bad)


def test_get_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert lstm_course.get_device().type == "cpu"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert lstm_course.get_device().type == "mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert lstm_course.get_device().type == "cuda"
    assert lstm_course.get_device("cpu").type == "cpu"


def test_explicit_unavailable_device_is_an_error(monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="cuda"):
        lstm_course.get_device("cuda")


def test_lazy_submodules_and_unknown_attribute():
    assert lstm_course.numpy.__name__ == "lstm_course.numpy"
    with pytest.raises(AttributeError):
        lstm_course.does_not_exist  # noqa: B018
