//! The admin commands of the `gradphoto` binary, run as a user would run them.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use gradphoto_server::demo::demo_id_number;

fn gradphoto(data: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gradphoto"))
        .args(args)
        .env("GRADPHOTO_DATA_DIR", data)
        .env("GRADPHOTO_PUBLIC_URL", "https://photos.example.edu.cn")
        .env_remove("GRADPHOTO_DATABASE_URL")
        .env_remove("GRADPHOTO_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn roster(rows: &[(usize, &str)]) -> String {
    let mut csv = String::from("姓名,身份证号,学号,学校,学院,专业,层次,毕业年份\n");
    for (i, no) in rows {
        csv.push_str(&format!(
            "学生{i},{},{no},测试大学,理学院,数学,本科,2025\n",
            demo_id_number(*i).unwrap().as_str()
        ));
    }
    csv
}

#[test]
fn roster_invites_accounts_and_audit_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    // A bad file: every bad row with its line number, exit code 1, nothing imported.
    let bad = dir.path().join("bad.csv");
    let mut content = roster(&[(1, "S1")]);
    content.push_str("学生2,110105200201010011,S2,测试大学,理学院,数学,本科,2025\n");
    content.push_str("学生3,,S3,测试大学,理学院,数学,本科,2025\n");
    std::fs::write(&bad, content).unwrap();
    let out = gradphoto(
        &data,
        &["roster", "check", bad.to_str().unwrap(), "--json"],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let check: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines: Vec<u64> = check["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, vec![3, 4]);
    let out = gradphoto(&data, &["roster", "import", bad.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));

    // A good file imports every row.
    let good = dir.path().join("good.csv");
    std::fs::write(&good, roster(&[(1, "S1"), (2, "S2"), (3, "S3")])).unwrap();
    let out = gradphoto(&data, &["roster", "check", good.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out));
    let out = gradphoto(&data, &["roster", "import", good.to_str().unwrap()], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("created 3"), "{}", text(&out));
    assert!(data.join("secret.key").exists());

    // Invitations: one QR code per student and a CSV of links; re-issue changes the link.
    let inv = dir.path().join("inv");
    let out = gradphoto(
        &data,
        &["invite", "--all", "--out", inv.to_str().unwrap()],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let links = std::fs::read_to_string(inv.join("links.csv")).unwrap();
    assert_eq!(links.lines().count(), 4);
    let s2_link = |csv: &str| {
        csv.lines()
            .find(|l| l.contains(",S2,"))
            .unwrap()
            .split(',')
            .nth(3)
            .unwrap()
            .to_string()
    };
    let before = s2_link(&links);
    assert!(before.starts_with("https://photos.example.edu.cn/c/"));
    let png = std::fs::read(inv.join("测试大学-S2.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let inv2 = dir.path().join("inv2");
    let out = gradphoto(
        &data,
        &[
            "invite",
            "--student-no",
            "S2",
            "--reissue",
            "--out",
            inv2.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    let after = s2_link(&std::fs::read_to_string(inv2.join("links.csv")).unwrap());
    assert_ne!(before, after);

    // Accounts: a typed password from stdin, a generated one printed, duplicates refused.
    let out = gradphoto(
        &data,
        &[
            "user",
            "add",
            "li.reviewer",
            "--role",
            "reviewer",
            "--password-stdin",
        ],
        Some("correct horse battery\n"),
    );
    assert!(out.status.success(), "{}", text(&out));
    let out = gradphoto(
        &data,
        &["user", "add", "boss", "--role", "supervisor"],
        None,
    );
    assert!(text(&out).contains("password"), "{}", text(&out));
    let out = gradphoto(&data, &["user", "add", "boss", "--role", "admin"], None);
    assert!(!out.status.success());
    assert!(text(&out).contains("username_taken"), "{}", text(&out));

    // Everything above is on the audit chain.
    let out = gradphoto(&data, &["audit", "verify"], None);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).starts_with("OK"), "{}", text(&out));
}

#[test]
fn enrollment_photos_are_imported_from_the_folder_given_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/photos/real/r_plain_wall.jpg"),
        photos.join("S1.jpg"),
    )
    .unwrap();
    let file = dir.path().join("roster.csv");
    std::fs::write(
        &file,
        format!(
            "姓名,身份证号,学号,学校,学院,专业,层次,毕业年份,学籍照片\n学生1,{},S1,测试大学,理学院,数学,本科,2025,S1.jpg\n学生2,{},S2,测试大学,理学院,数学,本科,2025,\n",
            demo_id_number(1).unwrap().as_str(),
            demo_id_number(2).unwrap().as_str()
        ),
    )
    .unwrap();
    let roster = file.to_str().unwrap();

    // Without the folder: refused, naming the student, nothing imported.
    let out = gradphoto(&data, &["roster", "import", roster], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("学号 S1"), "{}", text(&out));
    assert!(text(&out).contains("--photos"), "{}", text(&out));
    // A folder without the file: the same.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = gradphoto(
        &data,
        &[
            "roster",
            "import",
            roster,
            "--photos",
            empty.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("No such file"), "{}", text(&out));

    let out = gradphoto(
        &data,
        &[
            "roster",
            "import",
            roster,
            "--photos",
            photos.to_str().unwrap(),
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("created 2"), "{}", text(&out));
    assert!(text(&out).contains("enrollment photos 1"), "{}", text(&out));
    // Stored encrypted: no file under the objects folder is the JPEG as given.
    let given = std::fs::read(photos.join("S1.jpg")).unwrap();
    let mut stored = Vec::new();
    let mut stack = vec![data.join("objects/enrollment")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                stored.push(std::fs::read(p).unwrap());
            }
        }
    }
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], given);
    assert!(!stored[0].starts_with(&[0xFF, 0xD8, 0xFF]));
}
