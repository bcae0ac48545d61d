"""Ship the dataset releases inside the wheel.

The releases live at the repository top level (``datasets/``, as the project layout asks), outside the
package source root. This hook copies them into ``truthstab/_releases`` when a wheel is built, so that
``pip install truthstab`` without the repository still has every release. Editable installs read
``datasets/`` in place.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithReleases(build_py):
    def run(self) -> None:
        super().run()
        src = Path(__file__).parent / "datasets"
        dst = Path(self.build_lib) / "truthstab" / "_releases"
        if src.is_dir():
            shutil.rmtree(dst, ignore_errors=True)
            for release in sorted(p for p in src.iterdir() if (p / "MANIFEST.json").is_file()):
                shutil.copytree(release, dst / release.name)


setup(cmdclass={"build_py": BuildWithReleases})
