"""Write the hand-check sample of a release version for judging (keeps verdicts already given).

    PYTHONPATH=benchmark python scripts/judgement_sample.py 2.1.0

Builds the version's rows (no release is written), draws the seeded sample that `truthstab datasets
build` checks, and writes it to the recipe's judgement file with the verdicts and notes of statements
already judged there; fill in `verdict` (correct or wrong) and `note` for the others.
"""

from __future__ import annotations

import csv
import sys

from truthstab.data.build import judgements
from truthstab.data.build.pipeline import DEFAULT_SEED, stage_seed
from truthstab.data.build.pipeline2 import build_rows_v2
from truthstab.data.build.recipes import recipe_for


def main(version: str) -> None:
    recipe = recipe_for(version)
    frame, _ = build_rows_v2(recipe, DEFAULT_SEED)
    picked = judgements.sample(frame, stage_seed(DEFAULT_SEED, "judgements"))
    path = recipe.judgements_path
    judged = {}
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as handle:
            judged = {r["id"]: (r["verdict"], r["note"]) for r in csv.DictReader(handle)}
    path.write_text(judgements.template_csv(picked, judged), encoding="utf-8")
    print(f"wrote {path}: {len(picked)} statements, {sum(i in judged for i in picked['id'])} already judged")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "2.1.0")
