//! Each rule, refused and allowed.

use super::*;

fn check(text: &str) -> Result<ComposeSummary, Vec<ComposeProblem>> {
    check_compose(text.as_bytes(), &ComposePolicy::default())
}

fn refused(text: &str) -> Vec<String> {
    check(text).expect_err("refused").iter().map(ToString::to_string).collect()
}

fn kinds(text: &str) -> Vec<ProblemKind> {
    check(text).expect_err("refused").iter().map(|p| p.kind).collect()
}

const APP: &str = "services:\n  app:\n    image: ${AVIARY_IMAGE}\n";

#[test]
fn the_minimal_file_runs_the_admitted_image() {
    let s = check(APP).unwrap();
    assert_eq!(s.app_services, ["app"]);
    assert!(s.extra_images.is_empty());
    assert!(check("services:\n  web:\n    image: $AVIARY_IMAGE\n    ports: [\"8080:8080\"]\n    environment:\n      MODE: canary\n").is_ok());
}

#[test]
fn a_realistic_file_with_named_volumes_and_healthcheck_passes() {
    let text = r#"
services:
  app:
    image: ${AVIARY_IMAGE}
    restart: unless-stopped
    ports: ["${AVIARY_APP_PORT}:8080"]
    environment: { ROLE: "${AVIARY_ROLE}" }
    volumes: ["cache:/var/cache/app", "/tmp/scratch"]
    healthcheck: { test: ["CMD", "wget", "-q", "-O-", "http://127.0.0.1:8080/health"], interval: 10s }
    mem_limit: 512m
    security_opt: ["no-new-privileges:true"]
volumes:
  cache: {}
"#;
    assert!(check(text).is_ok(), "{:?}", check(text));
}

#[test]
fn not_yaml_is_named_with_line_and_column() {
    let p = refused("services:\n  app:\n    image: [unclosed\n");
    assert_eq!(p.len(), 1);
    assert!(p[0].starts_with("the compose file is not valid YAML: line "), "{}", p[0]);
    assert!(p[0].contains("column"), "{}", p[0]);
    assert_eq!(kinds("{{{"), [ProblemKind::NotYaml]);
}

#[test]
fn shape_problems() {
    assert_eq!(kinds("- a\n- b\n"), [ProblemKind::NotAMapping]);
    assert_eq!(kinds("version: '3'\n"), [ProblemKind::NoServices]);
    assert_eq!(kinds("services: {}\n"), [ProblemKind::NoServices]);
    assert_eq!(kinds("services:\n  app:\n    image: nginx\n"), [ProblemKind::ImageNotAllowed, ProblemKind::NoAdmittedImage]);
    assert_eq!(kinds("services:\n  app:\n    ports: ['80:80']\n"), [ProblemKind::NoImage, ProblemKind::NoAdmittedImage]);
    assert!(refused("services:\n  app:\n    image: ${AVIARY_IMAGE}\n  app:\n    image: x\n")[0].contains("duplicate"));
}

#[test]
fn size_and_encoding() {
    let big = format!("{APP}# {}\n", "x".repeat(70_000));
    assert_eq!(kinds(&big), [ProblemKind::TooLarge]);
    let e = check_compose(&[0xff, 0xfe, 0x00], &ComposePolicy::default()).unwrap_err();
    assert_eq!(e[0].kind, ProblemKind::NotUtf8);
}

