//! otlpd as a Rust library: an OpenTelemetry collector (pipelines, the Arrow store, the query
//! functions) inside your process, over otlpd's C ABI (`include/otlpd/otlpd.h`). Standard
//! library only.
//!
//! ```no_run
//! let yaml = "receivers: {embedded: {}}\nexporters: {store: {directory: ./data}}\n\
//!             service: {telemetry: {metrics: {level: none}},\n\
//!             pipelines: {traces: {receivers: [embedded], exporters: [store]}}}\n";
//! let collector = otlpd::Collector::from_yaml(yaml).unwrap();
//! collector.start().unwrap();
//! # let encoded_request: Vec<u8> = vec![];
//! collector.export_traces(&encoded_request).unwrap();
//! collector.shutdown(std::time::Duration::from_secs(30)).unwrap();
//! let spans = otlpd::Store::open("./data").unwrap().trace("5b8efff798038103d269b633813fc60c");
//! ```
//!
//! [`Collector`] and [`Store`] are `Send + Sync`: every method may be called from any thread.

mod ffi;

use std::ffi::{CStr, CString};
use std::fmt;
use std::os::raw::{c_char, c_void};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;
use std::time::Duration;

/// What went wrong, with the message `otlpd serve` would print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Bad data or argument: retrying cannot help.
    InvalidArgument,
    /// The config does not validate; the message lists every error.
    Config,
    /// Refused for now (memory budget spent, busy): retry later.
    Retryable,
    NotRunning,
    NotFound,
    Io,
    DeadlineExceeded,
    Internal,
}

impl ErrorKind {
    fn from_code(code: ffi::otlpd_status) -> ErrorKind {
        match code {
            ffi::OTLPD_INVALID_ARGUMENT => ErrorKind::InvalidArgument,
            ffi::OTLPD_CONFIG_ERROR => ErrorKind::Config,
            ffi::OTLPD_RETRYABLE => ErrorKind::Retryable,
            ffi::OTLPD_NOT_RUNNING => ErrorKind::NotRunning,
            ffi::OTLPD_NOT_FOUND => ErrorKind::NotFound,
            ffi::OTLPD_IO_ERROR => ErrorKind::Io,
            ffi::OTLPD_DEADLINE_EXCEEDED => ErrorKind::DeadlineExceeded,
            _ => ErrorKind::Internal,
        }
    }
    fn code(self) -> ffi::otlpd_status {
        match self {
            ErrorKind::InvalidArgument => ffi::OTLPD_INVALID_ARGUMENT,
            ErrorKind::Config => ffi::OTLPD_CONFIG_ERROR,
            ErrorKind::Retryable => ffi::OTLPD_RETRYABLE,
            ErrorKind::NotRunning => ffi::OTLPD_NOT_RUNNING,
            ErrorKind::NotFound => ffi::OTLPD_NOT_FOUND,
            ErrorKind::Io => ffi::OTLPD_IO_ERROR,
            ErrorKind::DeadlineExceeded => ffi::OTLPD_DEADLINE_EXCEEDED,
            ErrorKind::Internal => ffi::OTLPD_INTERNAL,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T> = std::result::Result<T, Error>;

/// An otlpd_error on our side: its message is taken into a String and freed.
struct ErrorSlot(ffi::otlpd_error);

impl ErrorSlot {
    fn new() -> Self {
        ErrorSlot(ffi::otlpd_error {
            code: ffi::OTLPD_OK,
            message: ptr::null_mut(),
        })
    }
    fn take_message(&mut self) -> String {
        let m = if self.0.message.is_null() {
            String::new()
        } else {
            unsafe { CStr::from_ptr(self.0.message) }
                .to_string_lossy()
                .into_owned()
        };
        unsafe { ffi::otlpd_error_clear(&mut self.0) };
        m
    }
    fn check(&mut self, status: ffi::otlpd_status) -> Result<()> {
        let message = self.take_message();
        if status == ffi::OTLPD_OK {
            return Ok(());
        }
        Err(Error {
            kind: ErrorKind::from_code(status),
            message,
        })
    }
}

impl Drop for ErrorSlot {
    fn drop(&mut self) {
        unsafe { ffi::otlpd_error_clear(&mut self.0) };
    }
}

fn c_string(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error {
        kind: ErrorKind::InvalidArgument,
        message: "a string with a NUL byte".to_string(),
    })
}

/// The library's version, e.g. "0.1.0".
pub fn version() -> String {
    unsafe { CStr::from_ptr(ffi::otlpd_version()) }
        .to_string_lossy()
        .into_owned()
}

/// The C ABI version the library implements (this crate declares version 1).
pub fn abi_version() -> i32 {
    unsafe { ffi::otlpd_abi_version() }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Traces,
    Metrics,
    Logs,
}

impl Signal {
    fn code(self) -> ffi::otlpd_signal {
        match self {
            Signal::Traces => ffi::OTLPD_TRACES,
            Signal::Metrics => ffi::OTLPD_METRICS,
            Signal::Logs => ffi::OTLPD_LOGS,
        }
    }
    fn from_code(code: ffi::otlpd_signal) -> Signal {
        match code {
            ffi::OTLPD_METRICS => Signal::Metrics,
            ffi::OTLPD_LOGS => Signal::Logs,
            _ => Signal::Traces,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Protobuf,
    Json,
}

/// What a callback exporter's function returns for a batch it could not take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackError {
    /// Retry the batch later (backoff, as `retry_on_failure` says).
    Retry,
    /// Never: the batch is dropped (or dead-lettered).
    Permanent,
}

type CallbackFn = dyn Fn(Signal, Encoding, &[u8]) -> std::result::Result<(), CallbackError>
    + Send
    + Sync;

struct CallbackEntry {
    id: CString,
    function: Box<CallbackFn>,
}

extern "C" fn call_callback(
    user_data: *mut c_void,
    signal: ffi::otlpd_signal,
    encoding: ffi::otlpd_encoding,
    data: *const u8,
    size: usize,
) -> ffi::otlpd_status {
    // A panic must not unwind into C++: it counts as a permanent failure of the batch.
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let entry = unsafe { &*(user_data as *const CallbackEntry) };
        let bytes = if data.is_null() {
            &[][..]
        } else {
            unsafe { std::slice::from_raw_parts(data, size) }
        };
        let encoding = if encoding == ffi::OTLPD_JSON {
            Encoding::Json
        } else {
            Encoding::Protobuf
        };
        (entry.function)(Signal::from_code(signal), encoding, bytes)
    }));
    match outcome {
        Ok(Ok(())) => ffi::OTLPD_OK,
        Ok(Err(CallbackError::Retry)) => ffi::OTLPD_RETRYABLE,
        Ok(Err(CallbackError::Permanent)) | Err(_) => ffi::OTLPD_INVALID_ARGUMENT,
    }
}

