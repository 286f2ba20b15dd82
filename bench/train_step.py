"""Seconds per optimizer step and peak memory for each technique on the bundled model.

    .venv/bin/python bench/train_step.py [--technique sft rlvr dpo] [--steps 3] [--dtype auto] [--pairs 1.0] [--rows-per-list 4]

Generates a small training set, runs `--steps` optimizer steps per technique through the same
`tooltune.training.train` path users run, and prints the mean step time (the first step, which
pays for warm-up, is reported apart) and the process's peak RSS. Settings per technique:
sft/dpo batch 8 rows; rlvr 1 prompt x 8 rollouts x 64 tokens (the figures in the training issue).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path

from transformers import TrainerCallback

from tooltune.data.generate import GenerateConfig, generate
from tooltune.training import load_spec
from tooltune.training.spec import parse_overrides
from tooltune.training.train import train

SETTINGS = {
    # Random batches, so the figure stays comparable with the step-time table measured before
    # length grouping; a whole recipe run shows what grouping saves (README: 25.8 -> 17.6 s/step).
    "sft": {"batch_size": 8, "micro_batch_size": 8, "max_length": 1024, "trl": {"train_sampling_strategy": "random"}},
    # Near misses, so the figure is the training step alone (sampled rejections add a generation
    # pass before step 1). `--set trl.gradient_checkpointing=true` is TRL's DPO as shipped: with
    # checkpointing on, tooltune's shared-prompt head steps aside (training/dpo_logps.py).
    "dpo": {"batch_size": 8, "micro_batch_size": 8, "max_length": 1024, "rejections": "near_miss"},
    "rlvr": {"batch_size": 8, "micro_batch_size": 8, "rollouts": 8, "max_completion_length": 64},
}


class StepTimer(TrainerCallback):
    def __init__(self):
        self.times: list[float] = []
        self._start = 0.0

    def on_step_begin(self, args, state, control, **kwargs):
        self._start = time.perf_counter()

    def on_step_end(self, args, state, control, **kwargs):
        self.times.append(time.perf_counter() - self._start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--technique", nargs="+", default=["sft", "rlvr"], choices=sorted(SETTINGS))
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--dtype", default="auto")
    parser.add_argument("--base", default="smollm2-135m")
    parser.add_argument("--pairs", type=float, default=0.0, help="generate the rows with contrastive twins (data generate --pairs); with --set share_prompts=true trl.train_sampling_strategy=group_by_length a clarify row and its twin share a batch and their system turn")
    parser.add_argument("--rows-per-list", type=int, default=1, help="rows sharing one tool list (data generate --rows-per-list)")
    parser.add_argument("--rows", type=int, default=64, help="rows to generate (steps x 8 rows are drawn from them)")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="job spec overrides, e.g. trl.gradient_checkpointing=false")
    args = parser.parse_args()
    os.environ.setdefault("TOOLTUNE_HOME", tempfile.mkdtemp(prefix="tooltune-bench-"))
    data = generate(GenerateConfig(n=args.rows, eval_n=0, seed=0, pairs=args.pairs, rows_per_list=args.rows_per_list), Path(os.environ["TOOLTUNE_HOME"]) / "data").paths
    print(f"cores: {os.cpu_count()}, torch threads: {__import__('torch').get_num_threads()}, base: {args.base}")
    for technique in args.technique:
        timer = StepTimer()
        spec = load_spec(None, {"base": args.base, "technique": technique, "train_data": str(data["train"]), "max_steps": args.steps,
                                "save_steps": 10_000, "dtype": args.dtype, "learning_rate": 1e-5, "name": f"bench-{technique}-{int(time.time())}", **SETTINGS[technique], **parse_overrides(args.set)})
        run = train(spec, echo=lambda s: None, callbacks=[timer])
        steady = timer.times[1:] or timer.times
        peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
        print(json.dumps({"technique": technique, **SETTINGS[technique], "set": args.set, "pairs": args.pairs, "rows_per_list": args.rows_per_list, "dtype": args.dtype, "all_steps_s": round(sum(timer.times), 1), "first_step_s": round(timer.times[0], 1),
                          "steady_step_s": round(sum(steady) / len(steady), 1), "peak_rss_gb_so_far": round(peak_gb, 2), "run": str(run)}))


if __name__ == "__main__":
    main()
