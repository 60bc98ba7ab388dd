//! One way to describe AWS SDK errors for logs and error values, shared by the AWS adapters.

use std::error::Error;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::RequestId;

/// `"<service> <operation> failed: <causes> (request id …)"`. Built from the error's chain of
/// causes, because `DisplayErrorContext` would append the error's `Debug` form, which carries the
/// raw HTTP response: when a response fails to parse, that body is item or message data, which
/// must never reach a message or a log.
pub(crate) fn describe<E: Error + 'static>(service: &str, operation: &str, e: &SdkError<E, HttpResponse>) -> String {
    let request_id = e
        .request_id()
        .map(|id| format!(" (request id {id})"))
        .unwrap_or_default();
    format!("{service} {operation} failed: {}{request_id}", chain(e))
}

/// An error and its causes, each said once.
pub(crate) fn chain(e: &(dyn Error + 'static)) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // The SDK's operation errors display their inner error, which is also their source.
        if !message.ends_with(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}
