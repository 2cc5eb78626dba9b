//! Command line: `serve`, `worker`, `migrate` and the admin commands.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{bail, Context};
use chrono::Utc;
use clap::{Args, Parser, Subcommand};
use gradphoto_api::admin::{RosterCheck, RosterRowProblem};
use gradphoto_domain::measures::Thresholds;
use gradphoto_domain::policy::SchoolPolicy;
use gradphoto_domain::role::Role;
use gradphoto_domain::roster::parse_roster_csv;
use gradphoto_domain::state::{CaseState, Event};
use gradphoto_server::config::Config;
use gradphoto_server::http::error::{AppError, ErrorCode};
use gradphoto_server::invite::{self, InviteSelection};
use gradphoto_server::store::{audit, cases, schools, students, users, Actor};
use gradphoto_server::vision::VisionAnalyzer;
use gradphoto_server::{crypto, demo, enrollment, jobs, AppState};

#[derive(Debug, Parser)]
#[command(
    name = "gradphoto",
    version,
    about = "学历照片采集与审核 / graduation photo collection and review"
)]
struct Cli {
    /// TOML configuration file (defaults, then this file, then GRADPHOTO_* variables).
    #[arg(long, global = true, env = "GRADPHOTO_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP server (and in-process job workers).
    Serve,
    /// Run background job workers only.
    Worker {
        /// Process the jobs that are ready, then exit.
        #[arg(long)]
        once: bool,
    },
    /// Create or upgrade the database schema.
    Migrate,
    /// Check or import the student roster (CSV, UTF-8 or GBK, zh or en headers).
    Roster {
        #[command(subcommand)]
        command: RosterCommand,
    },
    /// School settings.
    School {
        #[command(subcommand)]
        command: SchoolCommand,
    },
    /// Issue (or re-issue) per-student codes: QR PNGs and a CSV of links.
    Invite(InviteArgs),
    /// Staff accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// The audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Export approved photos for the registry: <ID number>.jpg plus a CSV.
    Export {
        #[arg(long)]
        out: PathBuf,
    },
    /// Delete originals and ID-card images of cases exported longer ago than the school's
    /// retention period (run daily, e.g. from cron).
    Purge,
    /// Check, standardize or compare photos with the local models.
    Photo {
        #[command(subcommand)]
        command: crate::photo_cmd::PhotoCommand,
    },
    /// Read an ID card front (name and ID number).
    Idcard {
        #[command(subcommand)]
        command: crate::photo_cmd::IdCardCommand,
    },
    /// Seed a demo school, roster, accounts and cases in several states.
    Demo {
        /// Where to write the demo invitation QR codes and links.
        #[arg(long, default_value = "demo-invites")]
        out: PathBuf,
        /// More students brought to `ready` (paid, a photo still to take), beyond the twelve,
        /// for trying review at volume (at most 200).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=200))]
        ready: u16,
    },
}

