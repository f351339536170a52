//! A one-node Slurm cluster on localhost for the tests: Debian's `munged`,
//! `slurmctld` and `slurmd` (package `slurm-wlm`, `munge`; `./setup.sh`
//! installs them), run as root from a generated `slurm.conf` in a temporary
//! folder. Nothing outside that folder is read or written: its own munge key
//! and socket (`AuthInfo=socket=…`), state, spool, logs and pid files, ports
//! picked free at start. No cgroups (`proctrack/pgid`, `task/none`), no
//! accounting. Jobs are cancelled and the daemons stopped when the
//! [`Cluster`] is dropped, a failed assertion included.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Cluster {
    pub dir: tempfile::TempDir,
    /// `slurm.conf`; every client command gets it as `SLURM_CONF`.
    pub conf: PathBuf,
    daemons: Vec<(&'static str, Child)>,
}

/// The programs a cluster needs: (name, Debian package).
const PROGRAMS: [(&str, &str); 7] = [
    ("munged", "munge"),
    ("mungekey", "munge"),
    ("slurmctld", "slurmctld (slurm-wlm)"),
    ("slurmd", "slurmd (slurm-wlm)"),
    ("sbatch", "slurm-client (slurm-wlm)"),
    ("squeue", "slurm-client (slurm-wlm)"),
    ("scontrol", "slurm-client (slurm-wlm)"),
];

/// Job states after which a job does nothing more.
const FINAL_STATES: [&str; 10] = [
    "COMPLETED",
    "FAILED",
    "CANCELLED",
    "TIMEOUT",
    "NODE_FAIL",
    "OUT_OF_MEMORY",
    "PREEMPTED",
    "BOOT_FAIL",
    "DEADLINE",
    "SPECIAL_EXIT",
];

impl Cluster {
    /// Start the three daemons and wait until the node is idle; `None`,
    /// with a printed `SKIP:` line, when not root or a program is missing.
    pub fn start() -> Option<Cluster> {
        let uid = Command::new("id").arg("-u").output().ok()?;
        if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
            eprintln!("SKIP: the Slurm test starts slurmctld/slurmd/munged and needs root");
            return None;
        }
        for (name, package) in PROGRAMS {
            if find(name).is_none() {
                eprintln!("SKIP: {name} not found (install Debian's {package}: ./setup.sh)");
                return None;
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("ainimotion-slurm-")
            .tempdir()
            .expect("temp dir");
        let d = dir.path().to_path_buf();
        // munged checks that everyone may enter the folders above its socket.
        set_mode(&d, 0o755);
        for sub in ["munge", "state", "spool", "log"] {
            std::fs::create_dir(d.join(sub)).expect("create cluster folder");
            set_mode(&d.join(sub), 0o755);
        }
        let mut cluster = Cluster {
            conf: d.join("slurm.conf"),
            dir,
            daemons: Vec::new(),
        };

        let key = d.join("munge/munge.key");
        let out = Command::new(find("mungekey").expect("checked"))
            .args(["--create", "--keyfile"])
            .arg(&key)
            .output()
            .expect("mungekey runs");
        assert!(out.status.success(), "mungekey: {out:?}");
        let socket = d.join("munge/munge.socket");
        cluster.spawn(
            "munged",
            Command::new(find("munged").expect("checked"))
                .arg("--foreground")
                .arg(format!("--socket={}", socket.display()))
                .arg(format!("--key-file={}", key.display()))
                .arg(format!(
                    "--pid-file={}",
                    d.join("munge/munged.pid").display()
                ))
                .arg(format!("--log-file={}", d.join("log/munged.log").display()))
                .arg(format!(
                    "--seed-file={}",
                    d.join("munge/munged.seed").display()
                )),
        );
        cluster.wait_until("munged's socket", Duration::from_secs(10), |_| {
            socket.exists()
        });

        let host = Command::new("hostname")
            .arg("-s")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".into());
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let [ctld_port, slurmd_port] = free_ports();
        let conf = format!(
            "# one-node test cluster (tests/common/slurm_cluster.rs)
ClusterName=ainimotion-test
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={socket}
StateSaveLocation={d}/state
SlurmdSpoolDir={d}/spool
SlurmctldPidFile={d}/slurmctld.pid
SlurmdPidFile={d}/slurmd.pid
SlurmctldLogFile={d}/log/slurmctld.log
SlurmdLogFile={d}/log/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
MinJobAge=3600
SchedulerParameters=sched_interval=1
NodeName=testnode NodeAddr=127.0.0.1 NodeHostname={host} CPUs={cpus} State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
",
            socket = socket.display(),
            d = d.display(),
        );
        std::fs::write(&cluster.conf, conf).expect("write slurm.conf");
        std::fs::write(d.join("cgroup.conf"), "CgroupAutomount=no\n").expect("write cgroup.conf");

        let conf_path = cluster.conf.clone();
        cluster.spawn(
            "slurmctld",
            Command::new(find("slurmctld").expect("checked"))
                .args(["-D", "-i", "-f"])
                .arg(&conf_path),
        );
        cluster.spawn(
            "slurmd",
            Command::new(find("slurmd").expect("checked"))
                .args(["-D", "-N", "testnode", "-f"])
                .arg(&conf_path),
        );
        cluster.wait_until("the node to be idle", Duration::from_secs(60), |c| {
            c.output("sinfo", &["--noheader", "--format=%T"])
                .is_some_and(|s| s.trim() == "idle")
        });
        Some(cluster)
    }

    /// A Slurm client command (`sbatch`, `squeue`, …) or our binary, with
    /// this cluster's `SLURM_CONF`.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env("SLURM_CONF", &self.conf);
        cmd
    }

