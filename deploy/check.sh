#!/usr/bin/env bash
# check.sh — offline checks of the container and deployment files: no Docker daemon, no cluster.
#
# The one idea: every claim the files make about each other is checked against the thing it names.
# The llmotlp configs load in the real binary with the exact environment Compose and Kubernetes
# give them. Each package the Dockerfile installs exists in Debian 12, and each shared library the
# binary links is owned by a runtime package (or one of their dependencies). Every host, port,
# path, ConfigMap and label one file points at is defined by another.
#
# usage: deploy/check.sh [--build]
#   --build  also builds llmotlp the way the Dockerfile's build stage does (only its COPY inputs,
#            Release, -DLLMOTLP_SANITIZE=OFF) in a temporary tree, runs that stage's RUN checks,
#            and uses that binary below (a few minutes on 2 cores)
#   LLMOTLP_BIN=path  the binary to use otherwise (default: build/llmotlp, from `make build`)
# Needs: bash, python3 with PyYAML (Debian python3-yaml), kubectl (kustomize), apt-cache with
# current lists (apt-get update), dpkg, ldd. Ends with "N passed, M failed"; exits 1 on a failure.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
TMP=$(mktemp -d /tmp/llmotlp-deploy-check.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ]; exit $?; }

# ---- tools --------------------------------------------------------------------------------------
PY=""
for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import yaml' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] && ok "python3 with PyYAML: $PY" || bad "no python3 with PyYAML (Debian: apt-get install python3-yaml)"
for t in kubectl apt-cache dpkg ldd; do
    command -v "$t" >/dev/null && ok "tool $t" || bad "tool $t missing"
done
[ -z "$PY" ] && finish

# ---- the binary ---------------------------------------------------------------------------------
BIN=${LLMOTLP_BIN:-$ROOT/build/llmotlp}
if [ "${1:-}" = "--build" ]; then
    # The build stage's inputs are its COPY lines (the Dockerfile is read, not assumed).
    SRC=$TMP/src
    mkdir -p "$SRC"
    "$PY" - "$ROOT/Dockerfile" >"$TMP/copies" <<'EOF'
import re, sys
stage = 0
for line in open(sys.argv[1]):
    if re.match(r"\s*FROM\s", line, re.I):
        stage += 1
    m = re.match(r"\s*COPY\s+(?!--)(\S+)\s+(\S+)\s*$", line, re.I)
    if stage == 1 and m:
        print(m.group(1).rstrip("/"))
