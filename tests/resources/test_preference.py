"""Human-preference evaluation through OpenCompass's real subjective pipeline: an OpenAI-compatible judge served by
a loopback server this test starts (canned, well-formed judgements give exactly known scores; the key reaches it and
nothing else), a judge whose outputs do not parse (the evaluation fails naming benchmark, count and sample), and the
embedded SmolLM2 judge in probability mode on a few questions of each benchmark (WildBench on the fixture)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from resources.opencompass import run_preference
from selection_ops.evaluation.benchmarks import EvaluationError
from selection_ops.evaluation.judge import JudgeSettings

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "wildbench"
KEY = "sk-loopback-test-key-42"


class CannedJudge(BaseHTTPRequestHandler):
    """POST /v1/chat/completions: AlpacaEval - the model wins on ``winning`` instructions, the reference otherwise;
    MT-Bench - ``Rating: [[7]]``; WildBench - the model's response is slightly better (+50). ``garbage`` mode
    answers prose that no parser accepts. A wrong key gets 401."""

    references: list[str] = []
    winning: set[str] = set()
    garbage = False
    requests = 0

    def log_message(self, *args) -> None:  # keep the test output clean
        pass

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.headers.get("Authorization") != f"Bearer {KEY}":
            return self._reply(401, {"error": {"message": "bad key"}})
        type(self).requests += 1
        prompt = "\n".join(str(m.get("content")) for m in body["messages"])
        self._reply(200, {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                          "choices": [{"index": 0, "finish_reason": "stop",
                                       "message": {"role": "assistant", "content": self.judge(prompt)}}],
                          "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}})

    def is_reference(self, text: str) -> bool:
        return any(ref[:60] in text for ref in self.references)

    def judge(self, prompt: str) -> str:
        if self.garbage:
            return "Both answers have their merits."
        if "Rating: [[" in prompt:
            return "The answer is adequate. Rating: [[7]]"
        if "<|begin_of_response_A|>" in prompt:
            response_a = prompt.split("<|begin_of_response_A|>")[1].split("<|end_of_response_A|>")[0]
            model_is_a = not self.is_reference(response_a)
            return '{"analysis of A": "-", "choice": "%s"}' % ("A+" if model_is_a else "B+")
        first_output = prompt.split('"model_identifier": "M"')[0]
        model_is_m = not self.is_reference(first_output)
        model_wins = any(instruction in prompt for instruction in self.winning)
        return ("m" if model_is_m else "M") if model_wins else ("M" if model_is_m else "m")


@pytest.fixture()
def loopback(data_dir: Path):
    alpaca = json.loads((data_dir / "alpaca_eval_v2" / "gpt4_1106_preview_model_outputs.json").read_text())
    wild = [p["prediction"] for folder in ("gpt4", "claude", "llama2-70b")
            for p in json.loads((FIXTURE / folder / "wildbench.json").read_text()).values()]
    CannedJudge.references = [item["output"] for item in alpaca] + wild
    CannedJudge.winning = {alpaca[0]["instruction"]}  # the sample always holds item 0; the other item is lost
    CannedJudge.garbage, CannedJudge.requests = False, 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), CannedJudge)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def _judge(url: str, smollm2_hf: Path) -> JudgeSettings:
    return JudgeSettings(kind="openai", url=url, api_key=KEY, model_name="canned-judge",
                         tokenizer_path=str(smollm2_hf), max_out_len=64, max_seq_len=32768)


@pytest.mark.slow
def test_openai_compatible_judge_gives_exactly_known_scores(loopback: str, smollm2_hf: Path, data_dir: Path,
                                                            tmp_path: Path) -> None:
    result = run_preference(model_path=smollm2_hf, model_name="smol", work_dir=tmp_path / "run",
                            judge=_judge(loopback, smollm2_hf), benchmarks=["alpacaeval_v2", "mtbench", "wildbench"],
                            sample_limits={"alpacaeval_v2": 2, "mtbench": 1, "wildbench": 1}, data_dir=data_dir,
                            wildbench_dir=FIXTURE, max_out_len=16, judgement_cache=tmp_path / "cache")
    assert result.scores == {"alpacaeval_v2": 50.0, "mtbench": 7.0, "wildbench": 50.0}
    assert result.n == {"alpacaeval_v2": 2, "mtbench": 1, "wildbench": 3}  # WildBench: one task, three references
    assert result.parse_rate == {"alpacaeval_v2": 1.0, "mtbench": 1.0, "wildbench": 1.0}
    assert result.stderr["alpacaeval_v2"] == pytest.approx(100 * (0.25 / 2) ** 0.5)
    assert result.stderr["wildbench"] == 0.0
    assert result.judge == f"openai:canned-judge@{loopback}/generate"
    assert CannedJudge.requests == 6
    written = [p for p in (tmp_path / "run").rglob("*") if p.is_file()]
    assert all(KEY not in p.read_text(errors="ignore") for p in written)  # configs, logs, results, raw judgements
    assert list(result.raw_judgements_dir.rglob("*.json"))


@pytest.mark.slow
def test_a_judge_whose_outputs_do_not_parse_fails_the_evaluation(loopback: str, smollm2_hf: Path, data_dir: Path,
                                                                 tmp_path: Path) -> None:
    CannedJudge.garbage = True
    with pytest.raises(EvaluationError, match=r"benchmark 'alpacaeval_v2': judge .* produced 2 unparseable of 2 "
                                              r"judgements .*Both answers have their merits"):
        run_preference(model_path=smollm2_hf, model_name="smol", work_dir=tmp_path / "run",
                       judge=_judge(loopback, smollm2_hf), benchmarks=["alpacaeval_v2"],
                       sample_limits={"alpacaeval_v2": 2}, data_dir=data_dir, max_out_len=8,
                       judgement_cache=tmp_path / "cache")


@pytest.mark.slow
def test_embedded_smollm2_judge_reads_probabilities(smollm2_hf: Path, data_dir: Path, tmp_path: Path) -> None:
    judge = JudgeSettings(model_path=str(smollm2_hf), max_seq_len=4096)
    result = run_preference(model_path=smollm2_hf, model_name="smol", work_dir=tmp_path / "run", judge=judge,
                            benchmarks=["alpacaeval_v2", "mtbench", "wildbench"],
                            sample_limits={"alpacaeval_v2": 1, "mtbench": 1, "wildbench": 1}, data_dir=data_dir,
                            wildbench_dir=FIXTURE, max_out_len=16, judgement_cache=tmp_path / "cache")
    assert result.judge == "embedded:SmolLM2-135M-Instruct/probability" and result.judge_mode == "probability"
    assert result.parse_rate == {"alpacaeval_v2": 1.0, "mtbench": 1.0, "wildbench": 1.0}
    assert result.pairwise_order == "double" and result.n["alpacaeval_v2"] == 1  # one question, both orders
    assert result.scores["alpacaeval_v2"] in (0.0, 50.0, 100.0)
    assert 1.0 <= result.scores["mtbench"] <= 10.0  # an expected rating, not a multiple of 1
    assert -100.0 <= result.scores["wildbench"] <= 100.0
    raw = "".join(p.read_text() for p in result.raw_judgements_dir.rglob("*.json"))
    assert "judge probabilities" in raw
    # one cached judgement per prompt: AlpacaEval and WildBench (three references) in both orders, MT-Bench once
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 2 + 1 + 2 * 3
