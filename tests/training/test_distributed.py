"""`tooltune train` with 2 CPU processes (DDP over gloo), launched by torchrun.

(`accelerate launch --cpu --num_processes 2` starts a single process on a machine without GPUs:
measured here, it sets no RANK/WORLD_SIZE. torchrun is the launcher that gives CPU DDP.)"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from transformers import AutoModelForCausalLM

from tooltune.runs import read_manifest


@pytest.mark.slow
@pytest.mark.parametrize("technique", ["sft", "rlvr"])
def test_two_process_ddp_run_completes_once(tiny_model, small_data, tooltune_home, technique):
    torchrun = Path(sys.executable).with_name("torchrun")
    spec = tooltune_home / "job.yaml"
    spec.parent.mkdir(parents=True, exist_ok=True)
    spec.write_text(f"base: {tiny_model}\ntechnique: {technique}\ntrain_data: {small_data['train']}\nname: ddp-{technique}\n"
                    "batch_size: 8\nmicro_batch_size: 4\nrollouts: 4\nmax_completion_length: 8\nmax_length: 320\n"
                    "max_steps: 2\nsave_steps: 1\ndtype: float32\nlearning_rate: 1.0e-3\n")
    env = {**os.environ, "TOOLTUNE_HOME": str(tooltune_home), "OMP_NUM_THREADS": "1"}
    cmd = [str(torchrun), "--standalone", "--nproc_per_node", "2", "-m", "tooltune.cli.main", "train", str(spec)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    run = tooltune_home / "runs" / f"ddp-{technique}"
    manifest = read_manifest(run)
    assert manifest["status"] == "completed" and manifest["steps"] == 2 and manifest["processes"] == 2
    assert AutoModelForCausalLM.from_pretrained(run / "model").config.num_hidden_layers == 2
    assert len(list((run / "checkpoints").glob("checkpoint-*"))) >= 1