#[test]
fn each_escape_is_refused_by_service_and_key() {
    for (extra, wanted) in [
        ("    privileged: true\n", "service 'app': privileged: true: privileged containers"),
        ("    cap_add: [SYS_ADMIN]\n", "service 'app': cap_add: "),
        ("    devices: ['/dev/sda:/dev/sda']\n", "service 'app': devices: "),
        ("    network_mode: host\n", "service 'app': network_mode: host: "),
        ("    network_mode: 'container:abc'\n", "service 'app': network_mode: container:abc: "),
        ("    pid: host\n", "service 'app': pid: host: "),
        ("    ipc: host\n", "service 'app': ipc: host: "),
        ("    uts: host\n", "service 'app': uts: host: "),
        ("    userns_mode: host\n", "service 'app': userns_mode: host: "),
        ("    cgroup: host\n", "service 'app': cgroup: host: "),
        ("    security_opt: ['seccomp=unconfined']\n", "service 'app': security_opt: seccomp:unconfined"),
        ("    security_opt: ['apparmor:unconfined']\n", "security_opt: apparmor:unconfined"),
        ("    security_opt: ['label:disable']\n", "security_opt: label:disable"),
        ("    volumes: ['/:/host']\n", "service 'app': volumes: /: bind mounts"),
        ("    volumes: ['./data:/data']\n", "volumes: ./data"),
        ("    volumes: ['~/x:/x']\n", "volumes: ~/x"),
        ("    volumes: ['/var/run/docker.sock:/var/run/docker.sock:ro']\n", "volumes: /var/run/docker.sock"),
        ("    volumes: [{type: bind, source: /etc, target: /etc}]\n", "volumes: /etc"),
        ("    volumes: [{type: bind, target: /etc}]\n", "volumes: type: bind"),
        ("    build: .\n", "service 'app': build: "),
        ("    extends: {file: other.yml, service: x}\n", "service 'app': extends: "),
        ("    env_file: .env\n", "service 'app': env_file: "),
        ("    cgroup_parent: /x\n", "cgroup_parent"),
    ] {
        let text = format!("{APP}{extra}");
        let p = refused(&text);
        assert!(p.iter().any(|m| m.contains(wanted)), "{extra:?}: {p:?}");
    }
    // The harmless forms of the same keys pass.
    for ok in ["    privileged: false\n", "    cap_add: []\n", "    network_mode: bridge\n", "    ipc: shareable\n", "    volumes: ['data:/data']\n"] {
        assert!(check(&format!("{APP}{ok}")).is_ok(), "{ok:?}");
    }
}

#[test]
fn top_level_host_access_is_refused() {
    let p = refused(&format!("{APP}volumes:\n  data:\n    driver: local\n    driver_opts: {{type: none, o: bind, device: /srv}}\n"));
    assert!(p[0].contains("volumes.data.driver_opts"), "{p:?}");
    assert!(refused(&format!("{APP}secrets:\n  key:\n    file: /root/.ssh/id_rsa\n"))[0].contains("secrets.key.file"));
    assert!(refused(&format!("{APP}configs:\n  c:\n    file: ./c.conf\n"))[0].contains("configs.c.file"));
    assert!(refused(&format!("include: [other.yml]\n{APP}"))[0].contains("include"));
}

#[test]
fn other_images_only_from_the_allow_list_and_never_interpolated() {
    let text = format!("{APP}  logs:\n    image: fluent/fluent-bit:3.1\n");
    assert!(refused(&text)[0].contains("service 'logs': image: fluent/fluent-bit:3.1: not the admitted image"));
    let policy = ComposePolicy { allowed_extra_images: vec!["fluent/fluent-bit:*".into()], ..ComposePolicy::default() };
    let s = check_compose(text.as_bytes(), &policy).unwrap();
    assert_eq!(s.extra_images, ["fluent/fluent-bit:3.1"]);
    let exact = ComposePolicy { allowed_extra_images: vec!["fluent/fluent-bit:3.0".into()], ..ComposePolicy::default() };
    assert!(check_compose(text.as_bytes(), &exact).is_err());
    // A bare "*" is not a wildcard for everything.
    let star = ComposePolicy { allowed_extra_images: vec!["*".into()], ..ComposePolicy::default() };
    assert!(check_compose(text.as_bytes(), &star).is_err());
    let p = refused(&format!("{APP}  side:\n    image: ${{SIDECAR_IMAGE}}\n"));
    assert!(p[0].contains("image chosen at run time"), "{p:?}");
}

#[test]
fn merge_keys_are_refused_because_compose_would_apply_them_unseen() {
    let text = "x-base: &base\n  privileged: true\nservices:\n  app:\n    <<: *base\n    image: ${AVIARY_IMAGE}\n";
    assert!(kinds(text).contains(&ProblemKind::MergeKey));
}

#[test]
fn a_hostile_file_gets_every_problem_at_once() {
    let text = r#"
services:
  app:
    image: ${AVIARY_IMAGE}
    privileged: true
    network_mode: host
    volumes: ["/:/host"]
  miner:
    image: evil/miner:latest
    pid: host
    cap_add: [ALL]
"#;
    let p = refused(text);
    assert_eq!(p.len(), 6, "{p:#?}");
    assert!(p.iter().any(|m| m.starts_with("service 'miner': image: evil/miner:latest")));
    assert!(p.iter().any(|m| m.starts_with("service 'app': volumes: /")));
}

#[test]
fn an_alias_bomb_is_refused_quickly() {
    let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (name, prev) in ["b", "c", "d", "e", "f", "g", "h"].iter().zip(["a", "b", "c", "d", "e", "f", "g"]) {
        text.push_str(&format!("{name}: &{name} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n", p = prev));
    }
    text.push_str(APP);
    let started = std::time::Instant::now();
    assert!(check(&text).is_err());
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}
