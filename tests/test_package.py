"""The package's core: lazy imports, profiles, seeding, device choice."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import numpy as np
import pytest

import lstm_course
from lstm_course.config import ProfileError


def test_import_pulls_in_no_framework():
    code = (
        "import lstm_course, lstm_course.data, lstm_course.numpy.gradcheck, lstm_course.plot, "
        "lstm_course.check, lstm_course.glossary, sys; "
        "bad = [m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_profile_default_and_values(monkeypatch):
    monkeypatch.delenv("LSTM_COURSE_PROFILE", raising=False)
    assert lstm_course.profile() == "quick"  # Colab and a plain pip install run quick unless asked
    monkeypatch.setenv("LSTM_COURSE_PROFILE", "full")
    assert lstm_course.by_profile(quick=1, full=2) == 2
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


def test_set_seed_does_not_pretend_to_set_the_hash_seed(monkeypatch):
    monkeypatch.delenv("PYTHONHASHSEED", raising=False)
    lstm_course.set_seed(5)
    assert "PYTHONHASHSEED" not in os.environ  # it only acts when the interpreter starts


@pytest.fixture
def restore_determinism(monkeypatch):
    import torch

    from lstm_course import runtime

    saved = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
        runtime._determinism_requested,
    )
    monkeypatch.delenv("CUBLAS_WORKSPACE_CONFIG", raising=False)
    yield
    torch.use_deterministic_algorithms(saved[0], warn_only=saved[1])
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved[2], saved[3]
    runtime._determinism_requested = saved[4]


def test_set_seed_deterministic_sets_each_torch_switch(restore_determinism):
    import torch

    from lstm_course import runtime

    torch.backends.cudnn.benchmark = True
    lstm_course.set_seed(7, deterministic=True, warn_only=False)
    assert torch.are_deterministic_algorithms_enabled()
    assert not torch.is_deterministic_algorithms_warn_only_enabled()
    assert torch.backends.cudnn.deterministic and not torch.backends.cudnn.benchmark
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == runtime.CUBLAS_WORKSPACE
    assert runtime.determinism_requested()
    # a workspace the user chose is kept
    os.environ["CUBLAS_WORKSPACE_CONFIG"] = ":16:8"
    lstm_course.set_seed(7, deterministic=True)
    assert os.environ["CUBLAS_WORKSPACE_CONFIG"] == ":16:8"
    assert torch.is_deterministic_algorithms_warn_only_enabled()


def test_set_seed_deterministic_warns_when_cuda_already_started(restore_determinism, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    with pytest.warns(UserWarning, match="CUBLAS_WORKSPACE_CONFIG"):
        lstm_course.set_seed(1, deterministic=True)


def test_set_seed_deterministic_repeats_training_bit_for_bit(restore_determinism):
    import torch

    def train() -> list[float]:
        lstm_course.set_seed(11, deterministic=True)
        lstm = torch.nn.LSTM(3, 5)
        opt = torch.optim.SGD(lstm.parameters(), lr=0.5)
        for _ in range(3):
            out, _ = lstm(torch.randn(4, 2, 3))
            loss = out.square().mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        return [float(p.sum()) for p in lstm.parameters()]

    first = train()
    assert train() == first


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
