"""Demo data steps for `make run`. Apps register a step; `seed_demo` runs them in order.

Each step must be idempotent (every `make run` calls it) and returns lines to print.
"""

from collections.abc import Callable

DemoStep = Callable[[], list[str]]
_steps: list[DemoStep] = []


def register_demo_step(step: DemoStep) -> DemoStep:
    if step not in _steps:
        _steps.append(step)
    return step


def demo_steps() -> list[DemoStep]:
    return list(_steps)
