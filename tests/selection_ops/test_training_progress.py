"""Live training progress from a recorded LLaMA-Factory ``trainer_log.jsonl`` (the keys its ``LogCallback`` writes),
a last line still being written included."""

from __future__ import annotations

import json
from pathlib import Path

from selection_ops.training_progress import ProgressReporter, TrainerLogFollower, progress_line

# what LogCallback.on_log appends for a 4-step run with logging_steps 1 (None values dropped, as it does), then the
# final summary log's entry: the last step again, without a loss
RECORDED = [
    {"current_steps": 1, "total_steps": 4, "loss": 2.3141, "lr": 1e-05, "epoch": 0.25, "percentage": 25.0,
     "elapsed_time": "0:00:09", "remaining_time": "0:00:27", "throughput": 412.5, "total_tokens": 3712},
    {"current_steps": 2, "total_steps": 4, "loss": 2.1023, "lr": 7.5e-06, "epoch": 0.5, "percentage": 50.0,
     "elapsed_time": "0:00:18", "remaining_time": "0:00:18", "throughput": 409.1, "total_tokens": 7363},
    {"current_steps": 3, "total_steps": 4, "loss": 1.9876, "lr": 5e-06, "epoch": 0.75, "percentage": 75.0,
     "elapsed_time": "0:00:27", "remaining_time": "0:00:09", "throughput": 410.0, "total_tokens": 11070},
    {"current_steps": 4, "total_steps": 4, "loss": 1.9012, "lr": 2.5e-06, "epoch": 1.0, "percentage": 100.0,
     "elapsed_time": "0:00:36", "remaining_time": "0:00:00", "throughput": 411.2, "total_tokens": 14801},
    {"current_steps": 4, "total_steps": 4, "epoch": 1.0, "percentage": 100.0, "elapsed_time": "0:00:36",
     "remaining_time": "0:00:00"},
]


def lines(records: list[dict]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def test_the_follower_returns_complete_records_and_holds_a_partial_last_line(tmp_path: Path) -> None:
    log = tmp_path / "trainer_log.jsonl"
    follower = TrainerLogFollower(log)
    assert follower.read_new() == []  # not written yet
    third = json.dumps(RECORDED[2])
    log.write_text(lines(RECORDED[:2]) + third[:25])  # the writer is in the middle of step 3
    assert follower.read_new() == RECORDED[:2]
    assert follower.read_new() == []  # nothing new, the partial line is still held back
    with open(log, "a") as f:
        f.write(third[25:] + "\n" + lines(RECORDED[3:]))
    assert follower.read_new() == RECORDED[2:]


def test_a_broken_complete_line_is_skipped_naming_the_file_and_line(tmp_path: Path, caplog) -> None:
    log = tmp_path / "trainer_log.jsonl"
    log.write_text(lines(RECORDED[:1]) + "{oops\n" + lines(RECORDED[1:2]))
    assert TrainerLogFollower(log).read_new() == RECORDED[:2]
    assert f"{log}:2" in caplog.text


def test_the_progress_line_names_step_loss_lr_epoch_and_time_left() -> None:
    assert progress_line(RECORDED[1]) == ("step 2/4 (50.0%) loss 2.1023 lr 7.50e-06 epoch 0.50 elapsed 0:00:18 "
                                          "remaining 0:00:18 409 tokens/s")
    assert progress_line({"current_steps": 5, "total_steps": 10}) == "step 5/10"


def test_the_reporter_reports_the_newest_step_at_most_every_interval_and_once_at_the_end(tmp_path: Path) -> None:
    log = tmp_path / "trainer_log.jsonl"
    now = [0.0]
    reported: list[tuple[str, dict]] = []
    reporter = ProgressReporter(log, lambda line, record: reported.append((line, record)), interval_s=30,
                                clock=lambda: now[0])
    reporter.poll()
    assert reported == []  # no step logged yet
    log.write_text(lines(RECORDED[:1]))
    reporter.poll()  # the first step as soon as it is there
    assert [r["current_steps"] for _, r in reported] == [1]
    with open(log, "a") as f:
        f.write(lines(RECORDED[1:3]))
    now[0] = 10.0
    reporter.poll()  # within 30 s of the last report: nothing
    assert len(reported) == 1
    now[0] = 31.0
    reporter.poll()  # the newest step, not every step in between
    assert [r["current_steps"] for _, r in reported] == [1, 3]
    assert reported[-1][0].startswith("step 3/4 (75.0%) loss 1.9876")
    with open(log, "a") as f:
        f.write(lines(RECORDED[3:]))
    now[0] = 40.0
    reporter.flush()  # the end of the run: the last step, with the loss its own entry had
    assert [r["current_steps"] for _, r in reported] == [1, 3, 4]
    assert reported[-1][1]["loss"] == 1.9012
    reporter.flush()
    assert len(reported) == 3  # a step is reported once


def test_on_step_gets_every_step_with_a_loss_once_as_it_is_read(tmp_path: Path) -> None:
    log = tmp_path / "trainer_log.jsonl"
    steps: list[dict] = []
    reporter = ProgressReporter(log, lambda line, record: None, interval_s=30, clock=lambda: 0.0,
                                on_step=steps.append)
    log.write_text(lines(RECORDED[:1]))
    reporter.poll()
    assert [r["current_steps"] for r in steps] == [1]  # at once, not after the 30-s interval
    with open(log, "a") as f:
        f.write(lines(RECORDED[1:]))
    reporter.poll()
    reporter.flush()
    # every step in between (not only the newest), and the loss-less summary entry of step 4 is not a second point
    assert [(r["current_steps"], r["loss"]) for r in steps] == [(r["current_steps"], r["loss"]) for r in RECORDED[:4]]
