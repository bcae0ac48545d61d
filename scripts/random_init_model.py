"""Write a randomly initialised network with a registered model's architecture and tokenizer (a control).

The control of docs/method.md §13: a network that knows nothing must come out not measurable. Weights are
drawn by transformers' own initialisation with a fixed seed and saved as safetensors beside the model's
tokenizer and chat template, so `truthstab score FOLDER` scores it through the ordinary loading path.

    python scripts/random_init_model.py smollm2-135m /tmp/random-smollm2
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM

from truthstab.models.loading import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="alias, Hub id or folder whose architecture and tokenizer to copy")
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    loaded = load_model(args.model, None, "float32", "cpu", False, "auto")
    torch.manual_seed(args.seed)
    model = AutoModelForCausalLM.from_config(loaded.model.config)
    model.save_pretrained(args.out, safe_serialization=True)
    loaded.tokenizer.save_pretrained(args.out)
    print(f"random {loaded.spec.architecture} with {args.model}'s tokenizer written to {args.out}")


if __name__ == "__main__":
    main()