/// Options of a collector: the functions of its `callback` exporters.
#[derive(Default)]
pub struct CollectorBuilder {
    callbacks: Vec<Box<CallbackEntry>>,
}

impl CollectorBuilder {
    /// The function of the `callback` exporter `exporter_id` ("callback", "callback/name"),
    /// called from the exporter's threads with each batch.
    pub fn callback<F>(mut self, exporter_id: &str, function: F) -> Result<Self>
    where
        F: Fn(Signal, Encoding, &[u8]) -> std::result::Result<(), CallbackError>
            + Send
            + Sync
            + 'static,
    {
        self.callbacks.push(Box::new(CallbackEntry {
            id: c_string(exporter_id)?,
            function: Box::new(function),
        }));
        Ok(self)
    }

    /// Validates `yaml` (None: the default config of `otlpd serve`); binds nothing yet.
    pub fn build(self, yaml: Option<&str>) -> Result<Collector> {
        let yaml = yaml.map(c_string).transpose()?;
        let entries: Vec<ffi::otlpd_callback> = self
            .callbacks
            .iter()
            .map(|e| ffi::otlpd_callback {
                exporter_id: e.id.as_ptr(),
                fn_: Some(call_callback),
                user_data: &**e as *const CallbackEntry as *mut c_void,
            })
            .collect();
        let options = ffi::otlpd_collector_options {
            callbacks: entries.as_ptr(),
            callback_count: entries.len(),
            ready_file: ptr::null(),
        };
        let mut handle: *mut ffi::otlpd_collector = ptr::null_mut();
        let mut err = ErrorSlot::new();
        let status = unsafe {
            ffi::otlpd_collector_new(
                yaml.as_ref().map_or(ptr::null(), |y| y.as_ptr()),
                &options,
                &mut handle,
                &mut err.0,
            )
        };
        err.check(status)?;
        Ok(Collector {
            handle,
            _callbacks: self.callbacks,
        })
    }
}

