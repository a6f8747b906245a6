//! The C ABI of include/otlpd/otlpd.h, declared by hand (OTLPD_ABI_VERSION 1).
#![allow(non_camel_case_types, dead_code)]

use std::os::raw::{c_char, c_int, c_void};

pub type otlpd_status = c_int;
pub const OTLPD_OK: otlpd_status = 0;
pub const OTLPD_INVALID_ARGUMENT: otlpd_status = 1;
pub const OTLPD_CONFIG_ERROR: otlpd_status = 2;
pub const OTLPD_RETRYABLE: otlpd_status = 3;
pub const OTLPD_NOT_RUNNING: otlpd_status = 4;
pub const OTLPD_NOT_FOUND: otlpd_status = 5;
pub const OTLPD_IO_ERROR: otlpd_status = 6;
pub const OTLPD_DEADLINE_EXCEEDED: otlpd_status = 7;
pub const OTLPD_INTERNAL: otlpd_status = 8;

pub type otlpd_signal = c_int;
pub const OTLPD_TRACES: otlpd_signal = 0;
pub const OTLPD_METRICS: otlpd_signal = 1;
pub const OTLPD_LOGS: otlpd_signal = 2;

pub type otlpd_encoding = c_int;
pub const OTLPD_PROTOBUF: otlpd_encoding = 0;
pub const OTLPD_JSON: otlpd_encoding = 1;

#[repr(C)]
pub struct otlpd_error {
    pub code: otlpd_status,
    pub message: *mut c_char,
}

#[repr(C)]
pub struct otlpd_buffer {
    pub data: *mut u8,
    pub size: usize,
}

#[repr(C)]
pub struct otlpd_collector {
    _private: [u8; 0],
}
#[repr(C)]
pub struct otlpd_store {
    _private: [u8; 0],
}

pub type otlpd_export_fn = extern "C" fn(
    user_data: *mut c_void,
    signal: otlpd_signal,
    encoding: otlpd_encoding,
    data: *const u8,
    size: usize,
) -> otlpd_status;

#[repr(C)]
pub struct otlpd_callback {
    pub exporter_id: *const c_char,
    pub fn_: Option<otlpd_export_fn>,
    pub user_data: *mut c_void,
}

#[repr(C)]
pub struct otlpd_collector_options {
    pub callbacks: *const otlpd_callback,
    pub callback_count: usize,
    pub ready_file: *const c_char,
}

#[repr(C)]
pub struct otlpd_attribute {
    pub key: *const c_char,
    pub value: *const c_char,
}

#[repr(C)]
pub struct otlpd_span {
    pub trace_id: *const c_char,
    pub span_id: *const c_char,
    pub parent_span_id: *const c_char,
    pub service: *const c_char,
    pub name: *const c_char,
    pub kind: c_int,
    pub start_unix_nano: i64,
    pub end_unix_nano: i64,
    pub status_code: c_int,
    pub status_message: *const c_char,
    pub attributes: *const otlpd_attribute,
    pub attribute_count: usize,
}

#[repr(C)]
pub struct otlpd_span_list {
    pub spans: *const otlpd_span,
    pub count: usize,
    pub internal: *mut c_void,
}

#[repr(C)]
pub struct otlpd_string_list {
    pub items: *const *const c_char,
    pub count: usize,
}

extern "C" {
    pub fn otlpd_error_clear(err: *mut otlpd_error);
    pub fn otlpd_version() -> *const c_char;
    pub fn otlpd_abi_version() -> c_int;
    pub fn otlpd_status_name(status: otlpd_status) -> *const c_char;
    pub fn otlpd_buffer_free(buffer: *mut otlpd_buffer);

    pub fn otlpd_collector_new(
        yaml: *const c_char,
        options: *const otlpd_collector_options,
        out: *mut *mut otlpd_collector,
        err: *mut otlpd_error,
    ) -> otlpd_status;
    pub fn otlpd_collector_start(c: *mut otlpd_collector, err: *mut otlpd_error) -> otlpd_status;
    pub fn otlpd_collector_shutdown(
        c: *mut otlpd_collector,
        deadline_ms: i64,
        err: *mut otlpd_error,
    ) -> otlpd_status;
    pub fn otlpd_collector_reload(
        c: *mut otlpd_collector,
        yaml: *const c_char,
        err: *mut otlpd_error,
    ) -> otlpd_status;
    pub fn otlpd_collector_flush(c: *mut otlpd_collector, err: *mut otlpd_error) -> otlpd_status;
    pub fn otlpd_collector_export(
        c: *mut otlpd_collector,
        signal: otlpd_signal,
        encoding: otlpd_encoding,
        data: *const u8,
        size: usize,
        receiver: *const c_char,
        rejected_items: *mut i64,
        err: *mut otlpd_error,
    ) -> otlpd_status;
    pub fn otlpd_collector_free(c: *mut otlpd_collector);

    pub fn otlpd_store_open(
        directory: *const c_char,
        out: *mut *mut otlpd_store,
        err: *mut otlpd_error,
    ) -> otlpd_status;
    pub fn otlpd_store_free(store: *mut otlpd_store);
    pub fn otlpd_store_trace(
        store: *mut otlpd_store,
        trace_id_hex: *const c_char,
        out: *mut otlpd_span_list,
        err: *mut otlpd_error,
    ) -> otlpd_status;
    pub fn otlpd_store_trace_otlp(
        store: *mut otlpd_store,
        trace_id_hex: *const c_char,
        out: *mut otlpd_buffer,
        err: *mut otlpd_error,
    ) -> otlpd_status;
    pub fn otlpd_store_services(
        store: *mut otlpd_store,
        out: *mut otlpd_string_list,
        err: *mut otlpd_error,
    ) -> otlpd_status;
    pub fn otlpd_span_list_free(list: *mut otlpd_span_list);
    pub fn otlpd_string_list_free(list: *mut otlpd_string_list);
}
