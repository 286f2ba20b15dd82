"""TRL's GRPOTrainer against tooltune's native GRPO engine: same model, data and hyperparameters.

    .venv/bin/python bench/grpo_speed.py [--steps 4] [--prompts 1] [--rollouts 8] [--max-completion 64] [--base smollm2-135m]

Each engine trains `--steps` + 1 GRPO steps through `tooltune.training.train` (the path users run)
in its own child process, so each peak RSS is its own; the first step pays for warm-up and is left
out. TRL runs in our best TRL configuration (bf16, kept-logits log-probs, TRL's default gradient
checkpointing: the memory-bounded setting the recipe used). Printed per engine: seconds per step
(generation / the rest), completions/s, training tokens/s (prompt + completion tokens of every
rollout, the sequence TRL's objective runs over), peak RSS; then native / TRL.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def child(args: argparse.Namespace) -> None:
    import trl
    from transformers import TrainerCallback

    from tooltune.training import load_spec
    from tooltune.training.spec import parse_overrides
    from tooltune.training.train import train

    steps: list[dict[str, float]] = []
    generate = trl.GRPOTrainer._generate

    def timed_generate(self, prompts):
        started = time.perf_counter()
        out = generate(self, prompts)
        prompt_ids, completion_ids = out[0], out[1]
        steps[-1]["generate_s"] += time.perf_counter() - started
        steps[-1]["completions"] += len(completion_ids)
        steps[-1]["tokens"] += sum(len(p) + len(c) for p, c in zip(prompt_ids, completion_ids))
        steps[-1]["completion_tokens"] += sum(len(c) for c in completion_ids)
        return out

    trl.GRPOTrainer._generate = timed_generate

    class StepTimer(TrainerCallback):
        def on_step_begin(self, *a, **k):
            steps.append({"start": time.perf_counter(), "generate_s": 0.0, "completions": 0, "tokens": 0, "completion_tokens": 0})

        def on_step_end(self, *a, **k):
            steps[-1]["step_s"] = time.perf_counter() - steps[-1].pop("start")

    rows = args.prompts * args.rollouts
    spec = load_spec(None, {"base": args.base, "technique": "rlvr", "engine": args.child, "train_data": args.data, "max_steps": args.steps + 1,
                            "batch_size": rows, "micro_batch_size": min(8, rows), "rollouts": args.rollouts, "max_completion_length": args.max_completion,
                            "learning_rate": 1e-6, "save_steps": 10_000, "seed": 0, "register": False, "name": f"bench-{args.child}-{int(time.time())}",
                            **parse_overrides(args.set)})
    train(spec, echo=lambda s: None, callbacks=[StepTimer()])
    steady = steps[1:] or steps
    total = {k: sum(s[k] for s in steady) for k in steady[0]}
    print("RESULT " + json.dumps({
        "engine": args.child,
        "step_s": round(total["step_s"] / len(steady), 2),
        "generate_s": round(total["generate_s"] / len(steady), 2),
        "train_s": round((total["step_s"] - total["generate_s"]) / len(steady), 2),
        "completions_per_s": round(total["completions"] / total["step_s"], 3),
        "train_tokens_per_s": round(total["tokens"] / total["step_s"], 1),
        "mean_completion_tokens": round(total["completion_tokens"] / total["completions"], 1),
        "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
    }), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=4, help="measured steps per engine (one more runs first as warm-up)")
    parser.add_argument("--prompts", type=int, default=1, help="prompts per step")
    parser.add_argument("--rollouts", type=int, default=8)
    parser.add_argument("--max-completion", type=int, default=64)
    parser.add_argument("--base", default="smollm2-135m", help="model to train (a run:NAME warm start gives realistic answer lengths)")
    parser.add_argument("--engines", nargs="+", default=["trl", "native"], choices=["trl", "native"])
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="job spec overrides for both engines")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)

    # Each run writes a model and a checkpoint (~1.5 GB); they go to a scratch home removed at the end.
    scratch = tempfile.mkdtemp(prefix="tooltune-bench-")
    os.environ["TOOLTUNE_HOME"] = scratch
    try:
        compare(args)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def compare(args: argparse.Namespace) -> None:
    from tooltune.data.generate import GenerateConfig, generate

    data = generate(GenerateConfig(n=64, eval_n=0, seed=0), Path(os.environ["TOOLTUNE_HOME"]) / "data").paths["train"]
    import torch

    print(f"cores: {os.cpu_count()}, torch threads: {torch.get_num_threads()}, base: {args.base}, "
          f"{args.prompts} prompt(s) x {args.rollouts} rollouts x <= {args.max_completion} tokens per step, {args.steps} measured steps")
    results = {}
    for engine in args.engines:
        command = [sys.executable, __file__, "--child", engine, "--data", str(data), "--steps", str(args.steps), "--prompts", str(args.prompts),
                   "--rollouts", str(args.rollouts), "--max-completion", str(args.max_completion), "--base", args.base, "--set", *args.set]
        out = subprocess.run(command, capture_output=True, text=True)
        lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
        if out.returncode or not lines:
            sys.exit(f"{engine} failed:\n{out.stderr[-3000:]}")
        results[engine] = json.loads(lines[-1][7:])
        print(json.dumps(results[engine]), flush=True)
    if len(results) == 2:
        trl, native = results["trl"], results["native"]
        print(json.dumps({
            "native_over_trl": {
                "completions_per_s": round(native["completions_per_s"] / trl["completions_per_s"], 2),
                "train_tokens_per_s": round(native["train_tokens_per_s"] / trl["train_tokens_per_s"], 2),
                "step_s": round(trl["step_s"] / native["step_s"], 2),
                "peak_rss": round(native["peak_rss_gb"] / trl["peak_rss_gb"], 2),
            }
        }))


if __name__ == "__main__":
    main()