/// A collector running in this process. Dropping it shuts it down (draining its pipelines).
pub struct Collector {
    handle: *mut ffi::otlpd_collector,
    // Owned here, referenced by the C side until the handle is freed.
    _callbacks: Vec<Box<CallbackEntry>>,
}

// The C ABI is thread-safe on one handle; callbacks are Send + Sync.
unsafe impl Send for Collector {}
unsafe impl Sync for Collector {}

/// What an OTLP client would have been told on success.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportResult {
    /// Items that validation removed (a partial success), and why.
    pub rejected_items: i64,
    pub rejected_message: String,
}

impl Collector {
    /// A collector of `yaml`, validated as `otlpd validate` does.
    pub fn from_yaml(yaml: &str) -> Result<Collector> {
        CollectorBuilder::default().build(Some(yaml))
    }

    /// The default config of `otlpd serve` (OTLP on :4317/:4318, a store, the viewer).
    pub fn from_default() -> Result<Collector> {
        CollectorBuilder::default().build(None)
    }

    pub fn builder() -> CollectorBuilder {
        CollectorBuilder::default()
    }

    pub fn start(&self) -> Result<()> {
        let mut err = ErrorSlot::new();
        let status = unsafe { ffi::otlpd_collector_start(self.handle, &mut err.0) };
        err.check(status)
    }

    /// Drains every pipeline and stops; `ErrorKind::DeadlineExceeded` after `deadline`.
    pub fn shutdown(&self, deadline: Duration) -> Result<()> {
        let mut err = ErrorSlot::new();
        let ms = i64::try_from(deadline.as_millis()).unwrap_or(i64::MAX);
        let status = unsafe { ffi::otlpd_collector_shutdown(self.handle, ms, &mut err.0) };
        err.check(status)
    }

    pub fn reload(&self, yaml: &str) -> Result<()> {
        let yaml = c_string(yaml)?;
        let mut err = ErrorSlot::new();
        let status = unsafe { ffi::otlpd_collector_reload(self.handle, yaml.as_ptr(), &mut err.0) };
        err.check(status)
    }

    /// Delivers everything accepted so far (the pipelines restart).
    pub fn flush(&self) -> Result<()> {
        let mut err = ErrorSlot::new();
        let status = unsafe { ffi::otlpd_collector_flush(self.handle, &mut err.0) };
        err.check(status)
    }

    /// An encoded export request of `signal` (OTLP protobuf or OTLP/JSON) into the `embedded`
    /// receiver `receiver` (None: the only one).
    pub fn export(
        &self,
        signal: Signal,
        encoding: Encoding,
        data: &[u8],
        receiver: Option<&str>,
    ) -> Result<ExportResult> {
        let receiver = receiver.map(c_string).transpose()?;
        let mut err = ErrorSlot::new();
        let mut rejected: i64 = 0;
        let status = unsafe {
            ffi::otlpd_collector_export(
                self.handle,
                signal.code(),
                match encoding {
                    Encoding::Protobuf => ffi::OTLPD_PROTOBUF,
                    Encoding::Json => ffi::OTLPD_JSON,
                },
                data.as_ptr(),
                data.len(),
                receiver.as_ref().map_or(ptr::null(), |r| r.as_ptr()),
                &mut rejected,
                &mut err.0,
            )
        };
        let message = err.take_message();
        if status != ffi::OTLPD_OK {
            return Err(Error {
                kind: ErrorKind::from_code(status),
                message,
            });
        }
        Ok(ExportResult {
            rejected_items: rejected,
            rejected_message: message,
        })
    }

    /// An encoded ExportTraceServiceRequest (what every OTLP exporter sends).
    pub fn export_traces(&self, request: &[u8]) -> Result<ExportResult> {
        self.export(Signal::Traces, Encoding::Protobuf, request, None)
    }

