//! The student portal is embedded in the binary; it must be built first.

fn main() {
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/portal/dist");
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
