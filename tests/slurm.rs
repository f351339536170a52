//! `ainimotion slurm` on a real one-node Slurm cluster started by the test
//! (tests/common/slurm_cluster.rs): Debian's munged, slurmctld and slurmd on
//! localhost, as root, from a generated config in a temporary folder.

mod common;
#[path = "common/slurm_cluster.rs"]
mod slurm_cluster;

use std::time::{Duration, Instant};

use slurm_cluster::Cluster;

/// The cluster itself, independent of ainimotion: an array job and a job
/// that waits for it with afterok.
#[test]
fn cluster_runs_an_array_and_a_dependent_job() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let dir = cluster.dir.path().join("jobs");
    std::fs::create_dir(&dir).unwrap();
    let out = |name: &str| format!("--output={}/{name}", dir.display());
    let t = Instant::now();
    let array = cluster.sbatch(&[
        "--array=0-2%2",
        &out("task-%a.log"),
        "--wrap",
        "echo task $SLURM_ARRAY_TASK_ID",
    ]);
    let after = format!("--dependency=afterok:{array}");
    let join = cluster.sbatch(&[&after, &out("join.log"), "--wrap", "echo joined"]);
    let states = cluster.wait_jobs(&[&array, &join], Duration::from_secs(60));
    eprintln!("jobs {states:?} in {:.1} s", t.elapsed().as_secs_f64());
    assert!(states.iter().all(|(_, s)| s == "COMPLETED"), "{states:?}");
    assert_eq!(states.len(), 4, "{states:?}");
    for k in 0..3 {
        let log = std::fs::read_to_string(dir.join(format!("task-{k}.log"))).unwrap();
        assert_eq!(log.trim(), format!("task {k}"));
    }
    let log = std::fs::read_to_string(dir.join("join.log")).unwrap();
    assert_eq!(log.trim(), "joined");
}
