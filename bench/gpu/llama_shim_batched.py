"""A real-GPU OpenAI-compatible endpoint with continuous batching, for testing `collect` on a
GPU machine that has torch and aiohttp but no model weights and no vLLM.

Serves LLaMA-architecture transformers of the Llama 3.2 1B and 3B shapes (hidden size, layers,
heads, GQA key/value heads, SwiGLU MLP, RMSNorm, RoPE, tied 128256-token embeddings) with
random bf16 weights, written directly in torch (no transformers cache API): prefill and decode
run the real transformer on the GPU, so the energy profile is that of real inference (the text
is meaningless). Tokens are bytes of the prompt (prompt side) and generated ids mapped to words
(answer side).

Continuous batching: one scheduler thread per model. A new request is prefilled alone (its
keys and values written into its own slot of a static per-model KV cache); then every request
in flight is decoded together, one forward step per token for the whole batch (the slots are
kept contiguous, 0..B-1, so the step reads the cache without a gather; a masked attention
covers each sequence's own length). Each sequence's tokens go to its own SSE stream as they
are produced; sequences finish independently (a stop token or max_tokens) and new ones join
before the next step.

Routes: POST /v1/chat/completions (streaming SSE, `usage` at the end; non-streaming answers
too), GET /v1/models, GET /health, GET /metrics (Prometheus text with vLLM's names:
vllm:num_requests_running, vllm:num_requests_waiting, vllm:prompt_tokens_total,
vllm:generation_tokens_total, vllm:request_success_total), GET /calib (the start-up step
timings and the self-check).

    python3 llama_shim_batched.py PORT

Derived from ../shared/tools/llama_shim.py (which serves one request at a time). On the
H200 test machine a decode step is launch-overhead-bound, about as long at batch 8 as at
batch 1 (10-23 ms for the 1B shape, 15-47 ms for the 3B, varying from trial to trial; GPU
utilisation 5-40 %), so batching 8 requests divides the energy per token by about 7-11
(bench/gpu/concurrency_sweep.sh).
    SHIM_MODELS=llama-3.2-1b-shape  SHIM_MAX_BATCH=16  SHIM_MAX_TOKENS=2048  SHIM_STOP_MOD=2003
    SHIM_DEVICE=cpu SHIM_TINY=1 (a tiny shape, for a logic check without a GPU)
"""
import asyncio, json, math, os, queue, sys, threading, time
import torch
import torch.nn.functional as F
from aiohttp import web

SHAPES = {
    "llama-3.2-1b-shape": dict(hidden=2048, inter=8192, layers=16, heads=32, kv_heads=8),
    "llama-3.2-3b-shape": dict(hidden=3072, inter=8192, layers=28, heads=24, kv_heads=8),
}
TINY = dict(hidden=64, inter=128, layers=2, heads=4, kv_heads=2)
VOCAB = 128256
WORDS = "yes no the answer is true false because premise choice entails not sentence word".split()
DEVICE = os.environ.get("SHIM_DEVICE", "cuda")
DTYPE = torch.bfloat16 if DEVICE == "cuda" else torch.float32
MAX_BATCH = int(os.environ.get("SHIM_MAX_BATCH", "16"))
MAX_PROMPT = int(os.environ.get("SHIM_MAX_PROMPT", "4000"))
MAX_TOKENS = int(os.environ.get("SHIM_MAX_TOKENS", "2048"))
MAX_LEN = int(os.environ.get("SHIM_MAX_LEN", str(MAX_PROMPT + MAX_TOKENS + 8)))
# A sampled id with id % stop_mod == 0 (after 8 tokens) ends the answer, so lengths vary:
# stop_mod is SHIM_STOP_MOD, else 2·max_tokens + 1 for each request, so about 40 % of the
# answers stop early and the mean length is about 0.79·max_tokens.
STOP_MOD = int(os.environ.get("SHIM_STOP_MOD", "0"))
ROPE_THETA = 500000.0
EPS = 1e-5


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


class Seq:
    """One request in flight: its prompt ids, what it has generated, where its tokens go."""

    def __init__(self, ids, max_tokens, temperature, emit, done):
        self.ids, self.max_tokens = ids, max_tokens
        self.temperature = max(float(temperature), 1e-3)
        self.emit, self.done = emit, done  # emit(text), done(prompt_tokens, completion_tokens, finish)
        self.length = 0  # tokens in the KV cache
        self.last = None  # the last sampled id, the next decode step's input
        self.hist = []  # the sampled ids (the self-check recomputes from them)
        self.n = 0
        self.finish = None
        self.stop_mod = STOP_MOD or 2 * max_tokens + 1


