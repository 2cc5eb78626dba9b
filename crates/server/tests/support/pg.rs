//! A throwaway PostgreSQL cluster for the tests and the benchmark: `initdb` into a temporary
//! directory, `postgres` on a free loopback port, one fresh database per test.
//!
//! The cluster is started once per test binary and shared. A small watchdog shell process
//! stops it and removes its directory as soon as the test process is gone, so no server is
//! left behind even though Rust never runs destructors of statics. PostgreSQL refuses to run
//! as root; under root the cluster runs as the `postgres` system user.
//!
//! Binaries come from `GRADPHOTO_PG_BIN` (a directory), else from `PATH`, else from
//! `/usr/lib/postgresql/<version>/bin`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use sqlx::{Connection, Executor, PgConnection};

struct Cluster {
    port: u16,
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

fn pg_bin(name: &str) -> PathBuf {
    if let Ok(dir) = std::env::var("GRADPHOTO_PG_BIN") {
        return Path::new(&dir).join(name);
    }
    if let Ok(path) = std::env::var("PATH") {
        for dir in std::env::split_paths(&path) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return candidate;
            }
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    versions.sort();
    versions
        .last()
        .map(|v| v.join("bin").join(name))
        .unwrap_or_else(|| PathBuf::from(name))
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Runs a command, as the `postgres` user when we are root.
fn command(as_postgres: bool, program: &Path) -> Command {
    if as_postgres {
        let mut c = Command::new("runuser");
        c.arg("-u").arg("postgres").arg("--").arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// Settings for a disposable cluster; `durable` keeps fsync on (benchmarks).
fn start_cluster(durable: bool) -> Result<Cluster, String> {
    let root = is_root();
    let dir = std::env::temp_dir().join(format!("gradphoto-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    if root {
        let status = Command::new("chown")
            .arg("postgres:postgres")
            .arg(&dir)
            .status()
            .map_err(|e| format!("chown: {e}"))?;
        if !status.success() {
            return Err("chown of the cluster directory failed".into());
        }
    }
    let data = dir.join("data");
    let out = command(root, &pg_bin("initdb"))
        .arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let port = free_port();
    let fsync = if durable { "on" } else { "off" };
    let postgres = pg_bin("postgres");
    // The watchdog polls for the test process and stops the cluster once it is gone.
    let script = format!(
        "{postgres} -D {data} -p {port} -k {dir} -c listen_addresses=127.0.0.1 \
         -c fsync={fsync} -c synchronous_commit=off -c full_page_writes={fsync} \
         -c max_connections=200 -c shared_buffers=256MB >{dir}/log 2>&1 & pg=$!; \
         while [ -d /proc/{parent} ] && kill -0 $pg 2>/dev/null; do sleep 0.5; done; \
         kill -INT $pg 2>/dev/null; wait $pg; rm -rf {dir}",
        postgres = postgres.display(),
        data = data.display(),
        dir = dir.display(),
        parent = std::process::id(),
    );
    command(root, Path::new("sh"))
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("start postgres: {e}"))?;
    // Wait until it accepts connections (polling, not asserting on time).
    for _ in 0..600 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(Cluster { port });
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Err(format!(
        "postgres did not start; log: {}",
        std::fs::read_to_string(dir.join("log")).unwrap_or_default()
    ))
}

fn cluster() -> &'static Cluster {
    let durable = std::env::var("GRADPHOTO_PG_DURABLE").is_ok_and(|v| v == "1");
    match CLUSTER.get_or_init(|| start_cluster(durable)) {
        Ok(c) => c,
        Err(e) => panic!("throwaway PostgreSQL cluster: {e}"),
    }
}

/// One fresh database in the shared cluster.
pub struct Database {
    port: u16,
    name: String,
}

impl Database {
    pub async fn create() -> Database {
        let port = cluster().port;
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        let mut admin = admin_connection(port).await;
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create database");
        let _ = admin.close().await;
        Database { port, name }
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{}", self.port, self.name)
    }

    pub async fn drop_database(self) {
        let mut admin = admin_connection(self.port).await;
        let _ = admin
            .execute(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name).as_str())
            .await;
        let _ = admin.close().await;
    }
}

async fn admin_connection(port: u16) -> PgConnection {
    let url = format!("postgres://postgres@127.0.0.1:{port}/postgres");
    // The cluster may still be finishing start-up when the port opens.
    let mut last = None;
    for _ in 0..100 {
        match PgConnection::connect(&url).await {
            Ok(c) => return c,
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("connect to throwaway PostgreSQL: {last:?}")
}
