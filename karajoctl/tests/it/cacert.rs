//! `--cacert FILE` / `KARAJOCTL_CACERT` (SPEC 21 TLS): karajoctl against a
//! real karajod speaking HTTPS with a certificate from a private CA made
//! here, trusted only through that flag.

use std::path::{Path, PathBuf};

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};

use crate::harness::{command, run, run_cmd};
use crate::karajod::{Daemon, SECRET};

/// A fresh CA (`NAME-ca.pem`) and a certificate for 127.0.0.1 it signed
/// (`NAME.pem`, `NAME.key`) under `dir`; the CA's path.
fn private_ca(dir: &Path, name: &str) -> PathBuf {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, format!("karajo test CA {name}"));
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let leaf =
        CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().signed_by(&key, &ca_cert, &ca_key).unwrap();
    std::fs::write(dir.join(format!("{name}.pem")), leaf.pem()).unwrap();
    std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
    let ca_path = dir.join(format!("{name}-ca.pem"));
    std::fs::write(&ca_path, ca_cert.pem()).unwrap();
    ca_path
}

#[test]
fn cacert_trusts_a_private_ca_for_a_tls_karajod() {
    let certs = tempfile::tempdir().unwrap();
    let ca = private_ca(certs.path(), "live");
    let other = private_ca(certs.path(), "other");
    let tls = format!(
        "tls_cert = {}\ntls_key = {}\n\n[job \"j\"]\ncommand = true\n",
        certs.path().join("live.pem").display(),
        certs.path().join("live.key").display()
    );
    let d = Daemon::start(&tls);
    assert!(d.url.starts_with("https://127.0.0.1:"), "{}", d.url);
    let ca = ca.to_str().unwrap();
    let url = d.url.as_str();

    let listed = run(&["--url", url, "--cacert", ca, "--json", "list"]).expect(0);
    assert!(listed.stdout.contains("\"j\""), "{}", listed.stdout);
    run(&["--url", url, "--cacert", ca, "--secret", SECRET, "job", "run", "j"]).expect(0);
    let mut by_env = command(&["--url", url, "env"]);
    by_env.env("KARAJOCTL_CACERT", ca);
    run_cmd(by_env).expect(0);

    // Not trusted by the system's store, nor by another CA: cannot reach (3).
    let untrusted = run(&["--url", url, "env"]).expect(3);
    assert!(untrusted.stderr.contains(url.trim_start_matches("https://")), "{}", untrusted.stderr);
    run(&["--url", url, "--cacert", other.to_str().unwrap(), "env"]).expect(3);

    // A file that is missing or holds no certificate: a usage error naming it (2).
    let missing = certs.path().join("missing.pem");
    let out = run(&["--url", url, "--cacert", missing.to_str().unwrap(), "env"]).expect(2);
    assert!(out.stderr.contains("missing.pem"), "{}", out.stderr);
    let key = certs.path().join("live.key");
    let out = run(&["--url", url, "--cacert", key.to_str().unwrap(), "env"]).expect(2);
    assert!(out.stderr.contains("live.key"), "{}", out.stderr);
}
