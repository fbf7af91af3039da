"""The InsTag-prompt tagger against a local chat-completions server (127.0.0.1 only), and the reply parser."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

import pandas as pd
import pytest

from selection_ops.annotation import AnnotationConfig, TaggerConfig, annotate
from selection_ops.annotation.llm_tagger import LLMTagger, OpenAIChatBackend, TagParseError, build_prompt, parse_tags
from selection_ops.annotation.pipeline import UNPARSEABLE_FILE
from selection_ops.annotation.text import sample_from_record


@pytest.mark.parametrize("reply, tags", [
    ('[{"tag": "Poetry", "explanation": "a poem"}, {"tag": "cats", "explanation": "topic"}]', ["Poetry", "cats"]),
    ('Sure! ```json\n[{"tag": "math", "explanation": "sum"}]\n``` Hope it helps.', ["math"]),
    ('{"tag": "translation", "explanation": "to French"}', ["translation"]),
    ('{"tag": "a", "explanation": "x"}\n{"tag": "b", "explanation": "y"}', ["a", "b"]),
    ('{"tags": [{"tag": "coding"}]}', ["coding"]),
    ('[{"tag": "broken json", "explanation": "cut off', ["broken json"]),
])
def test_parse_tags_variants(reply, tags):
    assert [item["tag"] for item in parse_tags(reply)] == tags


def test_parse_tags_rejects_tagless_reply():
    with pytest.raises(TagParseError, match="no tag in reply"):
        parse_tags("I am sorry, I cannot help with that.")
    with pytest.raises(TagParseError):
        parse_tags('[{"label": "x"}]')


def test_prompt_is_the_instag_prompt():
    prompt = build_prompt("Write a haiku.")
    assert prompt.startswith("You are a helpful assistant. Please identify tags of user intentions")
    assert '{"tag": str, "explanation": str}' in prompt and prompt.endswith("Query: Write a haiku.\nAssistant:")


class ChatServer:
    """Minimal OpenAI chat-completions server: tags the query's first word; 'GARBLED-ONCE' queries get a tagless
    reply on their first request, 'GARBLED-ALWAYS' on every request."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.seen: dict[str, int] = {}
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append({"path": self.path, **body})
                query = body["messages"][-1]["content"].split("Query: ", 1)[1].rsplit("\nAssistant:", 1)[0]
                server.seen[query] = server.seen.get(query, 0) + 1
                if "GARBLED-ALWAYS" in query or ("GARBLED-ONCE" in query and server.seen[query] == 1):
                    content = "Hmm, let me think about that."
                else:
                    word = query.split()[0].lower()
                    tags = [{"tag": f"{word} task", "explanation": "first word"},
                            {"tag": "Query Answering", "explanation": "generic"}]
                    content = "```json\n" + json.dumps(tags) + "\n```"
                payload = json.dumps({"id": "x", "object": "chat.completion", "model": body["model"],
                                      "choices": [{"index": 0, "finish_reason": "stop",
                                                   "message": {"role": "assistant", "content": content}}]})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload.encode())

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _sample(i: str, query: str):
    return sample_from_record(i, [{"role": "user", "content": query}, {"role": "assistant", "content": "ok"}])


def test_openai_tagger_retries_and_records_unparseable():
    with ChatServer() as server:
        tagger = LLMTagger(OpenAIChatBackend(server.url, "instagger", api_key_env=""), max_tags=5, max_retries=2)
        rows = tagger.annotate([_sample("a", "Translate this to French"), _sample("b", "Solve GARBLED-ONCE now"),
                                _sample("c", "Count GARBLED-ALWAYS sheep")])
    assert rows[0] == {"raw_tags": ["translate task", "Query Answering"],
                       "tag_explanations": ["first word", "generic"], "tag_parse_error": ""}
    assert rows[1]["raw_tags"] == ["solve task", "Query Answering"] and rows[1]["tag_parse_error"] == ""
    assert rows[2]["raw_tags"] == [] and rows[2]["tag_parse_error"].startswith("unparseable after 3 attempts: Hmm")
    # one greedy request each, then sampled retries only for the failed ones: b once more, c twice more
    assert server.seen == {"Translate this to French": 1, "Solve GARBLED-ONCE now": 2, "Count GARBLED-ALWAYS sheep": 3}
    assert [r["temperature"] for r in server.requests[:3]] == [0.0, 0.0, 0.0]
    assert all(r["temperature"] == 0.7 for r in server.requests[3:])
    assert {r["path"] for r in server.requests} == {"/v1/chat/completions"}


def test_pipeline_with_openai_tagger_is_a_config_change(tmp_path):
    pool = pd.DataFrame({"id": ["p1", "p2", "p3"], "source": ["s"] * 3, "conversation": [
        [{"role": "user", "content": q}, {"role": "assistant", "content": "An answer of some words."}]
        for q in ("Summarize the article", "Summarize this email", "Explain GARBLED-ALWAYS")]})
    with ChatServer() as server:
        tagger = TaggerConfig(kind="llm-openai", endpoint=server.url, model="instagger", max_retries=1)
        config = AnnotationConfig(tagger=tagger, show_progress=False)
        out = annotate(pool, config, tmp_path)
        requests_first_run = len(server.requests)
        annotate(pool, config, tmp_path)  # all cached: no request
        assert len(server.requests) == requests_first_run == 4
    # normalisation lowercases and merges the identical tags of the two summaries
    assert out["labels"].tolist()[:2] == [["summarize task", "query answering"]] * 2
    assert out["labels"].tolist()[2] == []
    recorded = [json.loads(line) for line in (tmp_path / UNPARSEABLE_FILE).read_text().splitlines()]
    assert [r["id"] for r in recorded] == ["p3"]
