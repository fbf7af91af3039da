"""OpenCompass's progress, read from the log its CLI writes (lines recorded from a real ``--debug`` run of this
project: knowledge benchmarks, then the preference half where the judge's inference is unannounced), tqdm redraws
with carriage returns and a line still being written included."""

from __future__ import annotations

from pathlib import Path

from selection_ops.evaluation.compass_progress import CompassLogFollower, CompassProgress, CompassProgressReporter

KNOWLEDGE = (
    "12/03 08:21:39 - OpenCompass - INFO - Partitioned into 3 tasks.\n"
    "12/03 08:21:41 - OpenCompass - INFO - Task [base/ARC-c,base/ref_bpb_alpaca,base/arc_c_cloze]\n"
    "12/03 08:21:41 - OpenCompass - INFO - The Progress of This Task --> Models: 1/1, Datasets: 1/3\n"
    "12/03 08:21:41 - OpenCompass - INFO - Start inferencing [base/ARC-c]\n"
    "[2026-12-03 08:21:41,688] [opencompass.openicl.icl_inferencer.icl_gen_inferencer] [INFO] Starting inference "
    "process...\n"
    "  0%|          | 0/4 [00:00<?, ?it/s]\r 25%|██▌       | 1/4 [00:07<00:22,  7.57s/it]\r"
    " 50%|█████     | 2/4 [00:18<00:18,  9.41s/it]"
)
KNOWLEDGE_END = (
    "\r100%|██████████| 4/4 [00:30<00:00,  7.13s/it]\n"
    "12/03 08:22:12 - OpenCompass - INFO - The Progress of This Task --> Models: 1/1, Datasets: 2/3\n"
    "12/03 08:22:12 - OpenCompass - INFO - Start inferencing [base/ref_bpb_alpaca]\n"
    "[2026-12-03 08:22:12,356] [opencompass.openicl.icl_inferencer.icl_inference_ppl_only_inferencer] [INFO] "
    "Starting inference process...\n"
    "  0%|          | 0/3 [00:00<?, ?it/s]\r 33%|███▎      | 1/3 [00:55<01:50, 55.01s/it]\n"
)
PREFERENCE = (
    "12/03 08:25:36 - OpenCompass - INFO - Task [base/mtbench_0.7]\n"
    "12/03 08:25:36 - OpenCompass - INFO - The Progress of This Task --> Models: 1/1, Datasets: 1/1\n"
    "12/03 08:25:36 - OpenCompass - INFO - Start inferencing [base/mtbench_0.7]\n"
    "[2026-12-03 08:25:36,665] [opencompass.openicl.icl_inferencer.icl_chat_inferencer] [INFO] Starting inference "
    "process...\n"
    "100%|██████████| 1/1 [00:05<00:00,  5.78s/it]\n"
    "12/03 08:25:46 - OpenCompass - INFO - No model postprocessor found.\n"
    "[2026-12-03 08:25:46,957] [opencompass.openicl.icl_inferencer.icl_gen_inferencer] [INFO] Starting inference "
    "process...\n"
    "  0%|          | 0/1 [00:00<?, ?it/s]\r100%|██████████| 1/1 [00:24<00:00, 24.76s/it]\n"
    "12/03 08:26:14 - OpenCompass - INFO - Running 0-th replica of evaluation\n"
)


def test_the_follower_reads_dataset_and_the_newest_tqdm_redraw_and_holds_an_unfinished_segment(tmp_path: Path):
    log = tmp_path / "opencompass.log"
    follower = CompassLogFollower(log)
    assert follower.read_new().line() == ""  # no log yet: nothing to say
    log.write_text(KNOWLEDGE)
    # the "2/4" redraw has no \r or \n after it yet: the newest complete one is 1/4
    assert follower.read_new().line() == "answering base/ARC-c (dataset 1/3): batch 1/4, 00:07 elapsed, 00:22 left"
    with open(log, "a") as f:
        f.write(KNOWLEDGE_END)
    assert follower.read_new().line() == ("answering base/ref_bpb_alpaca (dataset 2/3): batch 1/3, 00:55 elapsed, "
                                          "01:50 left")


def test_an_unannounced_inference_is_the_judge_and_evaluation_is_scoring() -> None:
    progress = CompassProgress()
    lines = PREFERENCE.replace("\r", "\n").split("\n")
    judging_at = next(i for i, line in enumerate(lines) if "No model postprocessor" in line) + 3
    for line in lines[:judging_at]:
        progress.read_line(line)
    assert progress.line() == "judging base/mtbench_0.7: batch 0/1, 00:00 elapsed, ? left"
    for line in lines[judging_at:]:
        progress.read_line(line)
    assert progress.line() == "scoring base/mtbench_0.7"


def test_the_reporter_says_something_every_interval_even_when_nothing_changed(tmp_path: Path) -> None:
    log = tmp_path / "opencompass.log"
    now = [0.0]
    lines: list[str] = []
    reporter = CompassProgressReporter(log, lines.append, label="OpenCompass m", interval_s=30, clock=lambda: now[0])
    reporter.poll()
    assert lines == []
    log.write_text(KNOWLEDGE)
    now[0] = 5.0
    reporter.poll()
    assert lines == ["OpenCompass m: answering base/ARC-c (dataset 1/3): batch 1/4, 00:07 elapsed, 00:22 left; 5s in"]
    now[0] = 20.0
    reporter.poll()
    assert len(lines) == 1  # within the interval
    now[0] = 95.0
    reporter.poll()  # unchanged, but a quiet minute still gets its line
    assert len(lines) == 2 and lines[-1].endswith("; 1m35s in")
    reporter.flush()
    assert len(lines) == 2  # the end adds a line only when something changed
