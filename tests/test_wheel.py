"""The wheel ships the rule packs: build it, install it into a fresh virtualenv, list the rules."""

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

from prodaudit.catalog import load_catalog
from prodaudit.model import Phase

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_every_pack(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w", str(dist), str(ROOT)],
        check=True, capture_output=True, text=True,
    )
    [wheel] = dist.glob("prodaudit-*.whl")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True).stdout.strip())
    # Install only prodaudit from the wheel; its dependencies come from this test's environment,
    # appended after the fresh site-packages so the wheel's copy of prodaudit wins.
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, text=True)
    (site / "zz_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")

    where = subprocess.run([str(python), "-c", "import prodaudit, pathlib; print(pathlib.Path(prodaudit.__file__).parent)"],
                           check=True, capture_output=True, text=True, cwd=tmp_path).stdout.strip()
    assert Path(where) == site / "prodaudit"
    listing = subprocess.run([str(python), "-m", "prodaudit", "rules", "list"], capture_output=True, text=True, cwd=tmp_path)
    assert listing.returncode == 0, listing.stderr
    for phase in Phase:
        assert f"{phase.value} (" in listing.stdout
    assert f"{len(load_catalog())} rules" in listing.stdout
    assert (site / "prodaudit" / "_rules" / "security").is_dir()
