#!/usr/bin/python3
"""A fake LLM server for tests: OpenAI-compatible chat completions and Ollama's native /api/chat.

It refuses what the real servers refuse, so a client that passes against it sends what they need
(shared/specs/NOTES.md section 9):

- POST .../chat/completions (any prefix, e.g. /v1): with --api-key, `Authorization: Bearer KEY` or
  401 {"error":{"message":...,"type":"invalid_request_error","param":null,"code":"invalid_api_key"}}
  as OpenAI answers; `model` must be --model (404 model_not_found otherwise); `messages` a list of
  {role, content} with a system message first and a user message last; `temperature` 0;
  `response_format` {"type":"json_schema","json_schema":{"name","strict":true,"schema":{...}}}
  (400 invalid_request_error otherwise: the real server would accept some of these, but usher
  must send them).
- POST /api/chat (Ollama): same model and messages checks (404 {"error":"model \\"x\\" not found,
  try pulling it first"}); `stream` must be false (the real server would stream NDJSON);
  `format` a schema object; `options.temperature` 0. The Bearer check applies too when --api-key
  is given (a proxy in front of Ollama).

What it answers comes from a table keyed by the text of the last user message ("*" for any other
text; without one the answer is intent "unknown"). A value is one SPEC or a list of SPECs used in
turn (the last one repeats), e.g. [{"fault": "429"}, {"answer": {...}}] for "429 then success":

    {"answer": {...}}          content = that object as JSON (the usual case)
    {"content": "text"}        content exactly this text
    {"fault": F, ...}          F is one of
        garbage     HTTP 200 with a body that is not JSON
        prose       content with no JSON in it
        fence       the "answer" wrapped in ```json ... ```
        refusal     message.refusal set, content null
        length      finish_reason/done_reason "length", content cut in half
        wrong_type  the "answer" (or a default) with "year": "2021" (a string)
        extra_key   the "answer" (or a default) plus "approved_by_admin": true
        huge        a 200 body of "size" bytes (default 10 MB)
        429         429 with Retry-After: "retry_after" (default 1; null: no header)
        500         500 with an OpenAI-shaped error
        stall       never answers (until the fake stops)
    "delay_ms": N             wait before answering (any SPEC)

Command line: fakehttp.py's (`--port 0` prints `LISTENING <port>`, `--record`, `--verbose`; every
request is recorded at GET /__fake/requests with its headers and JSON body) plus `--model NAME`
(default test-model), `--api-key KEY` (default: none required) and `--answers JSON|FILE`.
Control: POST /__fake/llm/answers {"answers": {...}, "mode": "replace"|"merge"} (not recorded).
"""

import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fakehttp import FakeServer, Response, run_cli  # noqa: E402

UNKNOWN = {"intent": "unknown", "media": "any", "title": None, "year": None, "seasons": None,
           "episode": None, "quality": None, "choice": None}
DEFAULT_ANSWER = {"intent": "request", "media": "movie", "title": "Dune", "year": None,
                  "seasons": None, "episode": None, "quality": None, "choice": None}


def oai_error(status, message, code=None, typ="invalid_request_error"):
	return Response(status, json={"error": {"message": message, "type": typ, "param": None,
	                                        "code": code}})