    /// stdout of a client command, `None` when it fails.
    pub fn output(&self, program: &str, args: &[&str]) -> Option<String> {
        let out = self.command(program).args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// `sbatch --parsable ARGS`: the job id.
    #[track_caller]
    pub fn sbatch(&self, args: &[&str]) -> String {
        let out = self
            .command("sbatch")
            .arg("--parsable")
            .args(args)
            .output()
            .expect("sbatch runs");
        assert!(
            out.status.success(),
            "sbatch {args:?}: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.logs()
        );
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .split(';')
            .next()
            .unwrap_or_default()
            .to_string()
    }

    /// The state of every job (or array task) of `id`: `[(JobId, JobState)]`,
    /// array tasks as `ID_TASK`.
    pub fn job_states(&self, id: &str) -> Vec<(String, String)> {
        let Some(text) = self.output("scontrol", &["--oneliner", "show", "job", id]) else {
            return Vec::new();
        };
        text.lines()
            .filter_map(|line| {
                let field = |key: &str| {
                    line.split_whitespace()
                        .find_map(|w| w.strip_prefix(key))
                        .map(str::to_string)
                };
                let state = field("JobState=")?;
                let job = match (field("ArrayJobId="), field("ArrayTaskId=")) {
                    (Some(a), Some(t)) => format!("{a}_{t}"),
                    _ => field("JobId=")?,
                };
                Some((job, state))
            })
            .collect()
    }

    /// Wait until every job of `ids` has ended; their states. Panics (with
    /// the daemons' logs) after `timeout`.
    #[track_caller]
    pub fn wait_jobs(&self, ids: &[&str], timeout: Duration) -> Vec<(String, String)> {
        let start = Instant::now();
        loop {
            let states: Vec<(String, String)> =
                ids.iter().flat_map(|id| self.job_states(id)).collect();
            let done = !states.is_empty()
                && states
                    .iter()
                    .all(|(_, s)| FINAL_STATES.contains(&s.as_str()));
            if done {
                return states;
            }
            assert!(
                start.elapsed() < timeout,
                "jobs {ids:?} not finished after {timeout:?}: {states:?}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// The last lines of the daemons' logs, for a failure message.
    pub fn logs(&self) -> String {
        let mut text = String::new();
        for name in ["slurmctld", "slurmd", "munged"] {
            let path = self.dir.path().join(format!("log/{name}.log"));
            let log = std::fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(15)..].join("\n");
            text.push_str(&format!("--- {} (last lines)\n{tail}\n", path.display()));
        }
        text
    }

    fn spawn(&mut self, name: &'static str, cmd: &mut Command) {
        let log = self.dir.path().join(format!("log/{name}.stderr"));
        let file = std::fs::File::create(&log).expect("daemon log");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log handle"))
            .stderr(file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        self.daemons.push((name, child));
    }

    #[track_caller]
    fn wait_until(&mut self, what: &str, timeout: Duration, ready: impl Fn(&Cluster) -> bool) {
        let start = Instant::now();
        while !ready(self) {
            for (name, child) in &mut self.daemons {
                if let Ok(Some(status)) = child.try_wait() {
                    let err =
                        std::fs::read_to_string(self.dir.path().join(format!("log/{name}.stderr")))
                            .unwrap_or_default();
                    panic!("{name} exited ({status}) while waiting for {what}:\n{err}");
                }
            }
            assert!(
                start.elapsed() < timeout,
                "waited {timeout:?} for {what}\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Cluster {
    /// Cancel every job (their processes go with them), then stop the
    /// daemons newest first: SIGTERM, and SIGKILL after 5 s.
    fn drop(&mut self) {
        if self.daemons.len() == 3 {
            let _ = self
                .command("scancel")
                .args(["--user", "root"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(10)
                && self
                    .output("squeue", &["--noheader", "--states=RUNNING,COMPLETING"])
                    .is_some_and(|s| !s.trim().is_empty())
            {
                std::thread::sleep(Duration::from_millis(200));
            }
        }
        while let Some((_, mut child)) = self.daemons.pop() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(5) {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// An executable on PATH, or in /usr/sbin and /sbin (daemons, for a PATH
/// without them).
pub fn find(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/sbin")])
        .map(|dir| dir.join(name))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Two different TCP ports nobody listens on now.
fn free_ports() -> [u16; 2] {
    let bind = || std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    let (a, b) = (bind(), bind());
    let port = |l: &std::net::TcpListener| l.local_addr().expect("bound").port();
    [port(&a), port(&b)]
}
