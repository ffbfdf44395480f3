import shutil

import pytest

from tests.services_plugin import SERVICE_SKIP

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]  # fmt: skip


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):  # noqa: ANN001, ANN201
    """Debian's chromium (no browser download is possible here), headless."""
    if not shutil.which("chromium"):
        pytest.skip(f"{SERVICE_SKIP} Debian's chromium is not installed")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}
