"""LLM tagger with the InsTag prompt (Lu et al., 2023, "#InsTag", Sec. 2.1), through transformers, vLLM or any
OpenAI-compatible chat-completions endpoint.

The model is asked for a JSON list ``[{"tag": str, "explanation": str}, ...]`` of the user's intentions in
the (first) query. Replies are parsed leniently (``parse_tags``: a JSON list, a single object, objects
scattered in prose or a code fence, or bare ``"tag": "..."`` pairs). A reply with no tag is retried up to
``max_retries`` times with sampling (temperature 0.7, fixed seed); after that the sample keeps no tags and
its ``tag_parse_error`` column records the last reply, so nothing is invented and failures can be inspected
(the pipeline also writes them to ``tagger_unparseable.jsonl``). Transport errors of the endpoint are
retried with backoff and then raised: a network failure is not a tagging result.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any, Protocol

from selection_ops.annotation.base import Annotator
from selection_ops.annotation.config import TaggerConfig
from selection_ops.annotation.models import ModelHolder, load_causal_lm, load_tokenizer
from selection_ops.annotation.text import Sample

logger = logging.getLogger(__name__)

# The InsTag annotation prompt (paper, Sec. 2.1 / InsTagger model card), query substituted for {query}.
INSTAG_PROMPT = ("You are a helpful assistant. Please identify tags of user intentions in the following user query "
                 "and provide an explanation for each tag. Please respond in the JSON format "
                 "{{\"tag\": str, \"explanation\": str}}.\nQuery: {query}\nAssistant:")
RETRY_TEMPERATURE = 0.7
SEED = 0


class TagParseError(ValueError):
    """The reply holds no ``tag`` entry."""


def build_prompt(query: str) -> str:
    return INSTAG_PROMPT.format(query=query)


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)
_OBJECT = re.compile(r"\{[^{}]*\}", re.DOTALL)
_TAG_PAIR = re.compile(r"[\"']tag[\"']\s*:\s*[\"']([^\"']+)[\"'](?:\s*,\s*[\"']explanation[\"']\s*:\s*"
                       r"[\"']([^\"']*)[\"'])?")


def _items(value: Any) -> list[dict[str, str]]:
    if isinstance(value, dict):
        if isinstance(value.get("tags"), list):
            return _items(value["tags"])
        value = [value]
    if not isinstance(value, list):
        return []
    items = []
    for entry in value:
        if isinstance(entry, dict) and isinstance(entry.get("tag"), str) and entry["tag"].strip():
            explanation = entry.get("explanation")
            items.append({"tag": entry["tag"].strip(), "explanation": explanation if isinstance(explanation, str)
                          else ""})
    return items


def parse_tags(reply: str) -> list[dict[str, str]]:
    """``[{"tag", "explanation"}, ...]`` from a model reply; ``TagParseError`` when there is no tag at all."""
    candidates = [m.group(1) for m in _FENCE.finditer(reply)] + [reply]
    for text in candidates:
        text = text.strip()
        for start, end in (("[", "]"), ("{", "}")):
            left, right = text.find(start), text.rfind(end)
            if left != -1 and right > left:
                try:
                    items = _items(json.loads(text[left:right + 1]))
                except json.JSONDecodeError:
                    continue
                if items:
                    return items
    objects = []
    for match in _OBJECT.finditer(reply):
        try:
            objects += _items(json.loads(match.group(0)))
        except json.JSONDecodeError:
            continue
    if objects:
        return objects
    pairs = [{"tag": tag.strip(), "explanation": explanation or ""} for tag, explanation in _TAG_PAIR.findall(reply)
             if tag.strip()]
    if pairs:
        return pairs
    raise TagParseError(f"no tag in reply: {reply[:200]!r}")


class GenerationBackend(Protocol):
    def generate(self, prompts: Sequence[str], temperature: float) -> list[str]: ...

    def settings(self) -> dict[str, Any]: ...


class TransformersBackend(ModelHolder):
    """Batched ``generate`` with any HF causal LM; the prompt goes through the chat template when there is one.

    The model holder's token budget is the generation budget, ``max_new_tokens``."""

    default_max_tokens = 256
    default_batch_size = 8

    def __init__(self, model_path: str = "", max_new_tokens: int | None = None, batch_size: int | None = None,
                 device: str = "auto", dtype: str = "auto") -> None:
        super().__init__(model_path, max_new_tokens, batch_size, device, dtype)

    @property
    def max_new_tokens(self) -> int:
        return self.max_tokens

    def settings(self) -> dict[str, Any]:
        return {"backend": "transformers", "model": self.model_path, "max_new_tokens": self.max_new_tokens}

    def _format(self, tokenizer: Any, prompt: str) -> str:
        if getattr(tokenizer, "chat_template", None):
            return tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                                 add_generation_prompt=True)
        return prompt

    def generate(self, prompts: Sequence[str], temperature: float) -> list[str]:
        import torch

        tokenizer = load_tokenizer(self.model_path)
        model = load_causal_lm(self.model_path, self.device, self.dtype)
        tokenizer.padding_side = "left"
        replies: list[str] = []
        for start in range(0, len(prompts), self.batch_size):
            batch = [self._format(tokenizer, p) for p in prompts[start:start + self.batch_size]]
            encoded = tokenizer(batch, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
            options: dict[str, Any] = {"do_sample": False}
            if temperature > 0:
                torch.manual_seed(SEED)
                options = {"do_sample": True, "temperature": temperature, "top_p": 1.0}
            with torch.inference_mode():
                output = model.generate(**encoded, max_new_tokens=self.max_new_tokens,
                                        pad_token_id=tokenizer.pad_token_id, **options)
            new_tokens = output[:, encoded["input_ids"].shape[1]:]
            replies += tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        return replies


class VLLMBackend:
    """vLLM offline engine (GPU); raises ImportError with a hint when vllm is not installed."""

    def __init__(self, model_path: str, max_new_tokens: int = 256) -> None:
        if not model_path:
            raise ValueError("tagger kind 'llm-vllm' needs model (e.g. OFA-Sys/InsTagger)")
        self.model_path = model_path
        self.max_new_tokens = max_new_tokens
        self._engine = None

    def settings(self) -> dict[str, Any]:
        return {"backend": "vllm", "model": self.model_path, "max_new_tokens": self.max_new_tokens}

    def generate(self, prompts: Sequence[str], temperature: float) -> list[str]:
        try:
            from vllm import LLM, SamplingParams
        except ImportError as error:
            raise ImportError("tagger='llm-vllm' needs the vllm package (GPU); use 'llm-transformers' or "
                              "'llm-openai' instead") from error
        if self._engine is None:
            self._engine = LLM(self.model_path, seed=SEED, trust_remote_code=False)  # Hub code only when asked
        params = SamplingParams(temperature=temperature, max_tokens=self.max_new_tokens, seed=SEED)
        messages = [[{"role": "user", "content": p}] for p in prompts]
        outputs = self._engine.chat(messages, params, use_tqdm=False)
        return [o.outputs[0].text for o in outputs]


class OpenAIChatBackend:
    """POST ``{endpoint}/chat/completions`` (OpenAI protocol) with the standard library; one request per prompt."""

    def __init__(self, endpoint: str, model: str, api_key_env: str = "OPENAI_API_KEY", max_new_tokens: int = 256,
                 timeout_s: float = 120.0, transport_retries: int = 3) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.model = model or "default"
        self.api_key_env = api_key_env
        self.max_new_tokens = max_new_tokens
        self.timeout_s = timeout_s
        self.transport_retries = transport_retries

    def settings(self) -> dict[str, Any]:
        return {"backend": "openai", "endpoint": self.endpoint, "model": self.model,
                "max_new_tokens": self.max_new_tokens}

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(f"{self.endpoint}/chat/completions", data=json.dumps(body).encode("utf-8"),
                                         headers=headers, method="POST")
        for attempt in range(self.transport_retries + 1):
            try:
                with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                    return json.loads(response.read().decode("utf-8"))
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                if attempt == self.transport_retries:
                    raise RuntimeError(f"chat-completions request to {self.endpoint} failed after "
                                       f"{attempt + 1} attempts: {error}") from error
                time.sleep(min(2.0 ** attempt, 30.0))
        raise AssertionError("unreachable")

    def generate(self, prompts: Sequence[str], temperature: float) -> list[str]:
        replies = []
        for prompt in prompts:
            body = {"model": self.model, "messages": [{"role": "user", "content": prompt}],
                    "temperature": temperature, "max_tokens": self.max_new_tokens, "seed": SEED}
            payload = self._post(body)
            try:
                replies.append(payload["choices"][0]["message"]["content"] or "")
            except (KeyError, IndexError, TypeError) as error:
                raise RuntimeError(f"{self.endpoint} answered without choices[0].message.content: "
                                   f"{str(payload)[:200]}") from error
        return replies


class LLMTagger(Annotator):
    """Writes ``raw_tags`` (list[str]), ``tag_explanations`` (list[str]) and ``tag_parse_error`` ('' when parsed)."""

    name = "tags"
    version = "instag-1"

    def __init__(self, backend: GenerationBackend, max_tags: int = 5, max_retries: int = 2) -> None:
        self.backend = backend
        self.max_tags = max_tags
        self.max_retries = max_retries

    def settings(self) -> dict[str, Any]:
        prompt_sha = hashlib.sha1(INSTAG_PROMPT.encode("utf-8")).hexdigest()[:12]
        return {"kind": "llm", **self.backend.settings(), "prompt_sha1": prompt_sha, "max_tags": self.max_tags,
                "max_retries": self.max_retries, "retry_temperature": RETRY_TEMPERATURE, "seed": SEED}

    def output_columns(self) -> tuple[str, ...]:
        return ("raw_tags", "tag_explanations", "tag_parse_error")

    def annotate(self, samples: Sequence[Sample]) -> list[dict[str, Any]]:
        prompts = [build_prompt(s.instruction) for s in samples]
        parsed: list[list[dict[str, str]] | None] = [None] * len(samples)
        last_reply = [""] * len(samples)
        pending = list(range(len(samples)))
        for attempt in range(self.max_retries + 1):
            temperature = 0.0 if attempt == 0 else RETRY_TEMPERATURE
            replies = self.backend.generate([prompts[i] for i in pending], temperature)
            still = []
            for i, reply in zip(pending, replies):
                last_reply[i] = reply
                try:
                    parsed[i] = parse_tags(reply)
                except TagParseError:
                    still.append(i)
            if still and attempt < self.max_retries:
                logger.info("LLM tagger: %d unparseable replies, retry %d of %d", len(still), attempt + 1,
                            self.max_retries)
            pending = still
            if not pending:
                break
        rows = []
        for sample, items, reply in zip(samples, parsed, last_reply):
            if items is None:
                logger.warning("LLM tagger: record %r unparseable after %d attempts: %r", sample.id,
                               self.max_retries + 1, reply[:200])
                rows.append({"raw_tags": [], "tag_explanations": [],
                             "tag_parse_error": f"unparseable after {self.max_retries + 1} attempts: {reply[:500]}"})
                continue
            items = items[:self.max_tags]
            rows.append({"raw_tags": [x["tag"] for x in items], "tag_explanations": [x["explanation"] for x in items],
                         "tag_parse_error": ""})
        return rows


def build_llm_tagger(config: TaggerConfig) -> LLMTagger:
    """The LLM tagger named by ``config.kind`` ('llm-transformers', 'llm-vllm', 'llm-openai')."""
    if config.kind == "llm-transformers":
        backend: GenerationBackend = TransformersBackend(config.model, config.max_new_tokens, config.batch_size,
                                                         config.device, config.dtype)
    elif config.kind == "llm-vllm":
        backend = VLLMBackend(config.model, config.max_new_tokens)
    elif config.kind == "llm-openai":
        backend = OpenAIChatBackend(config.endpoint, config.model, config.api_key_env, config.max_new_tokens)
    else:
        raise ValueError(f"not an LLM tagger: {config.kind!r}")
    return LLMTagger(backend, max_tags=config.max_tags, max_retries=config.max_retries)
