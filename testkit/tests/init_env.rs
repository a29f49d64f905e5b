//! `init_env.sh`, the GPU testbed bootstrap, run against stub commands: no GPU, no network, no
//! sudo, and nothing written outside temporary folders (HOME, TMPDIR, the venv, the Hugging
//! Face cache and `LLM_ENERGY_SYSROOT` — the prefix of /etc, /run and /sys — all point into
//! one). PATH is a folder of stubs in front of a folder of links to a few basic tools, so the
//! machine's own nvidia-smi, python3, cargo, curl, systemctl or sudo are never reached.

#![allow(clippy::unwrap_used)] // a panic is a failed test

use std::collections::BTreeSet;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

const MODELS: [&str; 5] = [
    "meta-llama/Llama-2-7b-chat-hf",
    "meta-llama/Meta-Llama-3-8B-Instruct",
    "meta-llama/Llama-3.1-8B-Instruct",
    "meta-llama/Llama-3.2-1B-Instruct",
    "meta-llama/Llama-3.2-3B-Instruct",
];
const SECRET: &str = "hf_secret_never_printed_1234";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// A folder under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> Self {
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let p = std::env::temp_dir().join(format!(
            "init-env-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        // INIT_ENV_TEST_KEEP=1 keeps the sandboxes (stubs, stub.log, HOME, sysroot) to look at.
        if std::env::var_os("INIT_ENV_TEST_KEEP").is_some_and(|v| v == "1") {
            eprintln!("kept {}", self.0.display());
            return;
        }
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn write_exec(path: &Path, text: &str) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// Every file and folder under `dir`, relative to it.
fn tree(dir: &Path) -> BTreeSet<PathBuf> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd.flatten() {
            let p = e.path();
            out.insert(p.strip_prefix(base).unwrap().to_path_buf());
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                walk(base, &p, out);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// The sandbox one test runs the script in.
struct Sandbox {
    tmp: TempDir,
    bash: PathBuf,
}

impl Sandbox {
    fn new(tag: &str) -> Self {
        let tmp = TempDir::new(tag);
        let bash = which("bash").expect("bash");
        let s = Sandbox { tmp, bash };
        for d in ["home", "tmp", "sysroot", "state", "tools"] {
            fs::create_dir_all(s.p(d)).unwrap();
        }
        // The basic tools the script may use, and nothing else.
        for t in [
            "bash", "sh", "env", "cat", "mkdir", "rm", "mv", "cp", "ln", "chmod", "chgrp", "stat", "find",
            "grep", "sed", "awk", "tr", "cut", "head", "tail", "sort", "uniq", "wc", "id", "dirname",
            "basename", "date", "sleep", "mktemp", "touch", "readlink", "getent", "od", "ls", "cmp",
            "install", "nohup", "tee", "true", "false", "seq", "printf",
        ] {
            if let Some(real) = which(t) {
                let _ = std::os::unix::fs::symlink(real, s.p("tools").join(t));
            }
        }
        s
    }

    fn p(&self, rel: &str) -> PathBuf {
        self.tmp.0.join(rel)
    }

    fn log(&self) -> String {
        fs::read_to_string(self.p("stub.log")).unwrap_or_default()
    }

    fn clear_log(&self) {
        let _ = fs::remove_file(self.p("stub.log"));
    }

    fn stub(&self, rel: &str, body: &str) {
        let text = format!(
            "#!{bash}\nprintf '%s\\n' \"{name} $*\" >> '{log}'\nSTATE='{state}'\nTPL='{tpl}'\n{body}\n",
            bash = self.bash.display(),
            name = Path::new(rel).file_name().unwrap().to_string_lossy(),
            log = self.p("stub.log").display(),
            state = self.p("state").display(),
            tpl = self.p("templates").display(),
        );
        write_exec(&self.p(rel), &text);
    }

    /// Stubs of everything the script calls that a test machine lacks or must not run.
    fn install_stubs(&self) {
        self.stub("stubs/nvidia-smi", "echo '0, NVIDIA H200, 580.159.04, 78.54 W'");
        self.stub(
            "stubs/python3",
            r#"if [ "$1" = -m ] && [ "$2" = venv ]; then
  mkdir -p "$3/bin" "$3/lib/python3.12/site-packages"
  cp "$TPL/pip" "$3/bin/pip"; cp "$TPL/python" "$3/bin/python"; exit 0
fi
if [ "$1" = -c ]; then echo '0,NVIDIA H200,3987352'; exit 0; fi
exit 2"#,
        );
        self.stub("templates/python", "exit 0");
        self.stub(
            "templates/pip",
            r#"venv=$(cd "$(dirname "$0")/.." && pwd)
if [ "$1" = install ]; then
  for a in "$@"; do case "$a" in vllm==*) mkdir -p "$venv/lib/python3.12/site-packages/vllm-${a#vllm==}.dist-info" ;; esac; done
  cp "$TPL/hf" "$venv/bin/hf"
fi"#,
        );
        self.stub(
            "templates/hf",
            r#"[ "$1" = download ] || exit 2
repo=$2; rev=main
while [ $# -gt 0 ]; do [ "$1" = --revision ] && rev=$2; shift; done
hub=${HF_HUB_CACHE:-${HF_HOME:-$HOME/.cache/huggingface}/hub}
d="$hub/models--${repo//\//--}"; sha=0123456789abcdef0123456789abcdef01234567
mkdir -p "$d/refs" "$d/snapshots/$sha" "$d/blobs"
echo "$sha" > "$d/refs/$rev"
echo '{}' > "$d/snapshots/$sha/config.json"; echo x > "$d/snapshots/$sha/model.safetensors""#,
        );
        self.stub("stubs/dpkg", r#"[ -e "$STATE/packages" ]"#);
        self.stub("stubs/apt-get", r#"[ "$1" = update ] || touch "$STATE/packages""#);
        self.stub("stubs/sudo", r#"exec "$@""#);
        self.stub(
            "stubs/cargo",
            r#"[ "$1" = install ] || exit 2
while [ $# -gt 0 ]; do [ "$1" = --root ] && r=$2; shift; done
mkdir -p "$r/bin"; cp "$TPL/collect" "$r/bin/collect"
# newer than any source an engineer may be editing meanwhile
touch -d 2100-01-01 "$r/bin/collect""#,
        );
        self.stub(
            "templates/collect",
            r#"[ "$1" = agent ] || exit 2
[ "$2" = --help ] && exit 0
sleep 60 & child=$!
trap 'kill $child; exit 0' TERM
wait $child"#,
        );
        self.stub("stubs/curl", r#"echo '{"status":"ok"}'"#);
        self.stub(
            "stubs/systemctl",
            r#"verb=""
for a in "$@"; do case "$a" in --*) ;; *) verb=$a; break ;; esac; done
case "$verb" in
  is-enabled) [ -e "$STATE/enabled" ] ;;
  is-active) [ -e "$STATE/active" ] ;;
  enable) touch "$STATE/enabled" ;;
  start|restart) touch "$STATE/active" ;;
  *) exit 0 ;;
esac"#,
        );
        for t in ["groupadd", "usermod", "udevadm"] {
            self.stub(&format!("stubs/{t}"), "exit 0");
        }
    }

    /// Systemd "runs" in the sysroot (the script then writes a unit there).
    fn with_systemd(&self) {
        fs::create_dir_all(self.p("sysroot/run/systemd/system")).unwrap();
    }

    /// Two root-only RAPL domains under the sysroot.
    fn with_rapl(&self) {
        for d in ["intel-rapl:0", "intel-rapl:0:0"] {
            let dir = self.p(&format!("sysroot/sys/class/powercap/{d}"));
            fs::create_dir_all(&dir).unwrap();
            fs::write(dir.join("energy_uj"), "123456\n").unwrap();
            fs::write(dir.join("name"), "package-0\n").unwrap();
            // 0o000: not even its owner (this test, when not root) may read it, as root-only
            // counters are to everyone but root
            fs::set_permissions(dir.join("energy_uj"), fs::Permissions::from_mode(0o000)).unwrap();
        }
    }

    fn run(&self, path_dirs: &[&str], args: &[&str]) -> Output {
        let path = std::env::join_paths(path_dirs.iter().map(|d| self.p(d))).unwrap();
        Command::new(root().join("init_env.sh"))
            .args(args)
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.p("home"))
            .env("TMPDIR", self.p("tmp"))
            .env("LLM_ENERGY_SYSROOT", self.p("sysroot"))
            .env("LLM_ENERGY_AGENT_WAIT_S", "5")
            .env("HF_TOKEN", SECRET)
            .env("LANG", "C")
            .current_dir(self.p("tmp"))
            .output()
            .expect("run init_env.sh")
    }

    fn run_stubbed(&self, args: &[&str]) -> Output {
        self.run(&["stubs", "tools"], args)
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Asserts that `needles` occur in `hay` in this order (each after the end of the one before).
fn assert_in_order(hay: &str, needles: &[String]) {
    let mut at = 0;
    for n in needles {
        match hay[at..].find(n.as_str()) {
            Some(i) => at += i + n.len(),
            None => panic!("`{n}` not found (in order) in:\n{hay}"),
        }
    }
}

fn group_exists() -> bool {
    Command::new("getent")
        .args(["group", "llm-energy"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn uid() -> String {
    let o = Command::new("id").arg("-u").output().expect("id -u");
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn shellcheck_passes_on_both_scripts() {
    let Some(shellcheck) = which("shellcheck") else {
        let msg = "shellcheck is not installed (sudo apt-get install -y shellcheck; scripts/test-env.sh installs it)";
        assert!(!testkit::e2e_required(), "LLM_ENERGY_REQUIRE_E2E=1 but {msg}");
        eprintln!("SKIPPED: {msg}");
        return;
    };
    let o = Command::new(shellcheck)
        .args(["-S", "warning", "init_env.sh", "scripts/test-env.sh"])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(o.status.success(), "shellcheck found problems:\n{}", text(&o));
}

#[test]
fn help_explains_every_option() {
    let s = Sandbox::new("help");
    let o = s.run(&["tools"], &["--help"]);
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    for opt in [
        "--check",
        "--dry-run",
        "--config",
        "--rapl",
        "udev",
        "capability",
        "skip",
        "--listen",
        "--out",
    ] {
        assert!(t.contains(opt), "--help does not mention {opt}:\n{t}");
    }
    let o = s.run(&["tools"], &["--rapl", "sometimes"]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("--rapl takes udev, capability or skip"),
        "{}",
        text(&o)
    );
}

#[test]
fn dry_run_prints_the_steps_in_order_and_changes_nothing() {
    let s = Sandbox::new("dry");
    s.install_stubs();
    s.with_systemd();
    s.with_rapl();
    let home_before = tree(&s.p("home"));
    let sysroot_before = tree(&s.p("sysroot"));

    let o = s.run_stubbed(&["--dry-run"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");

    // Every step, numbered in order.
    let steps: Vec<u32> = t
        .lines()
        .filter_map(|l| l.strip_prefix("[dry-run] step "))
        .map(|l| l.split(':').next().unwrap().parse().unwrap())
        .collect();
    assert!(
        steps.windows(2).all(|w| w[0] <= w[1]),
        "steps out of order: {steps:?}\n{t}"
    );
    assert_eq!(
        steps.iter().copied().collect::<BTreeSet<_>>(),
        (1..=11).collect::<BTreeSet<_>>(),
        "{t}"
    );
    let home = s.p("home");
    let venv = home.join(".local/share/llm-energy/venv");
    let mut expected: Vec<String> = vec![
        "step 1: check the NVIDIA driver : nvidia-smi".into(),
        "step 2: check NVML's total-energy counter".into(),
        "step 3: Debian packages :".into(),
        "apt-get install -y --no-install-recommends python3 python3-venv python3-dev".into(),
        format!(
            "step 4: Python virtual environment : python3 -m venv {}",
            venv.display()
        ),
        format!(
            "step 5: vLLM 0.11.0 and the Hugging Face client : {}/bin/pip install vllm==0.11.0",
            venv.display()
        ),
        format!(
            "step 6: build and install collect : cargo install --path {}/collect --locked --force --root {}/.local",
            root().display(),
            home.display()
        ),
    ];
    for m in MODELS {
        expected.push(format!(
            "step 7: weights of {m}@main : {}/bin/hf download {m} --revision main",
            venv.display()
        ));
    }
    if group_exists() {
        expected.push("step 8: group llm-energy : ok, already exists".into());
    } else {
        expected.push("step 8: create the group llm-energy : ".into());
        expected.push("groupadd --system llm-energy".into());
        expected.push("usermod -aG llm-energy".into());
    }
    expected.extend([
        "step 8: udev rule : write ".to_string(),
        "/etc/udev/rules.d/90-llm-energy-rapl.rules".into(),
        "step 9: agent token file : write ".into(),
        "step 10: systemd unit : write ".into(),
        format!(
            "agent --listen 127.0.0.1:8787 --config {}/experiments/llama_profiling.toml --token-file {}/.config/llm-energy/agent.token --out {}/.config/llm-energy/agent-data",
            root().display(),
            home.display(),
            home.display()
        ),
        "systemctl enable llm-energy-agent.service".into(),
        "systemctl start llm-energy-agent.service".into(),
        "step 11: the agent answers : curl -fsS http://127.0.0.1:8787/v1/health".into(),
        "[dry-run] done: nothing was changed".into(),
    ]);
    assert_in_order(&t, &expected);
    assert!(!t.contains(SECRET), "HF_TOKEN was printed:\n{t}");

    // Nothing that changes anything ran; only read-only probes did.
    let log = s.log();
    assert_not_invoked(
        &log,
        &[
            "pip ",
            "hf ",
            "cargo ",
            "apt-get ",
            "sudo ",
            "groupadd ",
            "usermod ",
            "udevadm ",
            "python3 ",
            "systemctl enable",
            "systemctl start",
            "systemctl restart",
            "systemctl daemon-reload",
        ],
        "the dry run",
    );
    assert_eq!(tree(&s.p("home")), home_before, "the dry run wrote into HOME");
    assert_eq!(
        tree(&s.p("sysroot")),
        sysroot_before,
        "the dry run wrote into the sysroot"
    );
    assert!(tree(&s.p("tmp")).is_empty(), "the dry run left temporary files");
}

#[test]
fn check_without_a_driver_fails_names_it_and_changes_nothing() {
    let s = Sandbox::new("check");
    // No stubs: no nvidia-smi, python3, curl, ... on PATH; the machine's own /sys is read.
    let path = s.p("tools");
    let o = Command::new(root().join("init_env.sh"))
        .arg("--check")
        .env_clear()
        .env("PATH", &path)
        .env("HOME", s.p("home"))
        .env("TMPDIR", s.p("tmp"))
        .env("LANG", "C")
        .current_dir(s.p("tmp"))
        .output()
        .unwrap();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    let driver = t
        .lines()
        .find(|l| l.trim_start().starts_with("NVIDIA driver"))
        .unwrap_or_else(|| panic!("no driver row:\n{t}"));
    assert!(
        driver.contains("MISSING") && driver.contains("nvidia-smi not found"),
        "{t}"
    );
    for item in [
        "NVML energy counter",
        "vLLM 0.11.0",
        "collect",
        "agent token file",
        "agent ",
    ] {
        let row = t
            .lines()
            .find(|l| l.trim_start().starts_with(item))
            .unwrap_or_else(|| panic!("no row {item}:\n{t}"));
        assert!(row.contains("MISSING"), "{item} should be missing:\n{t}");
    }
    for m in MODELS {
        assert!(t.contains(&format!("weights {m}")), "no row for {m}:\n{t}");
    }
    assert!(t.contains("not ready: NVIDIA driver"), "{t}");
    assert!(
        tree(&s.p("home")).is_empty(),
        "--check wrote into HOME: {:?}",
        tree(&s.p("home"))
    );
    assert!(tree(&s.p("tmp")).is_empty(), "--check left temporary files");
}

#[test]
fn a_real_run_calls_the_steps_in_order_and_a_second_run_changes_nothing() {
    let s = Sandbox::new("run");
    s.install_stubs();
    s.with_systemd();
    let home = s.p("home");

    let o = s.run_stubbed(&["--rapl", "skip"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}\n--- stubs:\n{}", s.log());
    assert!(!t.contains(SECRET), "HF_TOKEN was printed:\n{t}");

    let log = s.log();
    let mut expected: Vec<String> = vec![
        "nvidia-smi --query-gpu=index,name,driver_version,power.draw".into(),
        "python3 -c".into(),
        "apt-get install -y -qq --no-install-recommends python3 python3-venv".into(),
        "python3 -m venv".into(),
        "pip install --quiet vllm==0.11.0 huggingface_hub>=0.34".into(),
        format!(
            "cargo install --path {}/collect --locked --force --root {}/.local",
            root().display(),
            home.display()
        ),
    ];
    for m in MODELS {
        expected.push(format!("hf download {m} --revision main --exclude original/*"));
    }
    expected.extend([
        "systemctl daemon-reload".to_string(),
        "systemctl enable --quiet llm-energy-agent.service".into(),
        "systemctl start llm-energy-agent.service".into(),
        "curl -fsS --max-time 3 http://127.0.0.1:8787/v1/health".into(),
    ]);
    assert_in_order(&log, &expected);
    assert!(!log.contains(SECRET), "HF_TOKEN reached a command line:\n{log}");
    assert!(
        !log.lines()
            .any(|l| l.starts_with("groupadd") || l.starts_with("udevadm")),
        "--rapl skip touched RAPL:\n{log}"
    );

    // The unit runs the agent with the command line of collect agent, and holds no secret.
    let unit = fs::read_to_string(s.p("sysroot/etc/systemd/system/llm-energy-agent.service")).unwrap();
    let token_path = home.join(".config/llm-energy/agent.token");
    assert!(
        unit.contains(&format!(
            "ExecStart=\"{}/.local/bin/collect\" \"agent\" \"--listen\" \"127.0.0.1:8787\" \"--config\" \"{}/experiments/llama_profiling.toml\" \"--token-file\" \"{}\" \"--out\" \"{}/.config/llm-energy/agent-data\"",
            home.display(),
            root().display(),
            token_path.display(),
            home.display()
        )),
        "{unit}"
    );
    assert!(
        unit.contains("Environment=HF_HUB_OFFLINE=1") && unit.contains("[Install]"),
        "{unit}"
    );
    assert!(!unit.contains(SECRET), "{unit}");

    // The token: 32 random bytes as hex, mode 0600, never printed.
    let token = fs::read_to_string(&token_path).unwrap();
    assert_eq!(token.trim().len(), 64, "{token:?}");
    assert!(token.trim().bytes().all(|b| b.is_ascii_hexdigit()), "{token:?}");
    assert_eq!(
        fs::metadata(&token_path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(!t.contains(token.trim()), "the token was printed:\n{t}");
    assert!(t.contains("llm-energy testbed readiness"), "{t}");
    assert!(t.contains("1 GPU(s): 0, NVIDIA H200, 580.159.04"), "{t}");
    assert!(t.contains("GPU0 NVIDIA H200: 3987352 mJ"), "{t}");
    assert!(!t.contains("MISSING"), "{t}");

    // Run again: every step is already done, nothing is changed, the token is kept.
    s.clear_log();
    let o = s.run_stubbed(&["--rapl", "skip"]);
    let t2 = text(&o);
    assert!(o.status.success(), "{t2}");
    let log = s.log();
    assert_not_invoked(
        &log,
        &[
            "pip ",
            "hf ",
            "cargo ",
            "apt-get ",
            "python3 -m",
            "systemctl enable",
            "systemctl start",
            "systemctl restart",
            "systemctl daemon-reload",
        ],
        "the second run",
    );
    for n in [3, 4, 5, 6, 9, 10] {
        assert!(
            t2.contains(&format!("step {n}: "))
                && t2
                    .lines()
                    .any(|l| l.contains(&format!("step {n}: ")) && l.contains("ok, already")),
            "step {n} not skipped:\n{t2}"
        );
    }
    assert_eq!(
        t2.lines()
            .filter(|l| l.contains("step 7: ") && l.contains("ok, already"))
            .count(),
        MODELS.len(),
        "{t2}"
    );
    assert_eq!(
        fs::read_to_string(&token_path).unwrap(),
        token,
        "the token changed"
    );
    assert_eq!(
        fs::metadata(&token_path).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // --check agrees.
    let o = s.run_stubbed(&["--check", "--rapl", "skip"]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn without_systemd_the_agent_runs_under_nohup_with_a_pid_file() {
    let s = Sandbox::new("nohup");
    s.install_stubs();
    let o = s.run_stubbed(&["--rapl", "skip", "--out", "agent-out"]);
    let t = text(&o);
    let cfg = s.p("home/.config/llm-energy");
    let pid_text = fs::read_to_string(cfg.join("agent.pid")).unwrap_or_default();
    let pid = pid_text.trim().to_string();
    let kill = || {
        if !pid.is_empty() {
            let _ = Command::new("kill").arg(&pid).status();
        }
    };
    if !o.status.success() {
        kill();
        panic!("{t}");
    }
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
    let second = s.run_stubbed(&["--rapl", "skip", "--out", "agent-out"]);
    kill();
    assert!(
        cmdline.contains("collect agent --listen 127.0.0.1:8787"),
        "pid {pid}: {cmdline:?}\n{t}"
    );
    assert!(
        cmdline.contains(&format!("--out {}", s.p("tmp/agent-out").display())),
        "{cmdline}"
    );
    assert!(cfg.join("agent.log").is_file(), "{t}");
    let t2 = text(&second);
    assert!(second.status.success(), "{t2}");
    assert!(
        t2.contains(&format!(
            "step 10: start the agent : ok, already running (pid {pid}"
        )),
        "{t2}"
    );
}

#[test]
fn the_udev_rule_opens_rapl_to_the_group_only() {
    let s = Sandbox::new("udev");
    s.install_stubs();
    s.with_systemd();
    s.with_rapl();
    let o = s.run_stubbed(&[]);
    let t = text(&o);
    let rule_path = s.p("sysroot/etc/udev/rules.d/90-llm-energy-rapl.rules");
    let rule = fs::read_to_string(&rule_path).unwrap_or_else(|_| panic!("no udev rule:\n{t}"));
    assert!(
        rule.contains(r#"SUBSYSTEM=="powercap", KERNEL=="intel-rapl:*", RUN+="/bin/chgrp llm-energy /sys%p/energy_uj", RUN+="/bin/chmod g+r /sys%p/energy_uj""#),
        "{rule}"
    );
    assert_eq!(
        fs::metadata(&rule_path).unwrap().permissions().mode() & 0o777,
        0o644
    );
    assert!(
        t.contains("CVE-2020-8694"),
        "the trade-off is not explained:\n{t}"
    );
    let log = s.log();
    if !group_exists() {
        assert!(log.contains("groupadd --system llm-energy"), "{log}");
    }
    let unit = fs::read_to_string(s.p("sysroot/etc/systemd/system/llm-energy-agent.service")).unwrap();
    if uid() == "0" {
        // root reads the counters anyway; the rule is there for the group
        assert!(o.status.success(), "{t}");
        assert!(!unit.contains("User="), "{unit}");
    } else {
        assert!(log.contains("usermod -aG llm-energy"), "{log}");
        assert!(
            log.contains("udevadm trigger --action=change --subsystem-match=powercap"),
            "{log}"
        );
        assert!(unit.contains("SupplementaryGroups=llm-energy"), "{unit}");
    }

    // Again: the rule is kept as it is.
    s.clear_log();
    let o = s.run_stubbed(&[]);
    assert!(
        text(&o).contains("step 8: udev rule : ok, already installed"),
        "{}",
        text(&o)
    );
}

/// Fails naming the first of `verbs` that a line of the stubs' `log` starts with.
fn assert_not_invoked(log: &str, verbs: &[&str], what: &str) {
    for verb in verbs {
        assert!(
            !log.lines().any(|l| l.starts_with(verb)),
            "{what} invoked `{verb}`:\n{log}"
        );
    }
}