EOF
    while read -r c; do cp -a "$ROOT/$c" "$SRC/$c"; done <"$TMP/copies"
    rm -f "$SRC"/pricing/*.db "$SRC"/pricing/*.db-wal "$SRC"/pricing/*.db-shm  # as .dockerignore
    # The build stage has no cmocka (a test-only package), so CMake leaves the unit tests out;
    # hide this machine's cmocka.pc from pkg-config to configure the same way.
    mkdir -p "$TMP/pc"
    for d in $(pkg-config --variable pc_path pkg-config | tr ':' ' '); do
        [ -d "$d" ] && for pc in "$d"/*.pc; do
            [ -e "$pc" ] && [ "$(basename "$pc")" != cmocka.pc ] && [ ! -e "$TMP/pc/$(basename "$pc")" ] &&
                ln -s "$pc" "$TMP/pc/"
        done
    done
    if PKG_CONFIG_LIBDIR=$TMP/pc cmake -S "$SRC" -B "$SRC/build" -DCMAKE_BUILD_TYPE=Release \
            -DLLMOTLP_SANITIZE=OFF >"$TMP/cmake.log" 2>&1 &&
        cmake --build "$SRC/build" --target llmotlp -j2 >>"$TMP/cmake.log" 2>&1; then
        ok "build stage: Release llmotlp builds from the Dockerfile's COPY inputs alone"
        BIN=$SRC/build/llmotlp
        (cd "$SRC" && ./build/llmotlp validate --config config.yaml >/dev/null 2>&1) &&
            ok "build stage: the default config validates" || bad "build stage: default config does not validate"
        (cd "$SRC" && mkdir -p out && ./build/llmotlp pricing --db out/llmotlp.db init --seed pricing/prices.csv >/dev/null 2>&1) &&
            ok "build stage: the pricing DB seeds" || bad "build stage: seeding the pricing DB failed"
    else
        bad "build stage: build failed (tail of the log below)"
        tail -20 "$TMP/cmake.log"
    fi
fi
if [ ! -x "$BIN" ]; then
    bad "no llmotlp binary at $BIN (make build, or LLMOTLP_BIN=...)"
    finish
fi
ok "binary $BIN"

# ---- every YAML file parses ---------------------------------------------------------------------
while IFS= read -r f; do
    if "$PY" -c 'import sys, yaml; list(yaml.safe_load_all(open(sys.argv[1])))' "$f" 2>"$TMP/err"; then
        ok "YAML parses: $f"
    else
        bad "YAML does not parse: $f: $(tail -1 "$TMP/err")"
    fi
done < <(find config.yaml deploy -name node_modules -prune -o \( -name '*.yaml' -o -name '*.yml' \) -print | sort)

# ---- Kubernetes: kustomize renders --------------------------------------------------------------
if kubectl kustomize deploy/kubernetes >"$TMP/k8s.yaml" 2>"$TMP/err"; then
    ok "kubectl kustomize deploy/kubernetes renders ($(grep -c '^kind:' "$TMP/k8s.yaml") objects)"
else
    bad "kubectl kustomize deploy/kubernetes: $(head -3 "$TMP/err")"
    : >"$TMP/k8s.yaml"
fi

# ---- cross-file structure (python) --------------------------------------------------------------
# Prints "ok: ..." / "FAIL: ..." lines and writes, for the shell part below, the environments and
# files the llmotlp container gets: compose.env, k8s.env (KEY=VALUE lines), k8s-overlay.yaml,
# initcmd (the init container's shell command) and runtime-packages.
"$PY" - "$ROOT" "$TMP" <<'EOF' >"$TMP/py.out" 2>&1
import os, re, sys, shlex
import yaml

root, tmp = sys.argv[1], sys.argv[2]
def ok(msg): print("ok:", msg)
def bad(msg): print("FAIL:", msg)
def check(cond, msg, why=""):
    ok(msg) if cond else bad(msg + (": " + why if why else ""))
def load(path):
    with open(os.path.join(root, path)) as f:
        return yaml.safe_load(f)

# -- Dockerfile --
stages, cur = [], None
lines = open(os.path.join(root, "Dockerfile")).read().replace("\\\n", " ").splitlines()
for line in lines:
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    word, _, rest = line.partition(" ")
    word = word.upper()
    if word == "FROM":
        cur = {"from": rest.split()[0], "run": [], "copy": [], "env": {}, "user": None,
               "expose": [], "entrypoint": None, "cmd": None, "healthcheck": None}
        stages.append(cur)
    elif word == "RUN":
        cur["run"].append(rest)
    elif word == "COPY":
        cur["copy"].append(rest.split())
    elif word == "ENV":
        k, _, v = rest.partition("=")
        cur["env"][k.strip()] = v.strip()
    elif word == "USER":
        cur["user"] = rest.strip()
    elif word == "EXPOSE":
        cur["expose"] += [int(p) for p in rest.split()]
    elif word in ("ENTRYPOINT", "CMD", "HEALTHCHECK"):
        cur[word.lower()] = rest.strip()
check(len(stages) == 2 and all(s["from"].startswith("debian:12-slim") for s in stages),
      "Dockerfile: two stages, both debian:12-slim", str([s["from"] for s in stages]))
build, run = stages[0], stages[-1]

def apt_packages(stage):
    pkgs = []
    for r in stage["run"]:
        m = re.search(r"apt-get install ([^&]*)", r)
        if m:
            pkgs += [w for w in m.group(1).split() if not w.startswith("-")]
    return pkgs
build_pkgs, run_pkgs = apt_packages(build), apt_packages(run)
deps_sh = open(os.path.join(root, "scripts/install-deps.sh")).read()
# the main list (the script also has a --fuzz list for make fuzz)
lists = [l.split() for l in re.findall(r"pkgs=\(([^)]*)\)", deps_sh)]
deps = next((l for l in lists if "cmake" in l), [])
test_only = {"libcmocka-dev", "prometheus", "curl", "openssl", "nodejs", "npm", "clang", "libclang-rt-14-dev"}
check(set(build_pkgs) == set(deps) - test_only,
      "Dockerfile build stage installs scripts/install-deps.sh's packages minus the test-only ones",
      f"extra {sorted(set(build_pkgs) - set(deps))}, missing {sorted(set(deps) - test_only - set(build_pkgs))}")
check(run_pkgs and not any(p.endswith("-dev") for p in run_pkgs),
      "Dockerfile runtime stage installs no -dev package", str(run_pkgs))
with open(os.path.join(tmp, "build-packages"), "w") as f:
    f.write("\n".join(build_pkgs) + "\n")
with open(os.path.join(tmp, "runtime-packages"), "w") as f:
    f.write("\n".join(run_pkgs) + "\n")

# Build-stage COPY sources exist, and they cover every source folder CMakeLists.txt reads.
copied = set()
for stage in stages:
    for args in stage["copy"]:
        if any(a.startswith("--from") for a in args):
            continue
        for src in [a for a in args if not a.startswith("--")][:-1]:
            check(os.path.exists(os.path.join(root, src)), f"Dockerfile COPY source exists: {src}")
            if stage is build:
                copied.add(src.rstrip("/").split("/")[0])
cml = open(os.path.join(root, "CMakeLists.txt")).read()
# A folder CMake reads only under if(EXISTS ...) is optional (fuzz/: the stage leaves it out), but
# an unguarded add_subdirectory is not: the build stage failed on one that check missed once.
guarded = set(re.findall(r"if\(EXISTS \$\{CMAKE_SOURCE_DIR\}/([A-Za-z0-9_.-]+)/", cml))
needed = set(re.findall(r"\$\{CMAKE_SOURCE_DIR\}/([A-Za-z0-9_.-]+)/", cml)) - guarded | \
    set(re.findall(r"^\s*add_subdirectory\(([A-Za-z0-9_.-]+)\)", cml, re.M)) - guarded | \
    set(re.findall(r"add_executable\(llmotlp ([a-z]+)/", cml)) | {"CMakeLists.txt"}
needed -= {"tests", "bench"}  # only test and benchmark targets read these
check(needed <= copied, "Dockerfile build stage copies every folder the llmotlp target is built from",
      f"missing {sorted(needed - copied)}")
di = open(os.path.join(root, ".dockerignore")).read().split()
check("pricing/*.db" in di and ".git" in di and any(p.startswith("build") for p in di),
      ".dockerignore excludes build trees, .git and a local pricing DB")

uid = (run["user"] or "").split(":")[0]
check(uid.isdigit() and uid != "0", "Dockerfile runs as a numeric non-root user", str(run["user"]))
db = run["env"].get("LLMOTLP_PRICING_DB", "")
check(db == "/var/lib/llmotlp/llmotlp.db", "Dockerfile sets LLMOTLP_PRICING_DB=/var/lib/llmotlp/llmotlp.db", db)
check(any(a[-1] == db for a in run["copy"]) and any(f"--db /out/{os.path.basename(db)}" in r for r in build["run"]),
      "Dockerfile seeds the pricing DB at build time and copies it to LLMOTLP_PRICING_DB")
check(any("--chown=" in " ".join(a) and a[-1] == db for a in run["copy"]),
      "Dockerfile gives the pricing DB to the runtime user")
check(set(run["expose"]) == {4317, 4318, 8888, 8889, 13133}, "Dockerfile EXPOSE 4317 4318 8888 8889 13133",
      str(run["expose"]))
check((run["healthcheck"] or "").upper() == "NONE", "Dockerfile HEALTHCHECK NONE")
check(run["entrypoint"] == '["llmotlp"]' and run["cmd"] == '["--config", "/etc/llmotlp/config.yaml"]',
      "Dockerfile ENTRYPOINT llmotlp, CMD --config /etc/llmotlp/config.yaml")
check(any(a[-1] == "/etc/llmotlp/config.yaml" and a[-2] == "config.yaml" for a in run["copy"]),
      "Dockerfile puts config.yaml at /etc/llmotlp/config.yaml")
seed_copy = [a for a in run["copy"] if a[-2] == "pricing/prices.csv"]
check(bool(seed_copy), "Dockerfile keeps pricing/prices.csv in the image")
seed_path = seed_copy[0][-1] if seed_copy else ""

# The env variables config.yaml reads; a variable set anywhere below must be one of them.
cfg_text = open(os.path.join(root, "config.yaml")).read()
cfg_vars = set(re.findall(r"\$\{(?:env:)?([A-Za-z_][A-Za-z0-9_]*)", cfg_text))
# The ports of the default config's listeners (host:port defaults).
cfg_ports = {int(p) for p in re.findall(r":-[A-Za-z0-9.]+:(\d+)\}", cfg_text)}
check(cfg_ports == {4317, 4318, 8888, 8889, 13133}, "config.yaml listens on 4317 4318 8888 8889 13133",
      str(sorted(cfg_ports)))
# Loopback by default, as the Collector; the image, Compose and Kubernetes open every interface.
listen_vars = {v: p for v, p in re.findall(r"\$\{env:([A-Z_]+):-localhost:(\d+)\}", cfg_text)}
check(set(int(p) for p in listen_vars.values()) == {4317, 4318, 8888, 8889, 13133},
      "config.yaml listens on localhost unless told otherwise", str(listen_vars))
docker_text = open(os.path.join(root, "Dockerfile")).read()
for v, p in listen_vars.items():
    check(f"{v}=0.0.0.0:{p}" in docker_text, f"Dockerfile sets {v}=0.0.0.0:{p}")

def host_of(endpoint):
    e = re.sub(r"^[a-z]+://", "", str(endpoint))
    return e.split("/")[0].rsplit(":", 1)[0]

# -- Compose --
compose = load("deploy/docker-compose.yaml")
services = compose.get("services", {})
for want in ("llmotlp", "otel-collector", "jaeger", "prometheus", "grafana"):
    check(want in services, f"compose: service {want}")
for name, svc in services.items():
    img = svc.get("image", "")
    tag = img.rsplit(":", 1)[1] if ":" in img.split("/")[-1] else ""
    check(tag and tag != "latest", f"compose: {name} image pinned ({img})")
    for v in svc.get("volumes", []):
        src = v.split(":")[0] if isinstance(v, str) else v.get("source", "")
        if src.startswith((".", "/")):
            check(os.path.exists(os.path.normpath(os.path.join(root, "deploy", src))),
                  f"compose: {name} mounts an existing path {src}")
        else:
            check(src in (compose.get("volumes") or {}), f"compose: {name} volume {src} is declared")
    for d in svc.get("depends_on", []):
        check(d in services, f"compose: {name} depends on a defined service {d}")
llm = services.get("llmotlp", {})
ctx = os.path.normpath(os.path.join(root, "deploy", llm.get("build", {}).get("context", "")))
check(os.path.isfile(os.path.join(ctx, llm.get("build", {}).get("dockerfile", "Dockerfile"))) and ctx == root,
      "compose: llmotlp builds the repo's Dockerfile")
env = llm.get("environment", {})
if isinstance(env, list):
    env = dict(e.split("=", 1) for e in env)
check(set(env) <= cfg_vars, "compose: every llmotlp variable is one config.yaml reads",
      f"unknown {sorted(set(env) - cfg_vars)}")
check(env.get("LLMOTLP_EXPORTERS") == "[otlp]" and host_of(env.get("OTLP_ENDPOINT", "")) in services,
      "compose: llmotlp exports OTLP to a compose service", str(env))
with open(os.path.join(tmp, "compose.env"), "w") as f:
    for k, v in env.items():
        f.write(f"{k}={v}\n")
# docker-compose 1.29 (Debian 12's) refuses a top-level name:; the project name comes from .env,
# which it and Compose v2 both read from the compose file's folder.
check("name" not in compose, "compose: no top-level name: (docker-compose 1.29 refuses it)")
dotenv = os.path.join(root, "deploy", ".env")
dotenv_vars = dict(l.strip().split("=", 1) for l in open(dotenv) if "=" in l and not l.startswith("#")) \
    if os.path.exists(dotenv) else {}
check(dotenv_vars.get("COMPOSE_PROJECT_NAME") == "llmotlp", "compose: deploy/.env names the project llmotlp")
for name, svc in services.items():
    for p in svc.get("ports", []):
        check(str(p).startswith("127.0.0.1:"), f"compose: {name} publishes {p} on loopback only")
demo = services.get("demo")
if demo:
    check(demo.get("profiles") == ["demo"] and demo.get("image") == llm.get("image") and
          demo.get("command", [None])[0] == "gen",
          "compose: demo runs `llmotlp gen` from llmotlp's image, only with --profile demo")
published = {int(str(p).split(":")[-1].split("/")[0]) for p in llm.get("ports", [])}
check({4317, 4318} <= published and published <= set(run["expose"]),
      "compose: llmotlp publishes 4317 and 4318, ports the image exposes", str(sorted(published)))
vol_targets = [v.split(":")[1] for v in llm.get("volumes", []) if isinstance(v, str)]
check(os.path.dirname(db) in vol_targets and not llm.get("volumes", [""])[0].startswith((".", "/")),
      "compose: the pricing DB's folder is a named volume", str(vol_targets))
grace = llm.get("stop_grace_period", "10s")
check(int(re.sub(r"s$", "", str(grace))) > 10, "compose: llmotlp's stop_grace_period exceeds the 10 s shutdown deadline",
      str(grace))
col = services.get("otel-collector", {})
col_mount = [v for v in col.get("volumes", []) if "otel-collector/config.yaml" in v]
cmd = " ".join(col.get("command", []))
check(bool(col_mount) and col_mount[0].split(":")[1] in cmd,
      "compose: the collector runs the mounted deploy/otel-collector/config.yaml")
colcfg = load("deploy/otel-collector/config.yaml")
for name, exp in (colcfg.get("exporters") or {}).items():
    if exp and "endpoint" in exp:
        check(host_of(exp["endpoint"]) in services, f"collector: exporter {name} sends to a compose service",
              exp["endpoint"])
check(services.get("jaeger", {}).get("environment", {}).get("COLLECTOR_OTLP_ENABLED") == "true",
      "compose: Jaeger takes OTLP")
prom_mounts = [v for v in services.get("prometheus", {}).get("volumes", []) if "prometheus.yml" in v]
check(bool(prom_mounts) and prom_mounts[0].split(":")[1] == "/etc/prometheus/prometheus.yml",
      "compose: Prometheus reads deploy/prometheus/prometheus.yml")
prom = load("deploy/prometheus/prometheus.yml")
for job in prom.get("scrape_configs", []):
    for sc in job.get("static_configs", []):
        for t in sc.get("targets", []):
            h, p = t.rsplit(":", 1)
            check(h in services and (h != "llmotlp" or int(p) in cfg_ports),
                  f"prometheus: job {job['job_name']} scrapes a compose service port ({t})")
gf = services.get("grafana", {})
gf_env = gf.get("environment", {})
check(gf_env.get("GF_AUTH_ANONYMOUS_ENABLED") == "true" and gf_env.get("GF_AUTH_ANONYMOUS_ORG_ROLE") == "Viewer",
      "compose: Grafana lets anonymous viewers in")
gf_mounts = {v.split(":")[0]: v.split(":")[1] for v in gf.get("volumes", [])}
dash_dir = load("deploy/grafana/provisioning/dashboards/dashboards.yaml")["providers"][0]["options"]["path"]
check(gf_mounts.get("./grafana/provisioning") == "/etc/grafana/provisioning" and
      any(t.startswith(dash_dir + "/") and s.endswith(".json") for s, t in gf_mounts.items()),
      "compose: Grafana gets the provisioning and the dashboard where the provider looks", str(gf_mounts))
home = gf_env.get("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH")
check(home is None or home in gf_mounts.values(), "compose: Grafana's home dashboard is a mounted file")
for ds in load("deploy/grafana/provisioning/datasources/datasources.yaml")["datasources"]:
    check(host_of(ds["url"]) in services, f"grafana: data source {ds['name']} points at a compose service",
          ds["url"])

# -- Kubernetes (rendered) --
docs = [d for d in yaml.safe_load_all(open(os.path.join(tmp, "k8s.yaml"))) if d]
by = {}
for d in docs:
    by.setdefault(d["kind"], []).append(d)
for kind, n in (("Deployment", 1), ("Service", 1), ("PodDisruptionBudget", 1), ("ConfigMap", 2)):
    check(len(by.get(kind, [])) == n, f"kubernetes: {n} {kind}")
dep = (by.get("Deployment") or [{}])[0]
pod = dep.get("spec", {}).get("template", {}).get("spec", {})
labels = dep.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})
cms = {c["metadata"]["name"]: c for c in by.get("ConfigMap", [])}
ctr = next((c for c in pod.get("containers", []) if c.get("name") == "llmotlp"), {})
def sel_ok(sel):
    return bool(sel) and all(labels.get(k) == v for k, v in sel.items())
check(sel_ok(dep.get("spec", {}).get("selector", {}).get("matchLabels")), "kubernetes: the Deployment selects its pods")
psc = pod.get("securityContext", {})
check(psc.get("runAsNonRoot") is True and str(psc.get("runAsUser")) == uid,
      "kubernetes: pods run as non-root, as the image's user", f"{psc} vs USER {uid}")
for c in pod.get("initContainers", []) + pod.get("containers", []):
    sc = c.get("securityContext", {})
    check(sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False,
          f"kubernetes: {c['name']} has a read-only root filesystem and no privilege escalation")
    r = c.get("resources", {})
    check(all(r.get(k, {}).get(x) for k in ("requests", "limits") for x in ("cpu", "memory")),
          f"kubernetes: {c['name']} has cpu/memory requests and limits")
    vols = {v["name"]: v for v in pod.get("volumes", [])}
    for vm in c.get("volumeMounts", []):
        check(vm["name"] in vols, f"kubernetes: {c['name']} mount {vm['mountPath']} has a volume")
    check(any(vm["mountPath"] == os.path.dirname(db) and "emptyDir" in vols.get(vm["name"], {}) or
              "persistentVolumeClaim" in vols.get(vm["name"], {})
              for vm in c.get("volumeMounts", []) if vm["mountPath"] == os.path.dirname(db)),
          f"kubernetes: {c['name']} has the pricing DB folder on a writable volume")
ports = {p["name"]: p["containerPort"] for p in ctr.get("ports", [])}
for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
    pr = ctr.get(probe, {}).get("httpGet", {})
    port = ports.get(pr.get("port"), pr.get("port"))
    check(port == 13133 and pr.get("path") == "/", f"kubernetes: {probe} GETs / on the health_check port 13133")
prestop = ctr.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
sleep = int(prestop[1]) if len(prestop) == 2 and prestop[0] == "sleep" else 0
tgps = pod.get("terminationGracePeriodSeconds", 30)
check(tgps > 10 + sleep, "kubernetes: terminationGracePeriodSeconds exceeds preStop + the 10 s shutdown deadline",
      f"{tgps} vs {sleep} + 10")
env_cm = [e["configMapRef"]["name"] for e in ctr.get("envFrom", []) if "configMapRef" in e]
check(len(env_cm) == 1 and env_cm[0] in cms, "kubernetes: envFrom names a rendered ConfigMap", str(env_cm))
k8s_env = dict(cms.get(env_cm[0], {}).get("data", {})) if env_cm else {}
k8s_env.update({e["name"]: e.get("value", "") for e in ctr.get("env", [])})
check(set(k8s_env) <= cfg_vars, "kubernetes: every llmotlp variable is one config.yaml reads",
      f"unknown {sorted(set(k8s_env) - cfg_vars)}")
with open(os.path.join(tmp, "k8s.env"), "w") as f:
    for k, v in k8s_env.items():
        f.write(f"{k}={v}\n")
args = ctr.get("args", [])
configs = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "--config"]
check(configs[:1] == ["/etc/llmotlp/config.yaml"], "kubernetes: the image's config comes first", str(configs))
overlay_written = False
for path in configs[1:]:
    vm = next((vm for vm in ctr.get("volumeMounts", []) if path.startswith(vm["mountPath"] + "/")), None)
    vol = next((v for v in pod.get("volumes", []) if vm and v["name"] == vm["name"]), {})
    cm = cms.get(vol.get("configMap", {}).get("name"), {})
    key = path[len(vm["mountPath"]) + 1:] if vm else ""
    check(key in cm.get("data", {}), f"kubernetes: --config {path} is a key of a rendered ConfigMap")
    if key in cm.get("data", {}):
        with open(os.path.join(tmp, "k8s-overlay.yaml"), "w") as f:
            f.write(cm["data"][key])
        overlay_written = True
if not overlay_written:
    open(os.path.join(tmp, "k8s-overlay.yaml"), "w").write("{}\n")
inits = pod.get("initContainers", [])
cmdline = inits[0].get("command", []) if inits else []
check(len(cmdline) == 3 and cmdline[:2] == ["sh", "-c"] and seed_path in cmdline[2],
      "kubernetes: an init container seeds the pricing DB from the image's prices.csv")
with open(os.path.join(tmp, "initcmd"), "w") as f:
    f.write((cmdline[2] if len(cmdline) == 3 else "false").replace(seed_path, os.path.join(root, "pricing/prices.csv")))
svc = (by.get("Service") or [{}])[0]
check(sel_ok(svc.get("spec", {}).get("selector")), "kubernetes: the Service selects the pods")
sports = {p["port"]: p for p in svc.get("spec", {}).get("ports", [])}
for p in svc.get("spec", {}).get("ports", []):
    tp = p.get("targetPort", p["port"])
    check(ports.get(tp, tp) in ports.values(), f"kubernetes: Service port {p['port']} reaches a container port")
check({4317, 4318, 8889} <= set(sports), "kubernetes: the Service exposes 4317, 4318 and 8889")
ann = svc.get("metadata", {}).get("annotations", {})
check(ann.get("prometheus.io/scrape") == "true" and int(ann.get("prometheus.io/port", 0)) in sports,
      "kubernetes: the Service announces a scrape port it has")
pdb = (by.get("PodDisruptionBudget") or [{}])[0]
check(sel_ok(pdb.get("spec", {}).get("selector", {}).get("matchLabels")), "kubernetes: the PodDisruptionBudget selects the pods")
EOF
grep -E '^(ok|FAIL):' "$TMP/py.out"
passed=$((passed + $(grep -c '^ok:' "$TMP/py.out")))
failed=$((failed + $(grep -c '^FAIL:' "$TMP/py.out")))
if grep -vqE '^(ok|FAIL):' "$TMP/py.out"; then
    bad "structure checks crashed:"; grep -vE '^(ok|FAIL):' "$TMP/py.out" | tail -5
fi

# ---- llmotlp validates each config with the environment it gets ---------------------------------
# validate NAME ENVFILE CONFIG... : a clean environment holding only ENVFILE's variables.
validate() {
    local name=$1 envfile=$2; shift 2
    local envs=() args=()
    [ -f "$envfile" ] && while IFS= read -r l; do [ -n "$l" ] && envs+=("$l"); done <"$envfile"
    for c in "$@"; do args+=(--config "$c"); done
    if env -i PATH="$PATH" "${envs[@]}" "$BIN" validate "${args[@]}" >"$TMP/out" 2>&1; then
        ok "llmotlp validate: $name"
        return 0
    fi
    bad "llmotlp validate: $name: $(grep -v '^  ' "$TMP/out" | tail -2 | tr '\n' ' ')"
    return 1
}
if validate "compose (config.yaml with the compose environment)" "$TMP/compose.env" config.yaml; then
    grep -q 'traces/sampled: .* -> \[otlp\]' "$TMP/out" &&
        ok "compose: kept traces leave through the otlp exporter" ||
        bad "compose: traces/sampled does not export to otlp: $(grep traces/sampled "$TMP/out")"
fi
if validate "kubernetes (image config + overlay, with the ConfigMap environment)" "$TMP/k8s.env" \
        config.yaml "$TMP/k8s-overlay.yaml"; then
    grep -q 'traces/sampled: .* -> \[otlp\]' "$TMP/out" &&
        ok "kubernetes: kept traces leave through the otlp exporter" ||
        bad "kubernetes: traces/sampled does not export to otlp"
fi
validate "deploy/otel-collector/config.yaml (llmotlp has the same components)" /dev/null \
    deploy/otel-collector/config.yaml

# ---- the pricing DB: seeded as the image and the init container do ------------------------------
mkdir -p "$TMP/db" "$TMP/bin"
ln -s "$BIN" "$TMP/bin/llmotlp"
if "$BIN" pricing --db "$TMP/db/image.db" init --seed pricing/prices.csv >/dev/null 2>"$TMP/err" &&
    [ "$(ls "$TMP/db")" = "image.db" ]; then
    ok "pricing DB seeds into one file (nothing beside it to copy)"
else
    bad "pricing DB seeding: $(cat "$TMP/err") $(ls "$TMP/db")"
fi
initdb=$TMP/db/init.db
run_init() { env -i PATH="$TMP/bin:$PATH" LLMOTLP_PRICING_DB="$initdb" sh -c "$(cat "$TMP/initcmd")"; }
if run_init >/dev/null 2>"$TMP/err" && [ -s "$initdb" ]; then
    n=$(LLMOTLP_PRICING_DB=$initdb "$BIN" pricing list --json 2>/dev/null | grep -o '"model"' | wc -l)
    [ "$n" -gt 0 ] && ok "init container command seeds the DB ($n prices in force)" ||
        bad "init container command left no prices"
    LLMOTLP_PRICING_DB=$initdb "$BIN" pricing set openai gpt-4o --input 3 --output 11 >/dev/null 2>&1
    before=$(LLMOTLP_PRICING_DB=$initdb "$BIN" pricing export 2>/dev/null | md5sum)
    run_init >/dev/null 2>"$TMP/err" &&
        [ "$before" = "$(LLMOTLP_PRICING_DB=$initdb "$BIN" pricing export 2>/dev/null | md5sum)" ] &&
        ok "init container command leaves an existing DB (and its price changes) alone" ||
        bad "init container command on an existing DB: $(cat "$TMP/err")"
else
    bad "init container command: $(cat "$TMP/err")"
fi

# ---- Debian packages ----------------------------------------------------------------------------
for p in $(cat "$TMP/build-packages" "$TMP/runtime-packages"); do
    if apt-cache show --no-all-versions "$p" >/dev/null 2>&1; then
        ok "Debian package exists: $p ($(apt-cache policy "$p" | awk '/Candidate:/{print $2}'))"
    else
        bad "Debian package not found: $p (apt-get update first?)"
    fi
done
# Every shared library the binary loads, mapped to the package that owns it, must be a runtime
# package or in the closure of their dependencies (what apt-get install brings).
# shellcheck disable=SC2046
apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
    --no-replaces --no-enhances $(cat "$TMP/runtime-packages") 2>/dev/null |
    grep -v '^ ' | grep -v '^<' | sort -u >"$TMP/closure"
owner() {  # dpkg records paths as installed, before or after the /usr merge
    local f=$1 r c o
    r=$(readlink -f "$f")
    for c in "$f" "/usr$f" "$r" "/usr$r" "${r#/usr}"; do
        o=$(dpkg -S "$c" 2>/dev/null | head -1) || continue
        [ -n "$o" ] && { o=${o%%: /*}; echo "${o%%:*}"; return; }
    done
}
libs=0
nmissing=0
missing=""
while read -r lib path; do
    [ -z "$path" ] && continue
    libs=$((libs + 1))
    pkg=$(owner "$path")
    if [ -z "$pkg" ] || ! grep -qx "$pkg" "$TMP/closure"; then
        nmissing=$((nmissing + 1))
        [ "$nmissing" -le 8 ] && missing="$missing $lib(${pkg:-no package})"
    fi
done < <(ldd "$BIN" | awk '/=>/ && $3 ~ /^\// {print $1, $3}')
if ldd "$BIN" | grep -q 'not found'; then bad "ldd: libraries not found on this machine"; fi
[ "$nmissing" -eq 0 ] && ok "all $libs shared libraries of llmotlp come with the runtime packages" ||
    bad "$nmissing of $libs shared libraries come with no runtime package:$missing"

# ---- Kubernetes, two tiers: the router's resolver names the samplers' headless Service ----------
if kubectl kustomize deploy/kubernetes-two-tier >"$TMP/k8s2.yaml" 2>"$TMP/err"; then
    ok "kubectl kustomize deploy/kubernetes-two-tier renders ($(grep -c '^kind:' "$TMP/k8s2.yaml") objects)"
else
    bad "kubectl kustomize deploy/kubernetes-two-tier: $(head -3 "$TMP/err")"
    : >"$TMP/k8s2.yaml"
fi
"$BIN" validate --config deploy/kubernetes-two-tier/router-config.yaml >"$TMP/err" 2>&1 &&
    ok "the router's config validates" || bad "router config: $(head -3 "$TMP/err")"
"$PY" - "$TMP/k8s2.yaml" deploy/kubernetes-two-tier/router-config.yaml >"$TMP/py2.out" 2>&1 <<'EOF'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
cfg = yaml.safe_load(open(sys.argv[2]))
def ok(m): print("ok:", m)
def bad(m): print("FAIL:", m)
svcs = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Service"}
deps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
for eid, e in cfg["exporters"].items():
    dns = e.get("resolver", {}).get("dns")
    if not dns:
        bad(f"{eid}: no resolver.dns"); continue
    s = svcs.get(dns["hostname"])
    if not s:
        bad(f"{eid}: resolver.dns.hostname {dns['hostname']} is no Service"); continue
    (ok if s["spec"].get("clusterIP") == "None" else bad)(f"{eid}: {dns['hostname']} is headless")
    ports = [p["port"] for p in s["spec"]["ports"]]
    (ok if int(dns["port"]) in ports else bad)(f"{eid}: port {dns['port']} served by {dns['hostname']}")
    sel = s["spec"]["selector"]
    pods = [n for n, d in deps.items()
            if all(d["spec"]["template"]["metadata"]["labels"].get(k) == v for k, v in sel.items())]
    (ok if pods == ["llmotlp"] else bad)(f"{eid}: {dns['hostname']} selects the sampler pods only ({pods})")
r = deps["llmotlp-router"]["spec"]["template"]["spec"]
args = r["containers"][0]["args"]
mounts = {m["name"]: m["mountPath"] for m in r["containers"][0]["volumeMounts"]}
vol = [v for v in r["volumes"] if v.get("configMap")][0]
cm = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"] == vol["configMap"]["name"]]
(ok if cm and "config.yaml" in cm[0]["data"] else bad)("the router's ConfigMap holds config.yaml")
(ok if args[-1] == mounts[vol["name"]] + "/config.yaml" else bad)(f"router --config {args[-1]} is the mounted ConfigMap")
EOF
while IFS= read -r l; do
    case $l in
    ok:*) ok "two tiers: ${l#ok: }" ;;
    FAIL:*) bad "two tiers: ${l#FAIL: }" ;;
    *) bad "two tiers check: $l" ;;
    esac
done <"$TMP/py2.out"

finish