    /// An OTLP/JSON trace export request.
    pub fn export_traces_json(&self, json: &str) -> Result<ExportResult> {
        self.export(Signal::Traces, Encoding::Json, json.as_bytes(), None)
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        // Shuts down and waits for the drain (callbacks included) before the callbacks go.
        unsafe { ffi::otlpd_collector_free(self.handle) };
    }
}

/// A span read back from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub service: String,
    pub name: String,
    pub kind: i32,
    pub start_unix_nano: i64,
    pub end_unix_nano: i64,
    pub status_code: i32,
    pub status_message: String,
    pub attributes: Vec<(String, String)>,
}

fn owned(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// A reader of a store directory (the `store` exporter's `directory`).
pub struct Store {
    handle: *mut ffi::otlpd_store,
}

unsafe impl Send for Store {}
unsafe impl Sync for Store {}

impl Store {
    pub fn open(directory: &str) -> Result<Store> {
        let directory = c_string(directory)?;
        let mut handle: *mut ffi::otlpd_store = ptr::null_mut();
        let mut err = ErrorSlot::new();
        let status = unsafe { ffi::otlpd_store_open(directory.as_ptr(), &mut handle, &mut err.0) };
        err.check(status)?;
        Ok(Store { handle })
    }

    /// Every span of one trace (1 to 32 hex digits); `ErrorKind::NotFound` if there is none.
    pub fn trace(&self, trace_id_hex: &str) -> Result<Vec<Span>> {
        let id = c_string(trace_id_hex)?;
        let mut list = ffi::otlpd_span_list {
            spans: ptr::null(),
            count: 0,
            internal: ptr::null_mut(),
        };
        let mut err = ErrorSlot::new();
        let status =
            unsafe { ffi::otlpd_store_trace(self.handle, id.as_ptr(), &mut list, &mut err.0) };
        err.check(status)?;
        let spans = (0..list.count)
            .map(|i| {
                let s = unsafe { &*list.spans.add(i) };
                let attributes = (0..s.attribute_count)
                    .map(|j| {
                        let a = unsafe { &*s.attributes.add(j) };
                        (owned(a.key), owned(a.value))
                    })
                    .collect();
                Span {
                    trace_id: owned(s.trace_id),
                    span_id: owned(s.span_id),
                    parent_span_id: owned(s.parent_span_id),
                    service: owned(s.service),
                    name: owned(s.name),
                    kind: s.kind,
                    start_unix_nano: s.start_unix_nano,
                    end_unix_nano: s.end_unix_nano,
                    status_code: s.status_code,
                    status_message: owned(s.status_message),
                    attributes,
                }
            })
            .collect();
        unsafe { ffi::otlpd_span_list_free(&mut list) };
        Ok(spans)
    }

    /// The same trace as one encoded ExportTraceServiceRequest.
    pub fn trace_otlp(&self, trace_id_hex: &str) -> Result<Vec<u8>> {
        let id = c_string(trace_id_hex)?;
        let mut buffer = ffi::otlpd_buffer {
            data: ptr::null_mut(),
            size: 0,
        };
        let mut err = ErrorSlot::new();
        let status = unsafe {
            ffi::otlpd_store_trace_otlp(self.handle, id.as_ptr(), &mut buffer, &mut err.0)
        };
        err.check(status)?;
        let bytes = unsafe { std::slice::from_raw_parts(buffer.data, buffer.size) }.to_vec();
        unsafe { ffi::otlpd_buffer_free(&mut buffer) };
        Ok(bytes)
    }

    /// Every service that has spans, sorted.
    pub fn services(&self) -> Result<Vec<String>> {
        let mut list = ffi::otlpd_string_list {
            items: ptr::null(),
            count: 0,
        };
        let mut err = ErrorSlot::new();
        let status = unsafe { ffi::otlpd_store_services(self.handle, &mut list, &mut err.0) };
        err.check(status)?;
        let out = (0..list.count)
            .map(|i| owned(unsafe { *list.items.add(i) }))
            .collect();
        unsafe { ffi::otlpd_string_list_free(&mut list) };
        Ok(out)
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        unsafe { ffi::otlpd_store_free(self.handle) };
    }
}

#[doc(hidden)]
pub fn _error_kind_code(kind: ErrorKind) -> i32 {
    kind.code()
}
