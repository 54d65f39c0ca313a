#!/usr/bin/python3
"""Measured per-layer compute of a gcsim zoo model, with PyTorch.

Times each layer of the zoo's model (`gcsim models MODEL`: the same layers, in
the same order, with the same parameter counts) forward and backward at one
batch, on CUDA with CUDA events or on the CPU with time.perf_counter, and the
whole step (forward + loss + backward of the full model) on its own. Writes
them as a profile section [layer_times.MODEL] that `gcsim simulate` uses in
place of the FLOP split of a step (sim/training/compute_time.h).

How a layer is timed: one training pass with hooks on the zoo's modules, so
that the layers are timed in the pass that runs them, not one by one.
  forward   a forward pre-hook marks the clock as each zoo layer starts; a
            layer's forward is the time from its mark to the next layer's
            mark (to the end of the loss for the last). The work between two
            zoo layers that has no parameters of its own (ReLU, pooling,
            residual adds, flatten, GELU, the loss) goes to the layer before.
  backward  a hook on each zoo layer's output tensor marks the clock when the
            gradient of that output is complete, i.e. as the layer's own
            backward starts; a layer's backward is the time from its mark to
            the next mark (to the end of loss.backward() for the last; the
            loss's backward goes to the first to mark, the last layer in
            forward order). So the sum over layers up to
            layer i is when layer i's gradient is ready, which is what the
            simulator's buckets wait for.
  CUDA      the marks are CUDA events recorded on the current stream, read
            after a synchronize; on the CPU the marks are perf_counter().
Repeats: --repeats hooked passes and as many without hooks, interleaved, so
that both see the same machine. Each kind is summarized by its faster half
of passes by total time (rounded up: interference from other processes only
ever adds time): a layer's time is its mean over the faster hooked passes,
step_ms the mean of the faster unhooked ones. Means over whole passes, not
per-layer medians, because they add up: the per-layer times sum to the hooked
passes they came from (per-layer medians do not: each drops the spikes that
hit its own layer, so their sum falls short of any real pass on a busy
machine). The sum is printed against step_ms (tests/profile_model_test.sh
wants it within 15 %); the simulator uses the layer times as the split and
step_ms, scaled linearly by batch, as the total.

Output: with --into, a copy of that profile with the section added (or
replaced); without, the section alone, to paste into a profile. An existing
--out is replaced only with --force, and always atomically. On the CPU,
--threads also pins OpenBLAS, which Debian's torch calls with threads of its
own.

Models: torchvision's resnet18, resnet50 and vgg16 (random weights); SimpleCNN
and GPT-2 small are defined here to match models/simplecnn.cpp and
models/gpt2.cpp exactly (GPT-2: 1024-token sequences, tied lm_head). Each zoo
layer's parameter count is checked against `gcsim models MODEL --csv`, and
every parameter of the torch model must belong to one zoo layer; the script
fails (exit 1) if not. Bad input: one line on stderr, exit 2.
"""

import argparse
import datetime
import math
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

try:
    import tomllib  # Python 3.11+
except ImportError:  # pragma: no cover
    tomllib = None

PROG = "profile_model.py"
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
ZOO = ["simplecnn", "resnet18", "resnet50", "vgg16", "gpt2-small"]
ALIASES = {"gpt2": "gpt2-small"}
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class BadInput(Exception):
    """Bad flags or files: exit 2."""


class Failed(Exception):
    """A failure while running (torch missing, the model does not match the zoo): exit 1."""


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        raise BadInput(message + " (try --help)")