class Engine:
    """A random-weight Llama of one shape, its static KV cache and its scheduler thread."""

    def __init__(self, name, shape, seed):
        self.name = name
        g = torch.Generator(device=DEVICE).manual_seed(seed)
        H, I, L = shape["hidden"], shape["inter"], shape["layers"]
        self.nh, self.kvh = shape["heads"], shape["kv_heads"]
        self.hd = H // self.nh
        self.L = L

        def w(*s):
            return (torch.randn(*s, generator=g, device=DEVICE, dtype=DTYPE) * 0.02)

        with torch.no_grad():
            self.embed = w(VOCAB, H)
            self.wqkv = [w((self.nh + 2 * self.kvh) * self.hd, H) for _ in range(L)]
            self.wo = [w(H, self.nh * self.hd) for _ in range(L)]
            self.wgu = [w(2 * I, H) for _ in range(L)]
            self.wdown = [w(H, I) for _ in range(L)]
            self.n1 = [torch.ones(H, device=DEVICE, dtype=DTYPE) for _ in range(L)]
            self.n2 = [torch.ones(H, device=DEVICE, dtype=DTYPE) for _ in range(L)]
            self.nf = torch.ones(H, device=DEVICE, dtype=DTYPE)
            inv = 1.0 / (ROPE_THETA ** (torch.arange(0, self.hd, 2, dtype=torch.float32) / self.hd))
            ang = torch.outer(torch.arange(MAX_LEN, dtype=torch.float32), inv)
            ang = torch.cat([ang, ang], dim=-1)
            self.cos = ang.cos().to(DEVICE, DTYPE)
            self.sin = ang.sin().to(DEVICE, DTYPE)
            # [layers, slots, kv_heads, positions, head_dim]
            self.kc = torch.zeros(L, MAX_BATCH, self.kvh, MAX_LEN, self.hd, device=DEVICE, dtype=DTYPE)
            self.vc = torch.zeros_like(self.kc)
        self.params = VOCAB * H + L * (self.wqkv[0].numel() + self.wo[0].numel() + self.wgu[0].numel()
                                       + self.wdown[0].numel() + 2 * H) + H
        self.inbox = queue.Queue()
        self.active = []  # slot i holds self.active[i]
        self.gen = torch.Generator(device=DEVICE).manual_seed(seed)
        self.prompt_tokens_total = 0
        self.generation_tokens_total = 0
        self.success_total = 0
        self.steps = 0

    # ---- the transformer -------------------------------------------------------------
    @staticmethod
    def rot(x):
        a, b = x.chunk(2, dim=-1)
        return torch.cat([-b, a], dim=-1)

    def forward(self, tokens, pos, slots, prefill, lmax=None):
        """tokens [B, T]; pos [B, T] absolute positions; slots [B] cache slots (a tensor);
        lmax: the longest sequence's length after this step (decode).
        Writes this step's keys and values into the cache and returns the last position's
        logits [B, V]. prefill: one sequence (B = 1) starting at position 0, causal over its
        own tokens; else T = 1 and each row attends to its cache up to its position."""
        B, T = tokens.shape
        x = self.embed[tokens]  # [B, T, H]
        cos, sin = self.cos[pos].unsqueeze(2), self.sin[pos].unsqueeze(2)  # [B, T, 1, hd]
        nq, nk = self.nh * self.hd, self.kvh * self.hd
        if not prefill:
            Lmax = lmax
            valid = torch.arange(Lmax, device=DEVICE)[None, :] <= pos[:, :1]  # [B, Lmax]
            mask = valid[:, None, None, :]  # [B, 1, 1, Lmax]
            bidx = slots
            p = pos[:, 0]
        for l in range(self.L):
            h = F.rms_norm(x, (x.shape[-1],), self.n1[l], EPS)
            qkv = h @ self.wqkv[l].T
            q = qkv[..., :nq].view(B, T, self.nh, self.hd)
            k = qkv[..., nq:nq + nk].view(B, T, self.kvh, self.hd)
            v = qkv[..., nq + nk:].view(B, T, self.kvh, self.hd)
            q = q * cos + self.rot(q) * sin
            k = k * cos + self.rot(k) * sin
            if prefill:
                s = int(slots[0])
                self.kc[l, s, :, :T] = k[0].transpose(0, 1)
                self.vc[l, s, :, :T] = v[0].transpose(0, 1)
                g = self.nh // self.kvh
                kk = k.transpose(1, 2).repeat_interleave(g, dim=1)  # [1, nh, T, hd]
                vv = v.transpose(1, 2).repeat_interleave(g, dim=1)
                o = F.scaled_dot_product_attention(q.transpose(1, 2), kk, vv, is_causal=True)
                o = o.transpose(1, 2).reshape(B, T, nq)
            else:
                kl, vl = self.kc[l], self.vc[l]  # [slots, kvh, MAX_LEN, hd]
                kl[bidx, :, p] = k[:, 0]  # [B, kvh, hd]
                vl[bidx, :, p] = v[:, 0]
                g = self.nh // self.kvh
                # GQA at T = 1: the g query heads of a key/value head act as g queries of it.
                qg = q[:, 0].reshape(B, self.kvh, g, self.hd)
                o = F.scaled_dot_product_attention(qg, kl[:B, :, :Lmax], vl[:B, :, :Lmax], attn_mask=mask)
                o = o.reshape(B, 1, nq)
            x = x + o @ self.wo[l].T
            h = F.rms_norm(x, (x.shape[-1],), self.n2[l], EPS)
            gu = h @ self.wgu[l].T
            gate, up = gu.chunk(2, dim=-1)
            x = x + (F.silu(gate) * up) @ self.wdown[l].T
        x = F.rms_norm(x[:, -1], (x.shape[-1],), self.nf, EPS)
        return x @ self.embed.T  # [B, V]

    def full_logits(self, ids):
        """Reference: the whole sequence at once (no cache reuse), last position's logits."""
        t = torch.tensor([ids], device=DEVICE)
        pos = torch.arange(len(ids), device=DEVICE)[None, :]
        return self.forward(t, pos, torch.tensor([MAX_BATCH - 1]), prefill=True)[0]

    def sample(self, logits, temps):
        probs = torch.softmax(logits.float() / temps[:, None], dim=-1)
        return torch.multinomial(probs, 1, generator=self.gen)[:, 0].tolist()

    # ---- the scheduler ---------------------------------------------------------------
    def _emit_token(self, seq, tok):
        seq.n += 1
        seq.hist.append(tok)
        seq.last = tok
        self.generation_tokens_total += 1
        seq.emit(WORDS[tok % len(WORDS)] + " ")
        if tok % seq.stop_mod == 0 and seq.n > 8:
            seq.finish = "stop"
        elif seq.n >= seq.max_tokens:
            seq.finish = "length"

    def _admit(self, seq):
        slot = len(self.active)
        ids = seq.ids
        T = len(ids)
        t = torch.tensor([ids], device=DEVICE)
        pos = torch.arange(T, device=DEVICE)[None, :]
        logits = self.forward(t, pos, torch.tensor([slot]), prefill=True)
        seq.length = T
        self.prompt_tokens_total += T
        self.active.append(seq)
        tok = self.sample(logits, torch.tensor([seq.temperature], device=DEVICE))[0]
        self._emit_token(seq, tok)

    def _step(self):
        B = len(self.active)
        tokens = torch.tensor([[s.last] for s in self.active], device=DEVICE)
        pos = torch.tensor([[s.length] for s in self.active], device=DEVICE)
        lmax = max(s.length for s in self.active) + 1
        logits = self.forward(tokens, pos, torch.arange(B, device=DEVICE), prefill=False, lmax=lmax)
        temps = torch.tensor([s.temperature for s in self.active], device=DEVICE)
        toks = self.sample(logits, temps)
        self.steps += 1
        for s, tok in zip(self.active, toks):
            s.length += 1
            self._emit_token(s, tok)

    def _retire(self):
        """Removes finished sequences, keeping the slots contiguous: the last slot's cache
        moves into the freed one."""
        for i in range(len(self.active) - 1, -1, -1):
            s = self.active[i]
            if s.finish is None:
                continue
            last = len(self.active) - 1
            if i != last:
                m = self.active[last]
                n = m.length
                self.kc[:, i, :, :n] = self.kc[:, last, :, :n]
                self.vc[:, i, :, :n] = self.vc[:, last, :, :n]
                self.active[i] = m
            self.active.pop()
            self.success_total += 1
            s.done(len(s.ids), s.n, s.finish)

    @torch.inference_mode()
    def run(self):
        while True:
            try:
                if not self.active:
                    new = [self.inbox.get()]
                else:
                    new = []
                while len(self.active) + len(new) < MAX_BATCH:
                    try:
                        new.append(self.inbox.get_nowait())
                    except queue.Empty:
                        break
                for s in new:
                    try:
                        self._admit(s)
                    except Exception as e:
                        log(f"{self.name}: prefill failed: {e!r}")
                        if s in self.active:
                            self.active.remove(s)
                        s.done(len(s.ids), s.n, "error")
                self._retire()
                if self.active:
                    self._step()
                    self._retire()
            except Exception as e:  # a failed step ends the requests in flight, not the server
                log(f"{self.name}: step failed: {e!r}")
                for s in self.active:
                    s.finish = "error"
                    s.done(len(s.ids), s.n, "error")
                self.active = []

    def waiting(self):
        return self.inbox.qsize()

    # ---- start-up: a self-check of the cached batched path and the step timings ------
    @torch.inference_mode()
    def selfcheck_and_calibrate(self):
        out = {}
        # Self-check: three sequences of different lengths decoded together for a few steps,
        # the last step's logits compared with a full recompute of each sequence.
        torch.manual_seed(1)
        seqs = []
        for T in (37, 5, 120):
            ids = torch.randint(0, 256, (T,)).tolist()
            s = Seq(ids, 10**9, 1.0, lambda _: None, lambda *_: None)
            seqs.append(s)
        for s in seqs:
            self._admit(s)
        for _ in range(6):
            self._step()
        # The middle one finishes: the last slot moves into its place.
        seqs[1].finish = "stop"
        self._retire()
        for _ in range(3):
            self._step()
        B = len(self.active)
        tokens = torch.tensor([[s.last] for s in self.active], device=DEVICE)
        pos = torch.tensor([[s.length] for s in self.active], device=DEVICE)
        lmax = max(s.length for s in self.active) + 1
        batched = self.forward(tokens, pos, torch.arange(B, device=DEVICE), prefill=False, lmax=lmax).float()
        diffs = []
        for i, s in enumerate(self.active):
            full_ids = s.ids + s.hist
            ref = self.full_logits(full_ids).float()
            diffs.append(float((batched[i] - ref).abs().max() / ref.abs().max()))
        out["selfcheck_rel_max_diff"] = max(diffs)
        self.active = []
        # Timings: a decode step at batch 1 and 8 with ~600 tokens in the cache (on a GPU
        # still at idle clocks these read several times slower than when serving).
        for b in (1, 8):
            for _ in range(b):
                self._admit(Seq(torch.randint(0, 256, (600,)).tolist(), 10**9, 1.0, lambda _: None, lambda *_: None))
            for _ in range(2):
                self._step()
            if DEVICE == "cuda":
                torch.cuda.synchronize()
            t0 = time.perf_counter()
            n = 10
            for _ in range(n):
                self._step()
            if DEVICE == "cuda":
                torch.cuda.synchronize()
            out[f"step_ms_b{b}"] = (time.perf_counter() - t0) / n * 1000
            self.active = []
        t0 = time.perf_counter()
        self._admit(Seq(torch.randint(0, 256, (450,)).tolist(), 10**9, 1.0, lambda _: None, lambda *_: None))
        if DEVICE == "cuda":
            torch.cuda.synchronize()
        out["prefill_ms_450"] = (time.perf_counter() - t0) * 1000
        self.active = []
        self.prompt_tokens_total = self.generation_tokens_total = self.success_total = self.steps = 0
        return out


