//! The student portal is embedded in the binary; it must be built first.

fn main() {
    // Read at run time, not with `env!`: a build script compiled in one clone may be reused by
    // another clone sharing the target directory, and must look at its own portal.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let dist = std::path::Path::new(&manifest).join("../../ui/portal/dist");
    println!("cargo:rerun-if-changed={}", dist.display());
    if !dist.join("index.html").is_file() {
        panic!(
            "the student portal is not built: {} has no index.html.\n\
             Run `bash scripts/run.sh` or `bash scripts/test.sh` (they build it), or\n\
             `cd ui/portal && npm ci && npm run build`.",
            dist.display()
        );
    }
}