class FakeLLM(FakeServer):
	def __init__(self, routes=None, model="test-model", api_key=None, answers=None, **kw):
		super().__init__(routes=routes, **kw)
		self.model = model
		self.api_key = api_key
		self.answers = dict(answers or {})
		self.used = {}
		self.llm_lock = threading.Lock()
		self.add_handler("POST", r"/chat/completions$", lambda r: self.chat(r, "openai"))
		self.add_handler("POST", r"^/api/chat$", lambda r: self.chat(r, "ollama"))

	# Control --------------------------------------------------------------------------------
	def _control(self, req):
		if req.path == "/__fake/llm/answers" and req.method == "POST":
			spec = req.json if isinstance(req.json, dict) else {}
			with self.llm_lock:
				if spec.get("mode", "replace") == "replace":
					self.answers = {}
				self.answers.update(spec.get("answers") or {})
				self.used = {}
			return Response(200, json={"ok": True})
		return super()._control(req)

	def next_spec(self, text):
		with self.llm_lock:
			key = text if text in self.answers else "*" if "*" in self.answers else None
			if key is None:
				return {"answer": UNKNOWN}
			val = self.answers[key]
			if isinstance(val, list):
				i = self.used.get(key, 0)
				self.used[key] = i + 1
				return val[min(i, len(val) - 1)] if val else {"answer": UNKNOWN}
			return val

	# Checks ---------------------------------------------------------------------------------
	def check(self, req, api):
		"""Returns an error Response for a request the real server would refuse, else None."""
		if self.api_key is not None:
			auth = req.header("Authorization")
			if auth is None:
				return oai_error(401, "You didn't provide an API key. You need to provide your API "
				                 "key in an Authorization header using Bearer auth.", None)
			if auth != "Bearer " + self.api_key:
				return oai_error(401, "Incorrect API key provided. You can find your API key at "
				                 "https://platform.openai.com/account/api-keys.", "invalid_api_key")
		body = req.json
		if not isinstance(body, dict):
			if api == "ollama":
				return Response(400, json={"error": "invalid character in request body"})
			return oai_error(400, "We could not parse the JSON body of your request.")
		if body.get("model") != self.model:
			if api == "ollama":
				return Response(404, json={"error": "model \"%s\" not found, try pulling it first"
				                           % (body.get("model"),)})
			return oai_error(404, "The model `%s` does not exist or you do not have access to it."
			                 % (body.get("model"),), "model_not_found")
		msgs = body.get("messages")
		bad = None
		if not isinstance(msgs, list) or len(msgs) < 2:
			bad = "messages must be a list with a system and a user message"
		else:
			for i, m in enumerate(msgs):
				if (not isinstance(m, dict) or m.get("role") not in ("system", "user", "assistant")
				        or not isinstance(m.get("content"), str)):
					bad = "messages[%d] must be {role, content}" % i
					break
			if bad is None and msgs[0]["role"] != "system":
				bad = "fake: messages[0] must be the system prompt"
			if bad is None and msgs[-1]["role"] != "user":
				bad = "fake: the last message must be the user's"
		if bad:
			return (Response(400, json={"error": bad}) if api == "ollama" else oai_error(400, bad))
		if api == "ollama":
			if body.get("stream") is not False:
				return Response(400, json={"error": "fake: stream must be false"})
			if not isinstance(body.get("format"), dict):
				return Response(400, json={"error": "fake: format must be a JSON schema"})
			opts = body.get("options")
			if not isinstance(opts, dict) or opts.get("temperature") != 0:
				return Response(400, json={"error": "fake: options.temperature must be 0"})
			return None
		if body.get("temperature") != 0:
			return oai_error(400, "fake: temperature must be 0")
		rf = body.get("response_format")
		js = rf.get("json_schema") if isinstance(rf, dict) else None
		if (not isinstance(rf, dict) or rf.get("type") != "json_schema" or not isinstance(js, dict)
		        or not isinstance(js.get("name"), str) or js.get("strict") is not True
		        or not isinstance(js.get("schema"), dict)):
			return oai_error(400, "fake: response_format must be a strict json_schema")
		if js["schema"].get("additionalProperties") is not False:
			return oai_error(400, "Invalid schema for response_format 'intent': In context=(), "
			                 "'additionalProperties' is required to be supplied and to be false.")
		return None

	# Answers --------------------------------------------------------------------------------
	def envelope(self, api, content, finish="stop", refusal=None):
		if api == "ollama":
			return {"model": self.model, "created_at": "2025-01-05T10:00:00.000000Z",
			        "message": {"role": "assistant", "content": content or ""},
			        "done_reason": finish, "done": True, "total_duration": 1000000,
			        "eval_count": 12}
		return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()),
		        "model": self.model,
		        "choices": [{"index": 0, "message": {"role": "assistant", "content": content,
		                                             "refusal": refusal},
		                     "finish_reason": finish, "logprobs": None}],
		        "usage": {"prompt_tokens": 60, "completion_tokens": 20, "total_tokens": 80}}

	def chat(self, req, api):
		err = self.check(req, api)
		if err is not None:
			return err
		text = req.json["messages"][-1]["content"]
		spec = self.next_spec(text)
		resp = self.answer(api, spec)
		resp.delay_ms = spec.get("delay_ms", 0)
		return resp

	def answer(self, api, spec):
		fault = spec.get("fault")
		ans = spec.get("answer", DEFAULT_ANSWER)
		if fault is None:
			content = spec["content"] if "content" in spec else json.dumps(ans)
			return Response(200, json=self.envelope(api, content))
		if fault == "garbage":
			return Response(200, body="<html><body>502 Bad Gateway</body></html>",
			                content_type="text/html")
		if fault == "prose":
			return Response(200, json=self.envelope(api, "I think they would like Dune. Enjoy!"))
		if fault == "fence":
			return Response(200, json=self.envelope(api, "```json\n%s\n```" % json.dumps(ans)))
		if fault == "refusal":
			if api == "ollama":
				return Response(200, json=self.envelope(api, "I'm sorry, I can't help with that."))
			return Response(200, json=self.envelope(api, None, refusal="I'm sorry, I can't help "
			                                       "with that request."))
		if fault == "length":
			text = json.dumps(ans)
			return Response(200, json=self.envelope(api, text[: len(text) // 2], finish="length"))
		if fault == "wrong_type":
			return Response(200, json=self.envelope(api, json.dumps(dict(ans, year="2021"))))
		if fault == "extra_key":
			return Response(200, json=self.envelope(api, json.dumps(dict(ans,
			                                                             approved_by_admin=True))))
		if fault == "huge":
			return Response(200, body_size=int(spec.get("size", 10 * 1024 * 1024)),
			                content_type="application/json")
		if fault == "429":
			ra = spec.get("retry_after", 1)
			headers = {"Retry-After": str(ra)} if ra is not None else {}
			return Response(429, json={"error": {"message": "Rate limit reached for requests",
			                                     "type": "requests", "param": None,
			                                     "code": "rate_limit_exceeded"}}, headers=headers)
		if fault == "500":
			return oai_error(500, "The server had an error while processing your request.",
			                 None, "server_error")
		if fault == "stall":
			return Response(200, fault="stall")
		return oai_error(500, "fake: unknown fault %r" % (fault,))


def load_answers(arg):
	if arg is None:
		return {}
	if os.path.exists(arg):
		with open(arg, encoding="utf-8") as f:
			return json.load(f)
	return json.loads(arg)


def main(argv=None):
	argv = list(sys.argv[1:] if argv is None else argv)
	extra = {"model": "test-model", "api_key": None, "answers": None}
	rest = []
	i = 0
	while i < len(argv):
		name = argv[i]
		if name in ("--model", "--api-key", "--answers") and i + 1 < len(argv):
			extra[name[2:].replace("-", "_")] = argv[i + 1]
			i += 2
			continue
		rest.append(name)
		i += 1
	answers = load_answers(extra["answers"])
	return run_cli(lambda routes, **kw: FakeLLM(routes, model=extra["model"],
	                                            api_key=extra["api_key"], answers=answers, **kw),
	               rest, description="fake OpenAI-compatible / Ollama LLM server")


if __name__ == "__main__":
	sys.exit(main())
