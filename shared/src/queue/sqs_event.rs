//! The two ends of an SQS-triggered Lambda: the event's records as messages, and the failed
//! messages as the batch response, so that only they are delivered again.

use aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};

use super::Message;

/// The event's records as messages. A record without an id could not be reported as failed;
/// SQS always sends one.
pub fn messages(event: SqsEvent) -> Vec<Message> {
    event
        .records
        .into_iter()
        .filter_map(|r| {
            Some(Message {
                id: r.message_id?,
                body: r.body.unwrap_or_default(),
            })
        })
        .collect()
}

/// The response that reports `failed` (message ids) as the batch's item failures.
pub fn batch_response(failed: Vec<String>) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    response.batch_item_failures = failed
        .into_iter()
        .map(|item_identifier| {
            let mut f = BatchItemFailure::default();
            f.item_identifier = item_identifier;
            f
        })
        .collect();
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_lambda_events::sqs::SqsMessage;

    #[test]
    fn records_become_messages_and_failures_the_response() {
        let mut event = SqsEvent::default();
        let mut with_id = SqsMessage::default();
        with_id.message_id = Some("m1".into());
        with_id.body = Some("{}".into());
        event.records = vec![with_id, SqsMessage::default()];
        let got = messages(event);
        assert_eq!((got.len(), got[0].id.as_str(), got[0].body.as_str()), (1, "m1", "{}"));
        let response = batch_response(vec!["m1".into()]);
        assert_eq!(response.batch_item_failures[0].item_identifier, "m1");
    }
}
