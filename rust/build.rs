// Links libotlpd.so: from OTLPD_LIB_DIR (the build tree's src/library, or <prefix>/lib), else
// from pkg-config's answer for `otlpd`, else the system's library path.
use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=OTLPD_LIB_DIR");
    let dir = env::var("OTLPD_LIB_DIR").ok().or_else(|| {
        let out = Command::new("pkg-config")
            .args(["--variable=libdir", "otlpd"])
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
        if s.is_empty() {
            None
        } else {
            Some(s)
        }
    });
    if let Some(dir) = dir {
        println!("cargo:rustc-link-search=native={}", dir);
        // Programs and tests find the library where it was linked from.
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", dir);
    }
    println!("cargo:rustc-link-lib=dylib=otlpd");
}
