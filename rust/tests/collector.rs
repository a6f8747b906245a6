use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use otlpd::{CallbackError, Collector, Encoding, ErrorKind, Signal, Store};

// Just enough of the protobuf wire format to write an ExportTraceServiceRequest.
fn varint(mut v: u64, out: &mut Vec<u8>) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}
fn bytes_field(number: u32, bytes: &[u8], out: &mut Vec<u8>) {
    varint(((number as u64) << 3) | 2, out);
    varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}
fn fixed64_field(number: u32, v: u64, out: &mut Vec<u8>) {
    varint(((number as u64) << 3) | 1, out);
    out.extend_from_slice(&v.to_le_bytes());
}

fn request(trace_id: [u8; 16], spans: u8, service: &str) -> Vec<u8> {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
    let mut scope_spans = Vec::new();
    for i in 0..spans {
        let mut span = Vec::new();
        bytes_field(1, &trace_id, &mut span);
        bytes_field(2, &[9, 9, 9, 9, 9, 9, 9, i + 1], &mut span);
        bytes_field(5, format!("op-{}", i).as_bytes(), &mut span);
        fixed64_field(7, now - 1_000_000, &mut span);
        fixed64_field(8, now, &mut span);
        bytes_field(2, &span, &mut scope_spans);
    }
    let mut any = Vec::new();
    bytes_field(1, service.as_bytes(), &mut any);
    let mut kv = Vec::new();
    bytes_field(1, b"service.name", &mut kv);
    bytes_field(2, &any, &mut kv);
    let mut resource = Vec::new();
    bytes_field(1, &kv, &mut resource);
    let mut resource_spans = Vec::new();
    bytes_field(1, &resource, &mut resource_spans);
    bytes_field(2, &scope_spans, &mut resource_spans);
    let mut out = Vec::new();
    bytes_field(1, &resource_spans, &mut out);
    out
}

fn temp_dir(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("otlpd-rust-{}-{}", name, std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir.to_string_lossy().into_owned()
}

fn store_config(dir: &str) -> String {
    format!(
        "receivers:\n  embedded:\nexporters:\n  store:\n    directory: {}\n  callback:\n\
         service:\n  telemetry: {{metrics: {{level: none}}}}\n  pipelines:\n    traces:\n\
         \x20     receivers: [embedded]\n      exporters: [store, callback]\n",
        dir
    )
}

#[test]
fn version_and_abi() {
    assert!(!otlpd::version().is_empty());
    assert_eq!(otlpd::abi_version(), 1);
}

#[test]
fn invalid_config_is_a_config_error() {
    let err = Collector::from_yaml(
        "receivers: {embedded: {port: 1}}\nexporters: {nop: {}}\n\
         service: {pipelines: {traces: {receivers: [embedded], exporters: [nop]}}}\n",
    )
    .err()
    .unwrap();
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(err.message.contains("receivers.embedded.port"), "{}", err.message);
}

#[test]
fn export_then_read_the_trace_back_from_the_store() {
    let dir = temp_dir("roundtrip");
    let batches = Arc::new(AtomicUsize::new(0));
    let seen = batches.clone();
    let collector = Collector::builder()
        .callback("callback", move |signal, encoding, data| {
            assert_eq!(signal, Signal::Traces);
            assert_eq!(encoding, Encoding::Protobuf);
            assert!(!data.is_empty());
            seen.fetch_add(1, Ordering::SeqCst);
            Ok(())
        })
        .unwrap()
        .build(Some(&store_config(&dir)))
        .unwrap();
    collector.start().unwrap();
    let result = collector.export_traces(&request([7; 16], 3, "rusty")).unwrap();
    assert_eq!(result.rejected_items, 0);
    let bad = collector.export_traces(&[0xff, 0xff, 0xff]).unwrap_err();
    assert_eq!(bad.kind, ErrorKind::InvalidArgument);
    collector.shutdown(Duration::from_secs(30)).unwrap();
    assert_eq!(batches.load(Ordering::SeqCst), 1);
    let after = collector.export_traces(&request([7; 16], 1, "rusty")).unwrap_err();
    assert_eq!(after.kind, ErrorKind::NotRunning);
    drop(collector);

    let store = Store::open(&dir).unwrap();
    let spans = store.trace("07070707070707070707070707070707").unwrap();
    assert_eq!(spans.len(), 3);
    assert_eq!(spans[0].service, "rusty");
    assert_eq!(spans[0].name, "op-0");
    assert!(!store.trace_otlp("07070707070707070707070707070707").unwrap().is_empty());
    assert_eq!(store.services().unwrap(), vec!["rusty".to_string()]);
    assert_eq!(store.trace("0808").unwrap_err().kind, ErrorKind::NotFound);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_panicking_callback_is_an_error_not_a_crash() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    let collector = Collector::builder()
        .callback("callback", move |_, _, _| {
            counted.fetch_add(1, Ordering::SeqCst);
            if counted.load(Ordering::SeqCst) > 0 {
                panic!("boom");
            }
            Err(CallbackError::Retry)
        })
        .unwrap()
        .build(Some(
            "receivers: {embedded: {}}\nexporters: {callback: {}}\nservice:\n  telemetry: \
             {metrics: {level: none}}\n  pipelines: {traces: {receivers: [embedded], exporters: \
             [callback]}}\n",
        ))
        .unwrap();
    collector.start().unwrap();
    collector.export_traces(&request([3; 16], 1, "x")).unwrap();
    collector.shutdown(Duration::from_secs(30)).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1); // permanent: not retried
}

#[test]
fn many_threads_export_at_once() {
    let dir = temp_dir("threads");
    let collector = Arc::new(
        Collector::builder()
            .callback("callback", |_, _, _| Ok(()))
            .unwrap()
            .build(Some(&store_config(&dir)))
            .unwrap(),
    );
    collector.start().unwrap();
    let threads: Vec<_> = (0..4u8)
        .map(|t| {
            let c = collector.clone();
            std::thread::spawn(move || {
                for _ in 0..25 {
                    c.export_traces(&request([t + 1; 16], 2, "threads")).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    collector.shutdown(Duration::from_secs(30)).unwrap();
    let store = Store::open(&dir).unwrap();
    assert_eq!(store.trace("01010101010101010101010101010101").unwrap().len(), 50);
    let _ = std::fs::remove_dir_all(&dir);
}