engines, calib = {}, {}


def load():
    names = os.environ.get("SHIM_MODELS", ",".join(SHAPES)).split(",")
    for i, name in enumerate(names):
        shape = TINY if os.environ.get("SHIM_TINY") else SHAPES[name]
        t0 = time.perf_counter()
        e = Engine(name, shape, seed=i)
        log(f"loaded {name}: {e.params / 1e9:.2f} B params in {time.perf_counter() - t0:.1f} s")
        c = e.selfcheck_and_calibrate()
        calib[name] = c
        log(f"{name}: {json.dumps(c)}")
        engines[name] = e
        threading.Thread(target=e.run, daemon=True, name=f"sched-{name}").start()


def prompt_ids(body):
    prompt = "".join(str(m.get("content", "")) for m in body.get("messages", []))
    ids = list(prompt.encode("utf-8"))[:MAX_PROMPT]
    return ids or [32]


async def chat(request):
    body = await request.json()
    engine = engines.get(body.get("model"))
    if engine is None:
        return web.json_response({"error": {"message": f"unknown model {body.get('model')!r}"}}, status=404)
    ids = prompt_ids(body)
    max_tokens = max(1, min(int(body.get("max_tokens") or 64), MAX_TOKENS))
    temperature = body.get("temperature")
    temperature = 0.7 if temperature is None else float(temperature)
    loop, q = asyncio.get_running_loop(), asyncio.Queue()
    created, rid = int(time.time()), f"chatcmpl-{time.time_ns()}"
    put = lambda item: loop.call_soon_threadsafe(q.put_nowait, item)
    seq = Seq(ids, max_tokens, temperature, lambda s: put(("tok", s)),
              lambda pt, ct, fin: put(("end", (pt, ct, fin))))
    engine.inbox.put(seq)
    model = body["model"]

    def chunk(delta, finish=None):
        return {"id": rid, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    if not body.get("stream"):
        text = []
        while True:
            kind, val = await q.get()
            if kind == "tok":
                text.append(val)
            else:
                pt, ct, fin = val
                break
        if fin == "error":
            return web.json_response({"error": {"message": "generation failed"}}, status=500)
        return web.json_response({"id": rid, "object": "chat.completion", "created": created, "model": model,
                                  "choices": [{"index": 0, "message": {"role": "assistant", "content": "".join(text)},
                                               "finish_reason": fin}],
                                  "usage": {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct}})

    try:
        return await stream(request, q, chunk, rid, created, model)
    finally:
        # A client that went away (or a cancelled handler) ends its sequence at the next step.
        if seq.finish is None:
            seq.finish = "abort"


async def stream(request, q, chunk, rid, created, model):
    resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Server": "llama-shim-batched"})
    await resp.prepare(request)
    await resp.write(f"data: {json.dumps(chunk({'role': 'assistant'}))}\n\n".encode())
    while True:
        kind, val = await q.get()
        if kind == "tok":
            # Tokens produced while the loop was busy go out as they are, one chunk each.
            await resp.write(f"data: {json.dumps(chunk({'content': val}))}\n\n".encode())
            continue
        pt, ct, fin = val
        if fin == "error":
            # A stream that ends without its usage is retried by collect.
            break
        await resp.write(f"data: {json.dumps(chunk({}, fin))}\n\n".encode())
        usage = {"id": rid, "object": "chat.completion.chunk", "created": created, "model": model,
                 "choices": [], "usage": {"prompt_tokens": pt, "completion_tokens": ct, "total_tokens": pt + ct}}
        await resp.write(f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
        break
    await resp.write_eof()
    return resp


async def list_models(_):
    return web.json_response({"object": "list", "data": [
        {"id": k, "object": "model", "owned_by": "shim", "max_model_len": MAX_LEN} for k in engines]})


async def health(_):
    return web.Response(text="ok")


async def metrics(_):
    lines = []
    for help_, kind, name, f in (
            ("Requests in the running batch.", "gauge", "vllm:num_requests_running", lambda e: len(e.active)),
            ("Requests waiting to join the batch.", "gauge", "vllm:num_requests_waiting", lambda e: e.waiting()),
            ("Prompt tokens prefilled.", "counter", "vllm:prompt_tokens_total", lambda e: e.prompt_tokens_total),
            ("Tokens generated.", "counter", "vllm:generation_tokens_total", lambda e: e.generation_tokens_total),
            ("Requests finished.", "counter", "vllm:request_success_total", lambda e: e.success_total),
            ("Batched decode steps.", "counter", "shim:decode_steps_total", lambda e: e.steps)):
        lines.append(f"# HELP {name} {help_}")
        lines.append(f"# TYPE {name} {kind}")
        for k, e in engines.items():
            lines.append(f'{name}{{model_name="{k}"}} {f(e)}')
    return web.Response(text="\n".join(lines) + "\n", content_type="text/plain")


async def calibration(_):
    return web.json_response(calib)


if __name__ == "__main__":
    # The scheduler thread launches kernels without pause; hand the GIL to the event loop
    # often so that each token reaches its stream soon after it is sampled.
    sys.setswitchinterval(0.0005)
    log(f"torch {torch.__version__} on {DEVICE}; max batch {MAX_BATCH}, max len {MAX_LEN}")
    load()
    app = web.Application(client_max_size=16 << 20)
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/calib", calibration)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=lambda *_: log("serving"))
