"""The leaderboard: rank result files with honest uncertainty; render them for a terminal and a browser.

``build`` collects and ranks (:mod:`truthstab.leaderboard.build`), ``render`` writes the files
(:mod:`truthstab.leaderboard.render`), ``serve`` serves them on localhost (:mod:`truthstab.leaderboard.serve`).
"""

from truthstab.errors import TruthstabError


class LeaderboardError(TruthstabError):
    """The leaderboard cannot be built, read or served (bad folder, missing build, bad option)."""


__all__ = ["LeaderboardError"]
