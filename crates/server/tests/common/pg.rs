//! A real PostgreSQL server for tests.
//!
//! Uses `GRADPHOTO_TEST_PG_URL` when set (a server where the user may create databases);
//! otherwise starts a throwaway cluster from `/usr/lib/postgresql/*/bin` on a free port on
//! 127.0.0.1, with its socket and data in a temporary directory. `initdb` refuses to run as
//! root, so as root the cluster belongs to the `postgres` user. The cluster stops when the
//! value is dropped, and a watcher stops it when the test process exits (a shared cluster in
//! a static is never dropped).

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use sqlx::{Connection, Executor};

pub struct PgCluster {
    /// URL of the maintenance database (`postgres`) on the server.
    admin_url: String,
    owned: Option<Owned>,
}

struct Owned {
    dir: PathBuf,
    bin: PathBuf,
    as_postgres: bool,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn pg_bin() -> PathBuf {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL binaries under /usr/lib/postgresql (or set GRADPHOTO_TEST_PG_URL)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    candidates.sort();
    candidates
        .pop()
        .expect("no initdb found under /usr/lib/postgresql/*/bin")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn run(as_postgres: bool, program: &Path, args: &[&str]) {
    let mut cmd = if as_postgres {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    };
    let out = cmd
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()));
    assert!(
        out.status.success(),
        "{} {:?} failed: {}{}",
        program.display(),
        args,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

impl PgCluster {
    /// A cluster for this test process, started once.
    pub fn shared() -> &'static PgCluster {
        static SHARED: OnceLock<PgCluster> = OnceLock::new();
        SHARED.get_or_init(PgCluster::start)
    }

    pub fn start() -> PgCluster {
        if let Ok(url) = std::env::var("GRADPHOTO_TEST_PG_URL") {
            return PgCluster {
                admin_url: url,
                owned: None,
            };
        }
        let bin = pg_bin();
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("gradphoto-pg-")
            .tempdir()
            .expect("temp dir")
            .keep();
        let data = dir.join("data");
        let sock = dir.join("sock");
        std::fs::create_dir_all(&sock).expect("socket dir");
        if as_postgres {
            run(
                false,
                Path::new("chown"),
                &[
                    "-R",
                    "postgres:postgres",
                    dir.to_str().expect("UTF-8 temp path"),
                ],
            );
        }
        run(
            as_postgres,
            &bin.join("initdb"),
            &[
                "-D",
                data.to_str().expect("UTF-8 temp path"),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        );
        let port = free_port();
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            sock.display()
        );
        let log = dir.join("server.log");
        run(
            as_postgres,
            &bin.join("pg_ctl"),
            &[
                "-D",
                data.to_str().expect("UTF-8 temp path"),
                "-o",
                &opts,
                "-l",
                log.to_str().expect("UTF-8 temp path"),
                "-w",
                "start",
            ],
        );
        spawn_exit_watcher(&bin, &dir, as_postgres);
        PgCluster {
            admin_url: format!("postgres://postgres@127.0.0.1:{port}/postgres"),
            owned: Some(Owned {
                dir,
                bin,
                as_postgres,
            }),
        }
    }

    /// Creates an empty database and returns its URL.
    pub async fn fresh_database(&self) -> String {
        let name = format!("gp_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&self.admin_url)
            .await
            .expect("connect to PostgreSQL");
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create database");
        conn.close().await.ok();
        match self.admin_url.rfind('/') {
            Some(i) => format!("{}/{name}", &self.admin_url[..i]),
            None => panic!("bad PostgreSQL URL"),
        }
    }
}

/// Stops the cluster once the test process is gone, whatever way it ends.
fn spawn_exit_watcher(bin: &Path, dir: &Path, as_postgres: bool) {
    let stop = format!(
        "{} {} -D {} -m immediate stop",
        if as_postgres {
            "runuser -u postgres --"
        } else {
            ""
        },
        bin.join("pg_ctl").display(),
        dir.join("data").display()
    );
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        dir = dir.display()
    );
    let _ = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if let Some(o) = &self.owned {
            let data = o.dir.join("data");
            let mut cmd = if o.as_postgres {
                let mut c = Command::new("runuser");
                c.args(["-u", "postgres", "--"]).arg(o.bin.join("pg_ctl"));
                c
            } else {
                Command::new(o.bin.join("pg_ctl"))
            };
            let _ = cmd
                .args([
                    "-D",
                    data.to_str().unwrap_or_default(),
                    "-m",
                    "immediate",
                    "stop",
                ])
                .output();
            let _ = std::fs::remove_dir_all(&o.dir);
        }
    }
}