#[derive(Debug, Subcommand)]
enum RosterCommand {
    /// Validate a roster file; lists every bad row (exit code 1 when any).
    Check {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Import a roster file: all rows or none.
    Import {
        file: PathBuf,
        /// Policy (TOML) for schools that do not exist yet.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// Folder or .zip archive holding the enrollment photos (学籍照片) the roster names.
        #[arg(long)]
        photos: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum SchoolCommand {
    /// Set a school's policy from a TOML file (fee, retakes, support phone and hours…).
    Policy {
        #[arg(long)]
        school: String,
        file: PathBuf,
    },
    /// List schools.
    List,
}

#[derive(Debug, Args)]
struct InviteArgs {
    /// Every student (default when no --student-no is given).
    #[arg(long)]
    all: bool,
    #[arg(long, conflicts_with = "all")]
    student_no: Option<String>,
    #[arg(long)]
    school: Option<String>,
    /// Revoke current codes and issue new ones.
    #[arg(long)]
    reissue: bool,
    #[arg(long)]
    out: PathBuf,
}

#[derive(Debug, Subcommand)]
enum UserCommand {
    /// Add a staff account; prints a generated password unless --password-stdin is given.
    Add {
        username: String,
        #[arg(long)]
        role: Role,
        #[arg(long)]
        display_name: Option<String>,
        /// Restrict the account to one school (by name).
        #[arg(long)]
        school: Option<String>,
        #[arg(long)]
        password_stdin: bool,
    },
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Verify the hash chain; prints OK with the count or the first broken link.
    Verify,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("错误 / error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The analyzer this binary runs photos through: the local models, loaded on first use.
fn analyzer() -> Arc<VisionAnalyzer> {
    Arc::new(VisionAnalyzer::new(Thresholds::default()))
}

/// A refusal reads as its messages; an internal failure as its cause (the operator's terminal is
/// where it is logged).
fn app_err(e: impl Into<AppError>) -> anyhow::Error {
    let e: AppError = e.into();
    if e.code == ErrorCode::InternalError {
        anyhow::anyhow!("{e}")
    } else {
        anyhow::anyhow!("{} ({}) / {}", e.message_zh, e.code.as_str(), e.message_en)
    }
}

async fn open(config: Config) -> anyhow::Result<AppState> {
    AppState::open(config, analyzer()).await.map_err(app_err)
}

fn cli_actor() -> Actor {
    Actor::new(Role::Admin, "cli")
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve => serve(config).await,
        Command::Worker { once } => worker(config, once).await,
        Command::Migrate => {
            let state = open(config).await?;
            println!(
                "数据库已是最新 / database is up to date ({:?})",
                state.store.backend()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Roster { command } => match command {
            RosterCommand::Check { file, json } => roster_check(&file, json),
            RosterCommand::Import {
                file,
                policy,
                photos,
            } => roster_import(config, &file, policy, photos.as_deref()).await,
        },
        Command::School { command } => school(config, command).await,
        Command::Invite(args) => invite_cmd(config, args).await,
        Command::User { command } => user(config, command).await,
        Command::Audit {
            command: AuditCommand::Verify,
        } => audit_verify(config).await,
        Command::Export { out } => export(config, &out).await,
        Command::Purge => {
            let state = open(config).await?;
            let now = chrono::Utc::now().timestamp_millis();
            let purged = gradphoto_server::retention::purge_expired(&state, now)
                .await
                .map_err(app_err)?;
            println!(
                "已清理 {} 个记录的 {} 个文件 / purged {} object(s) of {} case(s)",
                purged.cases, purged.objects, purged.objects, purged.cases
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Photo { command } => crate::photo_cmd::run_photo(command),
        Command::Idcard { command } => crate::photo_cmd::run_idcard(command),
        Command::Demo { out, ready } => {
            let state = open(config).await?;
            let report = demo::seed_with_ready(&state, usize::from(ready))
                .await
                .map_err(app_err)?;
            jobs::drain(&state).await.map_err(app_err)?;
            print!("{}", report.render());
            let links = invite::issue(&state, &cli_actor(), &InviteSelection::default())
                .await
                .map_err(app_err)?;
            invite::write_outputs(&out, &links)
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "邀请二维码和链接 / invitation QR codes and links: {}",
                out.display()
            );
            // The other students' codes are already bound to the demo's own sessions, as a
            // real student's would be: opening them elsewhere is refused (一人一码).
            println!(
                "在浏览器中打开，体验学生流程 / open in a browser to walk the student journey:"
            );
            for link in links.iter().filter(|l| {
                report
                    .cases
                    .iter()
                    .any(|(name, st, _)| *name == l.name && *st == CaseState::Invited)
            }) {
                println!("  {:<6} {}", link.name, link.link);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn serve(config: Config) -> anyhow::Result<ExitCode> {
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let analyzer = analyzer();
    // Fail at start-up rather than on the first student's photo.
    analyzer
        .warm()
        .map_err(|e| anyhow::anyhow!("{} ({}) / {}", e.message_zh, e.code, e.message_en))?;
    let (addr, handle) = gradphoto_server::serve(config, analyzer)
        .await
        .map_err(app_err)?;
    println!("gradphoto 正在监听 / listening on {scheme}://{addr}");
    println!("{}", handle.state.payments.describe());
    println!(
        "学生链接前缀 / student links: {}/c/<code>",
        handle.state.public_url
    );
    let stop = handle.stop_signal();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        let _ = stop.send(true);
    });
    handle.wait().await?;
    Ok(ExitCode::SUCCESS)
}

async fn worker(config: Config, once: bool) -> anyhow::Result<ExitCode> {
    let state = open(config).await?;
    jobs::requeue_abandoned(&state).await.map_err(app_err)?;
    if once {
        let n = jobs::drain(&state).await.map_err(app_err)?;
        println!("处理了 {n} 个任务 / ran {n} job(s)");
        return Ok(ExitCode::SUCCESS);
    }
    let (stop, rx) = tokio::sync::watch::channel(false);
    let count = state.config.workers.max(1);
    let handles = jobs::spawn_workers(&state, count, rx);
    println!("{count} 个任务进程已启动 / {count} worker(s) running; Ctrl-C to stop");
    tokio::signal::ctrl_c().await?;
    let _ = stop.send(true);
    for h in handles {
        let _ = h.await;
    }
    Ok(ExitCode::SUCCESS)
}

fn roster_check(file: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let result = parse_roster_csv(&bytes, Utc::now().date_naive());
    let check = match &result {
        Ok(rows) => RosterCheck {
            ok: true,
            rows: rows.len(),
            problems: Vec::new(),
        },
        Err(errors) => RosterCheck {
            ok: false,
            rows: 0,
            problems: errors
                .iter()
                .map(|e| RosterRowProblem {
                    line: e.line,
                    field: e.field.clone(),
                    code: e.code.as_str().to_string(),
                    message_zh: e.message_zh.clone(),
                    message_en: e.message_en.clone(),
                })
                .collect(),
        },
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&check)?);
    } else if check.ok {
        println!("名单有效 / roster OK: {} 行 rows", check.rows);
    } else {
        println!(
            "名单有 {} 处错误 / roster has {} problem(s):",
            check.problems.len(),
            check.problems.len()
        );
        for p in &check.problems {
            println!(
                "  第 {} 行 line {}{}: {} / {} [{}]",
                p.line,
                p.line,
                p.field
                    .as_deref()
                    .map(|f| format!(" ({f})"))
                    .unwrap_or_default(),
                p.message_zh,
                p.message_en,
                p.code
            );
        }
    }
    Ok(if check.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn read_policy(path: &Path) -> anyhow::Result<SchoolPolicy> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let policy: SchoolPolicy =
        toml::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    policy.validate().map_err(|e| {
        use gradphoto_domain::Localized;
        anyhow::anyhow!("{} / {}", e.message_zh(), e.message_en())
    })?;
    Ok(policy)
}

async fn roster_import(
    config: Config,
    file: &Path,
    policy: Option<PathBuf>,
    photos: Option<&Path>,
) -> anyhow::Result<ExitCode> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let mut records = match parse_roster_csv(&bytes, Utc::now().date_naive()) {
        Ok(r) => r,
        Err(errors) => {
            eprintln!("名单无效，未导入任何记录 / invalid roster, nothing imported:");
            for e in &errors {
                eprintln!(
                    "  第 {} 行 line {}: {} / {}",
                    e.line, e.line, e.message_zh, e.message_en
                );
            }
            return Ok(ExitCode::from(1));
        }
    };
    let policy = match policy {
        Some(p) => read_policy(&p)?,
        None => SchoolPolicy::default(),
    };
    // Every photo is read and checked before anything is written.
    let photo_bytes = match enrollment::read(&records, photos, config.max_upload_bytes) {
        Ok(p) => p,
        Err(problems) => {
            eprintln!(
                "学籍照片有问题，未导入任何记录 / enrollment photo problems, nothing imported:"
            );
            for p in &problems {
                eprintln!(
                    "  学号 {} ({}): {} / {}",
                    p.student_no, p.file, p.message_zh, p.message_en
                );
            }
            return Ok(ExitCode::from(1));
        }
    };
    let state = open(config).await?;
    for school in records
        .iter()
        .map(|r| r.school.as_str())
        .collect::<BTreeSet<_>>()
    {
        state
            .payments
            .check_fee(school, policy.fee_cents)
            .map_err(app_err)?;
    }
    let stored = enrollment::store(&state, &mut records, photo_bytes)
        .await
        .map_err(app_err)?;
    let mut tx = state.store.begin().await.map_err(app_err)?;
    let summary = students::import_as(&mut tx, &state.crypto, &cli_actor(), &records, &policy)
        .await
        .map_err(app_err)?;
    tx.commit().await.map_err(app_err)?;
    println!(
        "已导入 / imported: 新增 created {}, 更新 updated {}, 学籍照片 enrollment photos {stored}",
        summary.created, summary.updated
    );
    for school in schools::list(&state.store).await.map_err(app_err)? {
        if school.policy.validate().is_err() {
            println!(
                "提示：请为学校“{}”设置政策（客服电话等）/ note: set a policy for school {:?}: gradphoto school policy --school {:?} FILE.toml",
                school.name, school.name, school.name
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn school(config: Config, command: SchoolCommand) -> anyhow::Result<ExitCode> {
    let state = open(config).await?;
    match command {
        SchoolCommand::Policy { school, file } => {
            let policy = read_policy(&file)?;
            let row = schools::find_by_name(&state.store, &school)
                .await
                .map_err(app_err)?
                .with_context(|| format!("no school named {school:?}"))?;
            let version = gradphoto_server::journey::admin::change_policy(
                &state,
                &cli_actor(),
                &row.id,
                &policy,
                None,
            )
            .await
            .map_err(app_err)?;
            println!("已更新 / updated: {} (v{version})", row.name);
        }
        SchoolCommand::List => {
            for s in schools::list(&state.store).await.map_err(app_err)? {
                println!(
                    "{}\t{}\tfee={}\tsupport={} {}",
                    s.id,
                    s.name,
                    s.policy.fee_cents,
                    s.policy.support_phone,
                    s.policy.support_hours
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn invite_cmd(config: Config, args: InviteArgs) -> anyhow::Result<ExitCode> {
    let state = open(config).await?;
    let sel = InviteSelection {
        student_no: args.student_no,
        school: args.school,
        reissue: args.reissue,
    };
    let links = invite::issue(&state, &cli_actor(), &sel)
        .await
        .map_err(app_err)?;
    invite::write_outputs(&args.out, &links)
        .with_context(|| format!("writing {}", args.out.display()))?;
    let new = links.iter().filter(|l| l.new).count();
    println!(
        "{} 个采集码（新发 {new}）已写入 / {} code(s) ({new} new) written to {}",
        links.len(),
        links.len(),
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

async fn user(config: Config, command: UserCommand) -> anyhow::Result<ExitCode> {
    let UserCommand::Add {
        username,
        role,
        display_name,
        school,
        password_stdin,
    } = command;
    let (password, generated) = if password_stdin {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s)?;
        let s = s.trim_end_matches(['\r', '\n']).to_string();
        if s.chars().count() < 8 {
            bail!("密码至少 8 个字符 / the password must have at least 8 characters");
        }
        (s, false)
    } else {
        (crypto::random_code(16), true)
    };
    let state = open(config).await?;
    let school_id = match &school {
        Some(name) => Some(
            schools::find_by_name(&state.store, name)
                .await
                .map_err(app_err)?
                .with_context(|| format!("no school named {name:?}"))?
                .id,
        ),
        None => None,
    };
    let hash = tokio::task::spawn_blocking(move || {
        crypto::hash_password(&password).map(|h| (h, password))
    })
    .await??;
    let mut tx = state.store.begin().await.map_err(app_err)?;
    users::add(
        &mut tx,
        &cli_actor(),
        &username,
        display_name.as_deref().unwrap_or(&username),
        role,
        &hash.0,
        school_id.as_deref(),
    )
    .await
    .map_err(app_err)?;
    tx.commit().await.map_err(app_err)?;
    println!("已创建账号 / created account {username} ({role})");
    if generated {
        println!("初始密码 / password: {}", hash.1);
    }
    Ok(ExitCode::SUCCESS)
}

async fn audit_verify(config: Config) -> anyhow::Result<ExitCode> {
    let state = open(config).await?;
    match audit::verify(&state.store).await.map_err(app_err)? {
        Ok(count) => {
            println!("OK: 审计链完整 / audit chain intact, {count} event(s)");
            Ok(ExitCode::SUCCESS)
        }
        Err(broken) => {
            use gradphoto_domain::Localized;
            println!(
                "审计链在第 {} 条断开 / audit chain broken at seq {}: {} / {} [{}]",
                broken.seq,
                broken.seq,
                broken.message_zh(),
                broken.message_en(),
                broken.code()
            );
            Ok(ExitCode::from(1))
        }
    }
}

async fn export(config: Config, out: &Path) -> anyhow::Result<ExitCode> {
    let state = open(config).await?;
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let ids = cases::ids_in_state(&state.store, CaseState::Approved)
        .await
        .map_err(app_err)?;
    let csv_path = out.join("export.csv");
    let new_file = !csv_path.exists();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&csv_path)
        .with_context(|| format!("opening {}", csv_path.display()))?;
    let mut csv = csv::Writer::from_writer(file);
    if new_file {
        csv.write_record([
            "身份证号 id_number",
            "姓名 name",
            "学号 student_no",
            "文件 file",
        ])?;
    }
    let actor = cli_actor();
    let mut exported = 0usize;
    for case_id in ids {
        let case = cases::get(&state.store, &case_id)
            .await
            .map_err(app_err)?
            .context("case vanished")?;
        let student = students::get(&state.store, &case.student_id)
            .await
            .map_err(app_err)?
            .context("case without student")?;
        let school = schools::get(&state.store, &case.school_id)
            .await
            .map_err(app_err)?
            .context("case without school")?;
        let Some(attempt_id) = &case.submitted_attempt_id else {
            eprintln!(
                "跳过 / skipped {}: 没有提交的照片 / no submitted photo",
                student.student_no
            );
            continue;
        };
        let attempt = gradphoto_server::store::attempts::get(&state.store, attempt_id)
            .await
            .map_err(app_err)?
            .context("submitted attempt missing")?;
        let Some(key) = attempt.standardized_key else {
            eprintln!(
                "跳过 / skipped {}: 没有标准照 / no standardized photo",
                student.student_no
            );
            continue;
        };
        let jpeg = state.objects.get_sensitive(&key).await.map_err(app_err)?;
        let id_number = students::reveal_id_number(&state.store, &state.crypto, &student.id)
            .await
            .map_err(app_err)?;
        let name = format!("{id_number}.jpg");
        let tmp = out.join(format!(".{name}.tmp"));
        std::fs::write(&tmp, &jpeg).with_context(|| format!("writing {}", tmp.display()))?;
        let mut tx = state.store.begin().await.map_err(app_err)?;
        cases::apply(
            &mut tx,
            &case,
            &Event::Export,
            &actor,
            &school.policy,
            serde_json::json!({ "file": "export", "id_number_accessed": true }),
        )
        .await
        .map_err(app_err)?;
        tx.commit().await.map_err(app_err)?;
        std::fs::rename(&tmp, out.join(&name))?;
        csv.write_record(
            [&id_number, &student.name, &student.student_no, &name]
                .map(|cell| gradphoto_domain::text::csv_cell(cell).into_owned()),
        )?;
        exported += 1;
    }
    csv.flush()?;
    println!(
        "已导出 {exported} 张照片 / exported {exported} photo(s) to {}",
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}
