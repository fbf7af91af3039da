"""The main job's per-minute terminal line: a real in-process Dagster run whose op logs progress while it runs; the
ticker (at a short interval here) reads that run's log by the run id chosen before the run started."""

import time

from dagster import DagsterInstance, OpExecutionContext, job, op

from dagster_project.step_ticker import StepTicker, new_run_id, newest_message


@op
def slow_training(context: OpExecutionContext) -> None:
    for step in (1, 2, 3):
        context.log.info(f"cell: step {step}/3 loss {3 - step / 2:.4f}")
        time.sleep(0.8)


@job
def slow_job() -> None:
    slow_training()


def test_the_ticker_says_the_newest_logged_line_while_the_step_runs_and_stops_with_it() -> None:
    instance = DagsterInstance.ephemeral()
    run_id = new_run_id()
    said: list[str] = []
    with StepTicker(instance, run_id, said.append, "fine_tuned_model  mig__b32", interval_s=0.5):
        result = slow_job.execute_in_process(instance=instance, run_id=run_id)
    assert result.success and result.run_id == run_id
    assert len(said) >= 2, said  # ~2.4 s of work at 0.5 s: several lines
    assert all(line.startswith("fine_tuned_model  mig__b32 running ") for line in said)
    assert any(": cell: step " in line for line in said)  # the op's own progress, not Dagster's events
    count = len(said)
    time.sleep(1.0)
    assert len(said) == count  # the block ended: no more lines
    assert newest_message(instance, run_id) == "cell: step 3/3 loss 1.5000"


def test_a_step_shorter_than_the_interval_says_nothing() -> None:
    instance = DagsterInstance.ephemeral()
    said: list[str] = []
    with StepTicker(instance, new_run_id(), said.append, "x", interval_s=30):
        pass
    assert said == []