def parse_args(argv):
    p = Parser(prog=PROG, description=__doc__.split("\n\n")[0],
               epilog=__doc__.split("\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="zoo name: " + ", ".join(ZOO) + " (gpt2 = gpt2-small)")
    p.add_argument("--batch", required=True, type=int, help="samples per step (GPT-2: 1024-token sequences)")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda (the current CUDA device)")
    p.add_argument("--repeats", type=int, default=10,
                   help="timed passes of each kind (default 10; see Repeats below)")
    p.add_argument("--warmup", type=int, default=3, help="untimed passes of each kind first (default 3)")
    p.add_argument("--threads", type=int, help="CPU threads for torch (torch.set_num_threads; also OMP_NUM_THREADS, "
                                               "OPENBLAS_NUM_THREADS and MKL_NUM_THREADS where not set; "
                                               "default: torch's)")
    p.add_argument("--out", required=True, help="file to write: the section alone, or with --into the whole profile")
    p.add_argument("--into", metavar="BASE_PROFILE",
                   help="copy this profile to --out with [layer_times.MODEL] added (or replaced)")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists (a regular file)")
    p.add_argument("--gcsim", help="the gcsim binary that lists the zoo (default: $GCSIM, gcsim on PATH, "
                                   "build/release/gcsim)")
    p.add_argument("--seed", type=int, default=0, help="torch seed for weights and inputs (default 0)")
    a = p.parse_args(argv)
    a.model = ALIASES.get(a.model, a.model)
    if a.model not in ZOO:
        raise BadInput(f"--model {a.model}: unknown model (the zoo: {', '.join(ZOO)})")
    for flag, v, lo in (("--batch", a.batch, 1), ("--repeats", a.repeats, 1), ("--warmup", a.warmup, 0),
                        ("--threads", a.threads, 1)):
        if v is not None and v < lo:
            raise BadInput(f"{flag} {v}: must be >= {lo}")
    if a.batch > 1 << 24:
        raise BadInput(f"--batch {a.batch}: must be <= {1 << 24}")
    if a.device not in ("cpu", "cuda"):
        raise BadInput(f"--device {a.device}: expected cpu or cuda")
    return a


def check_output(path, force):
    if path == "-":
        raise BadInput("--out -: give a file name")
    if os.path.lexists(path):
        if not os.path.isfile(path) or os.path.islink(path):
            raise BadInput(f"--out {path}: exists and is not a regular file")
        if not force:
            raise BadInput(f"--out {path}: exists (use --force to overwrite)")
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise BadInput(f"--out {path}: directory {d} does not exist")
    if not os.access(d, os.W_OK):
        raise BadInput(f"--out {path}: directory {d} is not writable")


def read_base(path):
    if not os.path.isfile(path):
        raise BadInput(f"--into {path}: not a file")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if tomllib is not None:
        try:
            tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise BadInput(f"--into {path}: TOML syntax error: {e}")
    return text


def find_gcsim(flag):
    for c in (flag, os.environ.get("GCSIM"), shutil.which("gcsim"), os.path.join(REPO, "build", "release", "gcsim")):
        if c:
            if os.path.isfile(c) and os.access(c, os.X_OK):
                return c
            if c == flag:
                raise BadInput(f"--gcsim {flag}: not an executable file")
    raise BadInput("no gcsim binary found (build it, or pass --gcsim PATH)")


def zoo_layers(gcsim, model):
    """[(name, kind, params)] from `gcsim models MODEL --csv`."""
    r = subprocess.run([gcsim, "models", model, "--csv"], capture_output=True, text=True)
    if r.returncode != 0:
        raise Failed(f"{gcsim} models {model} --csv: exit {r.returncode}: {r.stderr.strip()}")
    lines = r.stdout.strip().splitlines()
    if not lines or lines[0] != "layer,kind,params,forward_flops":
        raise Failed(f"{gcsim} models {model} --csv: unexpected output")
    out = []
    for line in lines[1:]:
        name, kind, params, _ = line.split(",")
        out.append((name, kind, int(params)))
    return out


# ---- the models --------------------------------------------------------------

def build_model(name, torch):
    nn = torch.nn
    F = torch.nn.functional
    if name in ("resnet18", "resnet50", "vgg16"):
        import torchvision
        return getattr(torchvision.models, name)(weights=None)
    if name == "simplecnn":
        class SimpleCNN(nn.Module):  # models/simplecnn.cpp
            def __init__(self):
                super().__init__()
                self.conv1 = nn.Conv2d(1, 16, kernel_size=5, stride=1, padding=2, bias=True)
                self.conv2 = nn.Conv2d(16, 32, kernel_size=5, stride=1, padding=2, bias=True)
                self.fc1 = nn.Linear(1568, 120, bias=True)
                self.fc2 = nn.Linear(120, 10, bias=True)

            def forward(self, x):
                x = F.max_pool2d(F.relu(self.conv1(x)), 2, 2)
                x = F.max_pool2d(F.relu(self.conv2(x)), 2, 2)
                return self.fc2(F.relu(self.fc1(torch.flatten(x, 1))))
        return SimpleCNN()

    # GPT-2 small, models/gpt2.cpp: HF's GPT2LMHeadModel layout; Conv1D as
    # nn.Linear (same parameters), attention scores and weighted sum on their
    # own 0-parameter module "h.N.attn.core", lm_head tied to transformer.wte.
    vocab, positions, d, n_layer, heads = 50257, 1024, 768, 12, 12

    class AttentionCore(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("mask", torch.tril(torch.ones(positions, positions, dtype=torch.bool)),
                                 persistent=False)

        def forward(self, qkv):
            b, t, _ = qkv.shape
            q, k, v = (z.view(b, t, heads, d // heads).transpose(1, 2) for z in qkv.split(d, dim=2))
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(d // heads))
            att = att.masked_fill(~self.mask[:t, :t], float("-inf")).softmax(dim=-1)
            return (att @ v).transpose(1, 2).reshape(b, t, d)

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_attn = nn.Linear(d, 3 * d)
            self.core = AttentionCore()
            self.c_proj = nn.Linear(d, d)

        def forward(self, x):
            return self.c_proj(self.core(self.c_attn(x)))

    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            self.c_fc = nn.Linear(d, 4 * d)
            self.c_proj = nn.Linear(4 * d, d)

        def forward(self, x):
            return self.c_proj(F.gelu(self.c_fc(x), approximate="tanh"))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(d)
            self.attn = Attention()
            self.ln_2 = nn.LayerNorm(d)
            self.mlp = Mlp()

        def forward(self, x):
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class TiedHead(nn.Module):  # no parameters of its own: the embedding's weight
        def __init__(self, embedding):
            super().__init__()
            self._embedding = [embedding]  # a list, so that it is not a submodule

        def forward(self, x):
            return F.linear(x, self._embedding[0].weight)

    class Gpt2Small(nn.Module):
        def __init__(self):
            super().__init__()
            self.transformer = nn.ModuleDict({"wte": nn.Embedding(vocab, d), "wpe": nn.Embedding(positions, d)})
            self.h = nn.ModuleList([Block() for _ in range(n_layer)])
            self.ln_f = nn.LayerNorm(d)
            self.lm_head = TiedHead(self.transformer["wte"])

        def forward(self, ids):
            pos = torch.arange(ids.shape[1], device=ids.device)
            x = self.transformer["wte"](ids) + self.transformer["wpe"](pos)[None]
            for block in self.h:
                x = block(x)
            return self.lm_head(self.ln_f(x))
    return Gpt2Small()


def make_batch(name, batch, device, torch):
    """(input, target, loss function) for one step."""
    F = torch.nn.functional
    if name == "gpt2-small":
        ids = torch.randint(0, 50257, (batch, 1024), device=device)
        tgt = torch.randint(0, 50257, (batch, 1024), device=device)
        return ids, tgt, lambda out, t: F.cross_entropy(out.reshape(-1, out.shape[-1]), t.reshape(-1))
    shape, classes = ((1, 28, 28), 10) if name == "simplecnn" else ((3, 224, 224), 1000)
    x = torch.randn(batch, *shape, device=device)
    return x, torch.randint(0, classes, (batch,), device=device), F.cross_entropy


def check_params(model, zoo, name):
    """The torch modules of the zoo's layers, after checking their parameter counts."""
    modules, wrong = [], []
    for lname, _, params in zoo:
        try:
            m = model.get_submodule(lname)
        except AttributeError:
            raise Failed(f"{name}: the torch model has no module '{lname}' (a zoo layer)")
        n = sum(p.numel() for p in m.parameters())
        if n != params:
            wrong.append(f"{lname} {n} (zoo {params})")
        modules.append(m)
    if wrong:
        raise Failed(f"{name}: parameter counts differ from the zoo's: " + ", ".join(wrong[:5]) +
                     (f" and {len(wrong) - 5} more" if len(wrong) > 5 else ""))
    total = sum(p.numel() for p in model.parameters())
    zoo_total = sum(p for _, _, p in zoo)
    if total != zoo_total:
        raise Failed(f"{name}: the torch model has {total} parameters, its zoo layers {zoo_total}: "
                     "some parameters belong to no zoo layer")
    return modules


# ---- timing ------------------------------------------------------------------

def faster_half(totals):
    """Indices of the faster half of the passes by total time (rounded up)."""
    return sorted(range(len(totals)), key=totals.__getitem__)[:(len(totals) + 1) // 2]


class Clock:
    """perf_counter marks on the CPU; CUDA events on the current stream."""

    def __init__(self, device, torch):
        self.cuda = device == "cuda"
        self.torch = torch

    def mark(self):
        if not self.cuda:
            return time.perf_counter()
        e = self.torch.cuda.Event(enable_timing=True)
        e.record()
        return e

    def ms(self, a, b):
        return a.elapsed_time(b) if self.cuda else (b - a) * 1e3

    def sync(self):
        if self.cuda:
            self.torch.cuda.synchronize()


class Profiler:
    def __init__(self, model, modules, names, batch, clock):
        self.model, self.modules, self.names, self.clock = model, modules, names, clock
        self.x, self.y, self.loss = batch
        self.params = list(model.parameters())
        self.handles = []
        self.fwd, self.bwd = [], []

    def _zero(self):
        for p in self.params:
            p.grad = None

    def _attach(self):
        def pre(i):
            def hook(module, inputs):
                self.fwd.append((self.clock.mark(), i))
            return hook

        def post(i):
            def hook(module, inputs, out):
                if not isinstance(out, self.clock.torch.Tensor):
                    raise Failed(f"layer {self.names[i]} returns {type(out).__name__}, not one tensor")
                if out.requires_grad:
                    out.register_hook(lambda grad: self.bwd.append((self.clock.mark(), i)))
            return hook

        for i, m in enumerate(self.modules):
            self.handles.append(m.register_forward_pre_hook(pre(i)))
            self.handles.append(m.register_forward_hook(post(i)))

    def _detach(self):
        for h in self.handles:
            h.remove()
        self.handles = []

    def step(self):
        """One forward + backward without hooks: ms."""
        self._zero()
        self.clock.sync()
        t0 = self.clock.mark()
        self.loss(self.model(self.x), self.y).backward()
        t1 = self.clock.mark()
        self.clock.sync()
        return self.clock.ms(t0, t1)

    def hooked_step(self):
        """One forward + backward with the hooks: (forward ms per layer, backward ms per layer, total ms)."""
        self._zero()
        self.fwd, self.bwd = [], []
        self._attach()
        try:
            self.clock.sync()
            f0 = self.clock.mark()
            loss = self.loss(self.model(self.x), self.y)
            b0 = self.clock.mark()
            loss.backward()
            b1 = self.clock.mark()
            self.clock.sync()
        finally:
            self._detach()
        n = len(self.modules)
        return (self._intervals(self.fwd, f0, b0, n, "forward"), self._intervals(self.bwd, b0, b1, n, "backward"),
                self.clock.ms(f0, b1))

    def _intervals(self, marks, start, end, n, what):
        seen = [m[1] for m in marks]
        if sorted(seen) != list(range(n)):
            counts = {i: seen.count(i) for i in range(n) if seen.count(i) != 1}
            bad = ", ".join(f"{self.names[i]} {c} times" for i, c in list(counts.items())[:5])
            raise Failed(f"each zoo layer must run once in the {what} pass: {bad}")
        out = [0.0] * n
        for k, (_, i) in enumerate(marks):
            a = start if k == 0 else marks[k][0]
            b = end if k + 1 == n else marks[k + 1][0]
            out[i] = self.clock.ms(a, b)
        return out


def device_text(device, torch, threads):
    if device == "cuda":
        return f"{torch.cuda.get_device_name()} (torch {torch.__version__}, CUDA {torch.version.cuda})"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    blas = os.environ.get("OPENBLAS_NUM_THREADS")
    blas = f", OPENBLAS_NUM_THREADS={blas}" if blas else ""
    return f"cpu: {cpu} (torch {torch.__version__}, {threads} thread{'s' if threads != 1 else ''}{blas})"


# ---- output --------------------------------------------------------------------

def toml_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def toml_float(v):
    t = f"{v:.6g}"
    return t if any(c in t for c in ".en") else t + ".0"


def section_text(a, zoo, device, fwd, bwd, step_ms, versions):
    names = ", ".join(toml_string(n) for n, _, _ in zoo)
    params = ", ".join(str(p) for _, _, p in zoo)
    src = " ".join(shlex.quote(x) for x in [os.path.join("tools", PROG)] + sys.argv[1:])
    lines = [
        f"[layer_times.{a.model}]",
        f"# Measured by tools/profile_model.py: forward_ms[i] and backward_ms[i] are layer i of",
        f"# `gcsim models {a.model}` (forward order), means over the faster half of {a.repeats} passes timed",
        f"# with hooks; step_ms, the same over {a.repeats} passes without (forward + loss + backward, no optimizer).",
        f"# Per-layer sum {sum(fwd) + sum(bwd):.6g} ms. gcsim splits the step by these times and",
        f"# scales step_ms linearly by batch (sim/training/compute_time.h).",
        f"batch = {a.batch}",
        f"device = {toml_string(device)}",
        f"measured_on = {toml_string(datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d') + ', ' + versions)}",
        f"source = {toml_string(src)}",
        f"repeats = {a.repeats}",
        f"step_ms = {toml_float(step_ms)}",
        f"names = [{names}]",
        f"params = [{params}]",
        f"forward_ms = [{', '.join(toml_float(v) for v in fwd)}]",
        f"backward_ms = [{', '.join(toml_float(v) for v in bwd)}]",
    ]
    return "\n".join(lines) + "\n"


def without_section(text, model):
    """The base's text with its [layer_times.MODEL] table removed (header to the next table header)."""
    heads = {f"[layer_times.{model}]", f'[layer_times."{model}"]', f"[ layer_times.{model} ]"}
    out, skipping = [], False
    for line in text.splitlines(keepends=True):
        s = line.split("#", 1)[0].strip() if line.lstrip().startswith("[") else ""
        if s:
            skipping = s.replace(" ", "") in {h.replace(" ", "") for h in heads}
        if not skipping:
            out.append(line)
    return "".join(out)


def _without(doc, model):
    """A parsed profile without its layer_times.MODEL (and without layer_times once empty)."""
    doc = dict(doc)
    lt = {k: v for k, v in doc.pop("layer_times", {}).items() if k != model}
    if lt:
        doc["layer_times"] = lt
    return doc


def merged_profile(base_path, base, model, section):
    kept = without_section(base, model).rstrip("\n")
    text = kept + "\n\n" + section
    if tomllib is not None:
        try:
            new = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise BadInput(f"--into {base_path}: cannot add [layer_times.{model}] to it ({e}); edit it by hand")
        if _without(tomllib.loads(base), model) != _without(new, model):
            raise BadInput(f"--into {base_path}: replacing its [layer_times.{model}] would change other keys; "
                           "edit it by hand")
    return text


def write_atomically(path, text):
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def run(argv):
    a = parse_args(argv)
    check_output(a.out, a.force)
    base = read_base(a.into) if a.into else None
    gcsim = find_gcsim(a.gcsim)
    if a.threads:
        # Debian's torch reaches OpenBLAS through the generic BLAS interface, so
        # set_num_threads does not reach it: OpenBLAS runs its own threads,
        # which spin against torch's on a busy machine. Read at load: set first.
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(var, str(a.threads))
    try:
        import torch
    except ImportError as e:
        raise Failed(f"needs PyTorch ({sys.executable}: {e}); Debian: apt-get install python3-torch "
                     "python3-torchvision")
    if a.device == "cuda" and not torch.cuda.is_available():
        raise BadInput("--device cuda: torch sees no CUDA device")
    if a.threads:
        torch.set_num_threads(a.threads)
    threads = torch.get_num_threads()
    torch.manual_seed(a.seed)

    zoo = zoo_layers(gcsim, a.model)
    model = build_model(a.model, torch).to(a.device).train()
    modules = check_params(model, zoo, a.model)
    names = [n for n, _, _ in zoo]
    prof = Profiler(model, modules, names, make_batch(a.model, a.batch, a.device, torch), Clock(a.device, torch))

    for _ in range(a.warmup):
        prof.step()
        prof.hooked_step()
    steps, fwds, bwds, hooked = [], [], [], []
    for _ in range(a.repeats):  # interleaved, so that both kinds see the same machine
        steps.append(prof.step())
        f, b, h = prof.hooked_step()
        fwds.append(f)
        bwds.append(b)
        hooked.append(h)
    kept = faster_half(hooked)
    fwd = [statistics.fmean(fwds[k][i] for k in kept) for i in range(len(names))]
    bwd = [statistics.fmean(bwds[k][i] for k in kept) for i in range(len(names))]
    step_ms = statistics.fmean(steps[k] for k in faster_half(steps))

    device = device_text(a.device, torch, threads)
    versions = f"torch {torch.__version__}"
    if a.model in ("resnet18", "resnet50", "vgg16"):
        import torchvision
        versions += f", torchvision {torchvision.__version__}"
    section = section_text(a, zoo, device, fwd, bwd, step_ms, versions)
    text = merged_profile(a.into, base, a.model, section) if a.into else section
    if not a.force and os.path.lexists(a.out):  # appeared while we measured
        raise BadInput(f"--out {a.out}: exists (use --force to overwrite)")
    write_atomically(a.out, text)
    total = sum(fwd) + sum(bwd)
    print(f"{a.model} batch {a.batch} on {device}: step {step_ms:.4g} ms; per-layer sum {total:.4g} ms "
          f"({(total / step_ms - 1) * 100:+.1f} %; forward {sum(fwd):.4g}, backward {sum(bwd):.4g}); "
          f"passes {min(steps):.4g}..{max(steps):.4g} ms; wrote {a.out}")
    return 0


def main(argv=None):
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except BadInput as e:
        print(f"{PROG}: {one_line(e)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except (Failed, RuntimeError, OSError) as e:  # RuntimeError: torch's (out of memory, a CUDA error)
        print(f"{PROG}: error: {one_line(e)}", file=sys.stderr)
        return EXIT_FAILED


def one_line(e):
    return str(e).replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


if __name__ == "__main__":
    sys.exit(main())
